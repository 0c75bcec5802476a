package controller_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

func TestSyncCommitPruneAndSelfHeal(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{
		"app/a.yaml": cmYAML("a", "one"),
		"app/b.yaml": cmYAML("b", "one"),
	})
	f.source()
	f.app("web", "app", nil)
	app := f.waitReady("web", first)
	if f.configMap("a") == nil || f.configMap("b") == nil {
		t.Fatal("first sync did not create both ConfigMaps")
	}
	if len(app.Status.Inventory) != 2 || len(app.Status.History) != 1 || app.Status.History[0].Message != "first" {
		t.Errorf("status after first sync: inventory %v, history %v", app.Status.Inventory, app.Status.History)
	}

	// A manual edit of a managed field is reverted.
	cm := f.configMap("a")
	cm.Data["value"] = "edited-by-hand"
	if err := k8s.Update(t.Context(), cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	f.eventually("edit of ConfigMap a reverted", func() (bool, string) {
		cm := f.configMap("a")
		return cm != nil && cm.Data["value"] == "one", cm.Data["value"]
	})

	// A deleted managed object is recreated.
	if err := k8s.Delete(t.Context(), f.configMap("b")); err != nil {
		t.Fatal(err)
	}
	f.eventually("ConfigMap b recreated", func() (bool, string) {
		return f.configMap("b") != nil, "missing"
	})

	// A new commit changes a and drops b: a is updated, b pruned.
	second := f.commit("second", map[string]string{"app/a.yaml": cmYAML("a", "two")})
	f.requestFetch(second)
	app = f.waitReady("web", second)
	if got := f.configMap("a").Data["value"]; got != "two" {
		t.Errorf("a = %q after the second commit, want two", got)
	}
	f.eventually("ConfigMap b pruned", func() (bool, string) {
		return f.configMap("b") == nil, "still there"
	})
	if len(app.Status.Inventory) != 1 || app.Status.History[0].Message != "second" || app.Status.History[0].Result != "Succeeded" {
		t.Errorf("status after second sync: inventory %v, history %v", app.Status.Inventory, app.Status.History)
	}
}

func TestBadCommitKeepsLastGoodStateAndRecovers(t *testing.T) {
	f := newFixture(t)
	good := f.commit("good", map[string]string{"app/a.yaml": cmYAML("a", "good")})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", good)

	bad := f.commit("broken yaml", map[string]string{"app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n data: [\n"})
	f.requestFetch(bad)
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
	if !isStalled(app) {
		t.Errorf("a render failure should stall: %v", app.Status.Conditions)
	}
	if got := f.configMap("a").Data["value"]; got != "good" {
		t.Errorf("a = %q after a bad commit, want the last good value", got)
	}
	if app.Status.History[0].Result != "Failed" || app.Status.LastAppliedRevision == app.Status.LastAttemptedRevision {
		t.Errorf("history/revisions do not show the failure: %+v / %s vs %s", app.Status.History[0], app.Status.LastAppliedRevision, app.Status.LastAttemptedRevision)
	}

	fixed := f.commit("fixed", map[string]string{"app/a.yaml": cmYAML("a", "fixed")})
	f.requestFetch(fixed)
	f.waitReady("web", fixed)
	if got := f.configMap("a").Data["value"]; got != "fixed" {
		t.Errorf("a = %q after the fix, want fixed", got)
	}
}

func TestSuspendStopsChanges(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", first)

	setSuspend(t, f, true)
	second := f.commit("second", map[string]string{"app/a.yaml": cmYAML("a", "two")})
	f.requestFetch(second)
	// A reconcile request is handled while suspended: it must change nothing.
	v := annotate(t, &cruisev1.Application{}, types.NamespacedName{Namespace: f.ns, Name: "web"})
	f.eventually("suspended Application handled the request", func() (bool, string) {
		app := f.getApp("web")
		return app.Status.LastHandledReconcileAt == v, app.Status.LastHandledReconcileAt
	})
	cm := f.configMap("a")
	cm.Data["value"] = "manual"
	if err := k8s.Update(t.Context(), cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	v = annotate(t, &cruisev1.Application{}, types.NamespacedName{Namespace: f.ns, Name: "web"})
	f.eventually("suspended Application handled the second request", func() (bool, string) {
		app := f.getApp("web")
		return app.Status.LastHandledReconcileAt == v, app.Status.LastHandledReconcileAt
	})
	if got := f.configMap("a").Data["value"]; got != "manual" {
		t.Fatalf("a = %q while suspended: neither the commit nor the drift may be applied", got)
	}

	setSuspend(t, f, false)
	f.waitReady("web", second)
	if got := f.configMap("a").Data["value"]; got != "two" {
		t.Errorf("a = %q after resume, want two", got)
	}
}

func setSuspend(t *testing.T, f *fixture, suspend bool) {
	t.Helper()
	app := f.getApp("web")
	patch := client.MergeFrom(app.DeepCopy())
	app.Spec.Suspend = suspend
	if err := k8s.Patch(t.Context(), app, patch); err != nil {
		t.Fatal(err)
	}
}

func TestDependsOn(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("apps", map[string]string{
		"base/a.yaml": cmYAML("base", "x"),
		"app/b.yaml":  cmYAML("app", "y"),
	})
	f.source()
	f.app("app", "app", func(s *cruisev1.ApplicationSpec) {
		s.DependsOn = []cruisev1.DependencyReference{{Name: "base"}}
	})
	f.waitCondition("app", metav1.ConditionFalse, cruisev1.ReasonDependencyNotReady)
	if f.configMap("app") != nil {
		t.Fatal("Application applied before its dependency was Ready")
	}
	f.app("base", "base", nil)
	base := f.waitReady("base", rev)
	app := f.waitReady("app", rev)
	if !app.Status.History[0].Time.After(base.Status.History[0].Time.Time) && !app.Status.History[0].Time.Equal(&base.Status.History[0].Time) {
		t.Errorf("dependent synced at %v, before its dependency at %v", app.Status.History[0].Time, base.Status.History[0].Time)
	}
}

func TestServiceAccountWithoutRBACAppliesNothing(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("apps", map[string]string{"app/a.yaml": cmYAML("a", "x")})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: f.ns}}
	if err := k8s.Create(t.Context(), sa); err != nil {
		t.Fatal(err)
	}
	f.source()
	f.app("web", "app", func(s *cruisev1.ApplicationSpec) { s.ServiceAccountName = "tenant" })
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonForbidden)
	if !isStalled(app) {
		t.Errorf("missing RBAC should stall: %v", app.Status.Conditions)
	}
	if f.configMap("a") != nil {
		t.Fatal("object applied without the ServiceAccount's permission")
	}
	_ = rev
}

