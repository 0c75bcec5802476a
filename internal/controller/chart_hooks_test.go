package controller_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
)

// hookChart is webChart with a pre-install/pre-upgrade hook and a
// post-install hook, both ConfigMaps (this control plane runs no Job
// controller; hookrun's own tests run Jobs on the full profile).
func hookChart(extra map[string]string) map[string]string {
	files := webChart(map[string]string{
		// No .Release.IsUpgrade here: the second render would differ from
		// the first by it, a new release with hooks of its own.
		"charts/web/templates/config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | quote }}
`,
		"charts/web/templates/hooks.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-pre
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-1"
data:
  greeting: {{ .Values.greeting | quote }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-post
  annotations:
    helm.sh/hook: post-install
data: {}
`,
	})
	for k, v := range extra {
		files[k] = v
	}
	return files
}

// TestChartHooks: hooks run around the apply of a new release and are
// not part of it (not in the inventory); a resync that applies the same
// release runs none; an upgrade runs the upgrade hooks only.
func TestChartHooks(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("chart", hookChart(nil))
	f.source()
	f.app("web", "charts/web", nil)
	app := f.waitReady("web", rev)
	pre, post := f.configMap("web-pre"), f.configMap("web-post")
	if pre == nil || post == nil {
		t.Fatalf("install hooks not run: pre %v, post %v", pre != nil, post != nil)
	}
	if pre.Labels[hookrun.LabelHookOf] != "web" {
		t.Errorf("hook labels %v", pre.Labels)
	}
	for _, ref := range app.Status.Inventory {
		if strings.HasPrefix(ref.Name, "web-p") {
			t.Errorf("hook %s is in the inventory", ref.Name)
		}
	}

	// The same release again: no hook runs.
	v := annotate(t, &cruisev1.Application{}, types.NamespacedName{Namespace: f.ns, Name: "web"})
	f.eventually("forced sync handled", func() (bool, string) {
		app := f.getApp("web")
		return app.Status.LastHandledReconcileAt == v, app.Status.LastHandledReconcileAt
	})
	if again := f.configMap("web-pre"); again.UID != pre.UID {
		t.Error("a resync of the same release ran the pre-install hook again")
	}

	// A new release: pre-upgrade replaces the hook (before-hook-creation);
	// post-install does not run again.
	if err := k8s.Delete(t.Context(), post); err != nil {
		t.Fatal(err)
	}
	rev = f.commit("greet", hookChart(map[string]string{"charts/web/values.yaml": "greeting: hi\n"}))
	f.requestFetch(rev)
	f.waitReady("web", rev)
	upgraded := f.configMap("web-pre")
	if upgraded.UID == pre.UID || upgraded.Data["greeting"] != "hi" {
		t.Errorf("pre-upgrade hook not rerun: greeting %q", upgraded.Data["greeting"])
	}
	if f.configMap("web-post") != nil {
		t.Error("the post-install hook ran on an upgrade")
	}
}

// TestChartFailedPreHookAppliesNothing: a pre-install hook that cannot be
// created (a kind the cluster does not serve) fails the sync naming the
// hook, and nothing of the release is applied.
func TestChartFailedPreHookAppliesNothing(t *testing.T) {
	f := newFixture(t)
	f.commit("chart", webChart(map[string]string{"charts/web/templates/hook.yaml": `apiVersion: example.com/v1
kind: Gadget
metadata:
  name: prepare
  annotations:
    helm.sh/hook: pre-install
`}))
	f.source()
	f.app("web", "charts/web", nil)
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonHookFailed)
	if msg := readyCondition(app).Message; !strings.Contains(msg, "Gadget") || !strings.Contains(msg, "prepare") {
		t.Errorf("message %q should name the hook", msg)
	}
	if f.configMap("web-config") != nil || slices.ContainsFunc(app.Status.Inventory, func(r cruisev1.ObjectRef) bool { return r.Kind == "ConfigMap" }) {
		t.Error("the release was applied after its pre-install hook failed")
	}
}

// TestChartInvalidReleaseRunsNoHook: a release the API server refuses
// (an object of a kind it does not serve) fails validation before its
// pre-install hook runs.
func TestChartInvalidReleaseRunsNoHook(t *testing.T) {
	f := newFixture(t)
	f.commit("chart", hookChart(map[string]string{"charts/web/templates/bad.yaml": "apiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: bad\n"}))
	f.source()
	f.app("web", "charts/web", nil)
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonValidationFailed)
	if msg := readyCondition(app).Message; !strings.Contains(msg, "Gizmo") {
		t.Errorf("message %q should name the object", msg)
	}
	if f.configMap("web-pre") != nil {
		t.Error("the pre-install hook ran for a release the API server refuses")
	}
}

// TestChartDeleteHooks: deleting a chart's Application runs its
// pre-delete hooks before the prune and its post-delete hooks after, then
// removes every hook object the release left, as well as its objects.
func TestChartDeleteHooks(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("chart", hookChart(map[string]string{"charts/web/templates/delete-hooks.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cleanup
  annotations:
    helm.sh/hook: pre-delete,post-delete
data: {}
`}))
	f.source()
	f.app("web", "charts/web", nil)
	f.waitReady("web", rev)
	if f.configMap("web-pre") == nil || f.configMap("web-cleanup") != nil {
		t.Fatal("install hooks not as expected before the delete")
	}
	app := f.getApp("web")
	if err := k8s.Delete(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	f.eventually("Application gone", func() (bool, string) {
		err := k8s.Get(t.Context(), types.NamespacedName{Namespace: f.ns, Name: "web"}, &cruisev1.Application{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	for _, name := range []string{"web-config", "web-pre", "web-post", "web-cleanup"} {
		if f.configMap(name) != nil {
			t.Errorf("ConfigMap %s left after the Application was deleted", name)
		}
	}
	var got string
	wants := []string{"pre-install hooks: ConfigMap/" + f.ns + "/web-pre", "pre-delete hooks: ConfigMap/" + f.ns + "/web-cleanup", "post-delete hooks: ConfigMap/" + f.ns + "/web-cleanup"}
	// Events are sent asynchronously.
	f.eventually("events of the install and delete hooks", func() (bool, string) {
		var messages []string
		for _, e := range f.events("web", "HooksRun") {
			messages = append(messages, e.Note)
		}
		got = strings.Join(messages, " | ")
		for _, want := range wants {
			if !strings.Contains(got, want) {
				return false, got
			}
		}
		return true, got
	})
	if pre, post := strings.Index(got, "pre-delete"), strings.Index(got, "post-delete"); pre > post {
		t.Errorf("post-delete ran before pre-delete: %q", got)
	}
}
