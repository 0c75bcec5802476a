package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// TestStatusDuringHealthWait: while a sync waits for health, the status
// already says so (Reconciling True, naming the revision), and
// observedGeneration is set only when the sync is over.
func TestStatusDuringHealthWait(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("deploy", map[string]string{"app/web.yaml": deploymentYAML})
	f.source()
	// No kube-controller-manager in this profile: the Deployment never
	// becomes available by itself.
	f.app("web", "app", func(s *cruisev1.ApplicationSpec) { s.Timeout = &metav1.Duration{Duration: 10 * time.Minute} })

	var app *cruisev1.Application
	f.eventually("Reconciling while waiting for health", func() (bool, string) {
		app = f.getApp("web")
		c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReconciling)
		if c == nil {
			return false, "no Reconciling condition"
		}
		return c.Status == metav1.ConditionTrue && strings.Contains(c.Message, rev) && strings.Contains(c.Message, "healthy"), c.Message
	})
	if app.Status.ObservedGeneration == app.Generation {
		t.Errorf("observedGeneration is %d while the sync of generation %d still runs", app.Status.ObservedGeneration, app.Generation)
	}
	if c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReady); c == nil || c.Status != metav1.ConditionUnknown {
		t.Errorf("Ready = %+v during the first sync, want Unknown", c)
	}

	rolloutDone(t, f, "web")
	app = f.waitReady("web", rev)
	if app.Status.ObservedGeneration != app.Generation {
		t.Errorf("observedGeneration %d after the sync of generation %d", app.Status.ObservedGeneration, app.Generation)
	}
	if meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReconciling) != nil {
		t.Errorf("Reconciling left behind after the sync: %+v", app.Status.Conditions)
	}
}

// TestDependsOnWaitsForTheDependencysRevision: a dependency that is Ready
// but has not applied its source's newest revision (here: suspended) keeps
// its dependents waiting; once it applies it, they follow.
func TestDependsOnWaitsForTheDependencysRevision(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{"base/a.yaml": cmYAML("base", "one"), "app/b.yaml": cmYAML("app", "one")})
	f.source()
	f.app("base", "base", nil)
	f.app("app", "app", func(s *cruisev1.ApplicationSpec) {
		s.DependsOn = []cruisev1.DependencyReference{{Name: "base"}}
	})
	f.waitReady("base", first)
	f.waitReady("app", first)

	setSuspendOf(t, f, "base", true)
	f.waitCondition("base", metav1.ConditionTrue, cruisev1.ReasonSuspended)
	second := f.commit("second", map[string]string{"base/a.yaml": cmYAML("base", "two"), "app/b.yaml": cmYAML("app", "two")})
	f.requestFetch(second)
	app := f.waitCondition("app", metav1.ConditionFalse, cruisev1.ReasonDependencyNotReady)
	if c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReady); !strings.Contains(c.Message, first) {
		t.Errorf("the wait does not say the dependency is at the old revision: %s", c.Message)
	}
	if got := f.configMap("app").Data["value"]; got != "one" {
		t.Fatalf("dependent applied %q while its dependency was still at the old revision", got)
	}

	setSuspendOf(t, f, "base", false)
	f.waitReady("base", second)
	f.waitReady("app", second)
	if got := f.configMap("app").Data["value"]; got != "two" {
		t.Errorf("app = %q after its dependency caught up, want two", got)
	}
}

func setSuspendOf(t *testing.T, f *fixture, name string, suspend bool) {
	t.Helper()
	app := f.getApp(name)
	app.Spec.Suspend = suspend
	if err := k8s.Update(t.Context(), app); err != nil {
		t.Fatal(err)
	}
}

// TestOneSyncedEventPerRevision: `cruise reconcile app --with-source
// --wait` has the source fetch a new revision, which starts a sync, and
// then asks the Application to reconcile, which queues a second one
// behind it. The revision is applied and announced once.
func TestOneSyncedEventPerRevision(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{"app/web.yaml": webDeployment("web:1")})
	f.source()
	f.app("web", "app", nil)
	f.eventually("first sync waiting for health", func() (bool, string) { return reconcilingAt(f, "web", first) })
	rolloutDone(t, f, "web")
	f.waitReady("web", first)

	second := f.commit("second", map[string]string{"app/web.yaml": webDeployment("web:2")})
	f.requestFetch(second)
	// The request arrives while the sync of the new revision waits for
	// health, as it does when the sync takes longer than the fetch.
	f.eventually("sync of the second revision waiting for health", func() (bool, string) { return reconcilingAt(f, "web", second) })
	at := annotate(t, &cruisev1.Application{}, types.NamespacedName{Namespace: f.ns, Name: "web"})
	rolloutDone(t, f, "web")
	f.eventually("request handled at the new revision", func() (bool, string) {
		app := f.getApp("web")
		return app.Status.LastHandledReconcileAt == at && ready(app.Status.Conditions, app.Generation) &&
			strings.HasSuffix(app.Status.LastAppliedRevision, second), app.Status.LastAppliedRevision
	})

	// Events are written in order: once the third revision's is there,
	// every event of the second is too.
	third := f.commit("third", map[string]string{"app/web.yaml": webDeployment("web:2"), "app/cm.yaml": cmYAML("a", "x")})
	f.requestFetch(third)
	f.waitReady("web", third)
	f.eventually("the Synced event of the third revision", func() (bool, string) {
		return len(syncedFor(f.events("web", "Synced"), third)) == 1, "none"
	})
	if got := syncedFor(f.events("web", "Synced"), second); len(got) != 1 {
		t.Errorf("%d Synced events for revision %s, want 1: %v", len(got), second[:8], got)
	}
}