func TestCommitElsewhereIsNotApplied(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{
		"one/a.yaml": cmYAML("a", "x"),
		"two/b.yaml": cmYAML("b", "x"),
	})
	f.source()
	f.app("one", "one", nil)
	f.app("two", "two", nil)
	f.waitReady("one", first)
	before := f.waitReady("two", first)
	rv := f.configMap("b").ResourceVersion

	second := f.commit("only one changes", map[string]string{
		"one/a.yaml": cmYAML("a", "y"),
		"two/b.yaml": cmYAML("b", "x"),
	})
	f.requestFetch(second)
	f.waitReady("one", second)
	after := f.waitReady("two", second)
	if len(after.Status.History) != len(before.Status.History) {
		t.Errorf("Application two synced for a commit that does not touch it: history %d -> %d", len(before.Status.History), len(after.Status.History))
	}
	if f.configMap("b").ResourceVersion != rv {
		t.Error("object of Application two was written")
	}
}

func isStalled(app *cruisev1.Application) bool {
	for _, c := range app.Status.Conditions {
		if c.Type == cruisev1.ConditionStalled && c.Status == metav1.ConditionTrue {
			return true
		}
	}
	return false
}

func TestReconcileRequestIsHandled(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", rev)
	v := annotate(t, &cruisev1.Application{}, types.NamespacedName{Namespace: f.ns, Name: "web"})
	f.eventually("request handled", func() (bool, string) {
		app := f.getApp("web")
		return app.Status.LastHandledReconcileAt == v, app.Status.LastHandledReconcileAt
	})
}

// With selfHeal off, drift at the same revision is only reported, but a
// change of the Application's own spec is still applied: it is a change
// in Git's intent, not a change made in the cluster.
func TestSelfHealOffStillAppliesSpecChanges(t *testing.T) {
	f := newFixture(t)
	commit := f.commit("two apps", map[string]string{
		"a/cm.yaml": cmYAML("a", "one"),
		"b/cm.yaml": cmYAML("b", "one"),
	})
	f.source()
	off := false
	f.app("web", "a", func(s *cruisev1.ApplicationSpec) { s.SelfHeal = &off })
	f.waitReady("web", commit)

	app := f.getApp("web")
	patch := client.MergeFrom(app.DeepCopy())
	app.Spec.Path = "b"
	if err := k8s.Patch(t.Context(), app, patch); err != nil {
		t.Fatal(err)
	}
	f.eventually("ConfigMap b applied after spec.path changed", func() (bool, string) {
		return f.configMap("b") != nil, "missing"
	})
	f.eventually("ConfigMap a pruned after spec.path changed", func() (bool, string) {
		return f.configMap("a") == nil, "still there"
	})
}

// An object that left Git but is kept (here: prune disabled on it) is
// named, with the reason, in a Warning event of the sync that kept it.
func TestKeptObjectIsReported(t *testing.T) {
	f := newFixture(t)
	kept := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\n    cruise.dev/prune: disabled\ndata:\n  value: one\n"
	first := f.commit("two", map[string]string{"app/a.yaml": cmYAML("a", "one"), "app/b.yaml": kept})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", first)

	second := f.commit("drop b", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.requestFetch(second)
	f.waitReady("web", second)
	if f.configMap("b") == nil {
		t.Fatal("ConfigMap b with prune disabled was pruned")
	}
	f.eventually("PruneSkipped event naming ConfigMap b", func() (bool, string) {
		evs := f.events("web", cruisev1.ReasonPruneSkipped)
		for _, e := range evs {
			if strings.Contains(e.Note, "ConfigMap") && strings.Contains(e.Note, "/b (") {
				return true, e.Note
			}
		}
		return false, fmt.Sprintf("%d PruneSkipped event(s)", len(evs))
	})
}
