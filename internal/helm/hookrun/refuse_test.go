package hookrun_test

import (
	"context"
	"errors"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
)

// TestRefused: bad input is refused with one message naming the culprit,
// before anything is created (a valid hook of the same phase included).
func TestRefused(t *testing.T) {
	ns := namespace(t)
	valid := func(t *testing.T) helm.Hook { return hook(t, "pre-install,test", 0, "", configMap("valid")) }
	tests := []struct {
		name    string
		event   string
		hook    func(t *testing.T) helm.Hook
		release string
		want    string
	}{{
		name:  "test event",
		event: helm.TestHook,
		hook:  valid,
		want:  `hook event "test": test hooks never run on apply (they are for helm test)`,
	}, {
		name:  "unknown delete policy",
		event: helm.PreInstall,
		hook:  func(t *testing.T) helm.Hook { return hook(t, "pre-install", 0, "hook-succeded", configMap("typo")) },
		want:  "hook ConfigMap typo (pre-install, from web/templates/typo.yaml) has unknown delete policy \"hook-succeded\" (want before-hook-creation, hook-succeeded, hook-failed)",
	}, {
		name:  "no name",
		event: helm.PreInstall,
		hook: func(t *testing.T) helm.Hook {
			return hook(t, "pre-install", 0, "", `{apiVersion: v1, kind: ConfigMap, metadata: {generateName: x-}}`)
		},
		want: "hook ConfigMap (no name) (pre-install, from web/templates/.yaml) has no metadata.name (generateName would make a new object every run, which no delete policy finds again)",
	}, {
		name:  "kind not served",
		event: helm.PreInstall,
		hook: func(t *testing.T) helm.Hook {
			return hook(t, "pre-install", 0, "", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}`)
		},
		want: `hook Widget w (pre-install, from web/templates/w.yaml) has kind Widget of example.com/v1, which the cluster does not serve`,
	}, {
		name:    "release name too long for a label",
		event:   helm.PreInstall,
		hook:    valid,
		release: "a-release-name-that-is-far-too-long-to-be-a-label-value-in-kubernetes",
		want:    `hook runner: release name "a-release-name-that-is-far-too-long-to-be-a-label-value-in-kubernetes" cannot be a label value: must be no more than 63 bytes`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runner(ns)
			if tt.release != "" {
				r.Release = tt.release
			}
			hooks := []helm.Hook{valid(t), tt.hook(t)}
			res, err := r.Run(t.Context(), tt.event, hooks)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Run error = %v\nwant %s", err, tt.want)
			}
			if len(res) != 0 {
				t.Errorf("results = %+v, want none", res)
			}
			var cms corev1.ConfigMapList
			if err := k8s.List(t.Context(), &cms, client.InNamespace(ns), client.HasLabels{hookrun.LabelHookOf}); err != nil {
				t.Fatal(err)
			}
			if len(cms.Items) != 0 {
				t.Errorf("%d hook objects were created", len(cms.Items))
			}
		})
	}
}

// TestNotOurs: an existing object of a hook's name is replaced only if it
// is a hook of this release, or a hook Helm made (annotation, no label);
// anything else fails the hook, naming it, and is left as it was.
func TestNotOurs(t *testing.T) {
	ns := namespace(t)
	tests := []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		want        string // "" means replaced
	}{{
		name: "an ordinary object",
		want: "hook ConfigMap " + ns + "/settings (pre-install, from web/templates/settings.yaml) cannot replace the existing object: it is not a hook (no helm.sh/hook annotation)",
	}, {
		name:   "a hook of another release",
		labels: map[string]string{hookrun.LabelHookOf: "api", hookrun.LabelHookOfNamespace: ns},
		want:   "hook ConfigMap " + ns + "/settings (pre-install, from web/templates/settings.yaml) cannot replace the existing object: it is a hook of release " + ns + "/api",
	}, {
		name:   "a hook of a release of that name in another namespace",
		labels: map[string]string{hookrun.LabelHookOf: "web", hookrun.LabelHookOfNamespace: "elsewhere"},
		want:   "hook ConfigMap " + ns + "/settings (pre-install, from web/templates/settings.yaml) cannot replace the existing object: it is a hook of release elsewhere/web",
	}, {
		name:        "a hook Helm made",
		annotations: map[string]string{"helm.sh/hook": "pre-install"},
	}, {
		name:   "a hook of this release",
		labels: map[string]string{hookrun.LabelHookOf: "web", hookrun.LabelHookOfNamespace: ns},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns, Labels: tt.labels, Annotations: tt.annotations},
				Data:       map[string]string{"old": "yes"},
			}
			if err := k8s.Create(t.Context(), old); err != nil {
				t.Fatal(err)
			}
			// t.Context() has ended by the time cleanups run.
			t.Cleanup(func() {
				_ = k8s.Delete(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}})
			})
			res, err := runner(ns).Run(t.Context(), helm.PreInstall, []helm.Hook{hook(t, "pre-install", 0, "", configMap("settings"))})
			var live corev1.ConfigMap
			if !exists(t, &live, ns, "settings") {
				t.Fatal("ConfigMap settings is gone")
			}
			if tt.want == "" {
				if err != nil || len(res) != 1 || !res[0].Replaced {
					t.Fatalf("Run = %+v, %v; want settings replaced", res, err)
				}
				if live.UID == old.UID || live.Data["old"] != "" {
					t.Errorf("ConfigMap settings was not replaced: %+v", live)
				}
				return
			}
			var he *hookrun.HookError
			if err == nil || err.Error() != tt.want || !errors.As(err, &he) || he.Reason != hookrun.ReasonConflict {
				t.Fatalf("Run error = %v\nwant %s (reason Conflict)", err, tt.want)
			}
			if live.UID != old.UID || live.Data["old"] != "yes" || live.ResourceVersion != old.ResourceVersion {
				t.Errorf("ConfigMap settings was changed: %+v", live)
			}
		})
	}
}

// TestRemove deletes what is left of a release's hooks, and nothing that
// is not one of them.
func TestRemove(t *testing.T) {
	ns := namespace(t)
	r := runner(ns)
	hooks := []helm.Hook{
		hook(t, "pre-install", 0, "", job("migrate", "", "")),
		hook(t, "post-install", 0, "", configMap("settings")),
		hook(t, "pre-delete", 0, "", configMap("never-ran")),
	}
	if _, err := r.Run(t.Context(), helm.PreInstall, hooks); err != nil {
		t.Fatal(err)
	}
	// An ordinary object of a hook's name stays.
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}}
	if err := k8s.Create(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	removed, err := r.Remove(t.Context(), hooks)
	if err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if len(removed) != 1 || removed[0].String() != "Job/"+ns+"/migrate" {
		t.Errorf("removed %v, want only Job migrate", removed)
	}
	if exists(t, &batchv1.Job{}, ns, "migrate") {
		t.Error("Job migrate is still there")
	}
	if !exists(t, &corev1.ConfigMap{}, ns, "settings") {
		t.Error("the ordinary ConfigMap settings was removed")
	}
}