// reconcilingAt reports whether the Application's sync of commit waits
// for health.
func reconcilingAt(f *fixture, name, commit string) (bool, string) {
	c := meta.FindStatusCondition(f.getApp(name).Status.Conditions, cruisev1.ConditionReconciling)
	if c == nil {
		return false, "not Reconciling"
	}
	return c.Status == metav1.ConditionTrue && strings.Contains(c.Message, commit) && strings.Contains(c.Message, "healthy"), c.Message
}

// rolloutDone plays kube-controller-manager (absent from this profile):
// the Deployment's current generation is rolled out and available.
func rolloutDone(t *testing.T, f *fixture, name string) {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, dep); err != nil {
		t.Fatal(err)
	}
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
		},
	}
	if err := k8s.Status().Update(t.Context(), dep); err != nil {
		t.Fatalf("complete the rollout of Deployment %s: %v", name, err)
	}
}

func webDeployment(image string) string {
	return strings.Replace(deploymentYAML, "registry.invalid/web:1", "registry.invalid/"+image, 1)
}

// syncedFor returns the notes of the events that name commit.
func syncedFor(events []eventsv1.Event, commit string) []string {
	var out []string
	for _, e := range events {
		if strings.Contains(e.Note, commit) {
			out = append(out, e.Note)
		}
	}
	return out
}

// TestHistoryDigest: each history entry records the digest of what was
// rendered: equal for commits that render the same objects, different
// otherwise.
func TestHistoryDigest(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", first)

	steps := []struct {
		msg   string
		files map[string]string
	}{
		{"a file that renders nothing, and one elsewhere", map[string]string{
			"app/a.yaml": cmYAML("a", "one"), "app/README.md": "# web\n", "other/b.yaml": cmYAML("b", "x")}},
		{"change a", map[string]string{"app/a.yaml": cmYAML("a", "two")}},
		{"revert a", map[string]string{"app/a.yaml": cmYAML("a", "one")}},
	}
	for _, s := range steps {
		rev := f.commit(s.msg, s.files)
		f.requestFetch(rev)
		f.waitReady("web", rev)
	}
	h := f.getApp("web").Status.History
	if len(h) != 4 {
		t.Fatalf("history has %d entries, want 4: %+v", len(h), h)
	}
	// Newest first: revert, change, readme, first.
	revert, change, readme, orig := h[0].Digest, h[1].Digest, h[2].Digest, h[3].Digest
	if !strings.HasPrefix(orig, "sha256:") || len(orig) != len("sha256:")+64 {
		t.Fatalf("digest %q is not sha256:<hex>", orig)
	}
	if readme != orig {
		t.Errorf("a commit that changes no rendered object has digest %s, want %s", readme, orig)
	}
	if revert != orig {
		t.Errorf("a revert to the first content has digest %s, want %s", revert, orig)
	}
	if change == orig {
		t.Errorf("different content has the same digest %s", change)
	}
}

// TestResyncKeepsComingBack: a full resync runs every interval, also after
// resyncs that found nothing to change (they add no history entry). Each
// full sync shows in status.lastSyncTime.
func TestResyncKeepsComingBack(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.app("web", "app", func(s *cruisev1.ApplicationSpec) { s.Interval = metav1.Duration{Duration: 2 * time.Second} })
	f.waitReady("web", rev)
	var syncs []time.Time
	f.eventually("three more full syncs", func() (bool, string) {
		last := f.getApp("web").Status.LastSyncTime
		if last != nil && (len(syncs) == 0 || !last.Time.Equal(syncs[len(syncs)-1])) {
			syncs = append(syncs, last.Time)
		}
		return len(syncs) >= 4, fmt.Sprintf("full syncs at %v", syncs)
	})
	if h := f.getApp("web").Status.History; len(h) != 1 {
		t.Errorf("resyncs that changed nothing added history entries: %+v", h)
	}
}
