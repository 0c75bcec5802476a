package controller_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/controller"
	"github.com/cruisegitops/cruise/internal/source"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// checkedOut reports whether the controller's cache holds a checkout of
// commit.
func checkedOut(t *testing.T, commit string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(gitCache.Options().CacheDir, "checkouts", commit))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// gauge reads a gauge of the controller's metrics.
func gauge(t *testing.T, name string) float64 {
	t.Helper()
	families, err := metricsRegistry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestStorageKeepsLastAppliedRevision(t *testing.T) {
	f := newFixture(t)
	bytesBefore := gauge(t, "cruise_storage_bytes")
	removedBefore := counter(t, "cruise_storage_removed_total")

	// The namespace in the content keeps these commits apart from other
	// tests' (the checkouts directory is shared, by commit).
	c1 := f.commit("one", map[string]string{"app/a.yaml": cmYAML("a", "one-"+f.ns)})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", c1)
	if got := gauge(t, "cruise_storage_bytes"); got <= bytesBefore || gauge(t, "cruise_storage_checkouts") < 1 {
		t.Errorf("cruise_storage_bytes %v (was %v), cruise_storage_checkouts %v after a first checkout",
			got, bytesBefore, gauge(t, "cruise_storage_checkouts"))
	}
	c2 := f.commit("two", map[string]string{"app/a.yaml": cmYAML("a", "two-"+f.ns)})
	f.requestFetch(c2)
	f.waitReady("web", c2)

	// Broken commits: the Application stays at c2 (its last applied
	// revision) while the GitRepository moves on to c3, then c4.
	c3 := f.commit("broken", map[string]string{"app/a.yaml": "kind: [\n"})
	f.requestFetch(c3)
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
	if app.Status.LastAppliedRevision != "main@sha1:"+c2 {
		t.Fatalf("lastAppliedRevision %s, want c2", app.Status.LastAppliedRevision)
	}
	c4 := f.commit("still broken", map[string]string{"app/a.yaml": "kind: [[\n"})
	f.requestFetch(c4)

	// c3 stops being current when c4 arrives, so only a collection after
	// that removes it; the same collection would remove c2 if it were not
	// kept as the last applied revision.
	f.eventually("checkouts of c1 and c3 removed", func() (bool, string) {
		return !checkedOut(t, c1) && !checkedOut(t, c3), "still there"
	})
	if !checkedOut(t, c2) || !checkedOut(t, c4) {
		t.Errorf("checkouts: last applied c2 %v, current c4 %v; want both kept", checkedOut(t, c2), checkedOut(t, c4))
	}
	if got := counter(t, "cruise_storage_removed_total"); got <= removedBefore {
		t.Errorf("cruise_storage_removed_total %v, was %v", got, removedBefore)
	}
	if got, want := gauge(t, "cruise_storage_limit_bytes"), float64(gitCache.Usage().Limit); got != want {
		t.Errorf("cruise_storage_limit_bytes %v, want %v", got, want)
	}
}

func TestArtifactStoreHoldsCheckouts(t *testing.T) {
	dir := t.TempDir()
	repo := gittest.NewRepo(t, dir, true)
	c1 := repo.Commit("one", map[string]string{"a.yaml": "one"})
	c2 := repo.Commit("two", map[string]string{"a.yaml": "two"})
	fetcher, err := source.NewFetcher(source.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(commit string) *source.Artifact {
		a, err := fetcher.Fetch(t.Context(), source.Request{URL: dir, Ref: source.Ref{Commit: commit}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	collect := func() {
		if _, err := fetcher.Collect(t.Context(), source.Keep{}); err != nil {
			t.Fatal(err)
		}
	}
	present := func(a *source.Artifact) bool {
		_, err := os.Stat(filepath.Join(a.Dir, "a.yaml"))
		return err == nil
	}

	store := controller.NewArtifactStore()
	key := types.NamespacedName{Namespace: "ns", Name: "env"}
	store.Put(key, fetch(c1))
	reading, ok := store.Get(key, c1)
	if !ok {
		t.Fatal("Get found nothing")
	}
	store.Put(key, fetch(c2)) // the GitRepository moves on mid-sync
	collect()
	if !present(reading) {
		t.Fatal("a checkout a sync is reading was removed")
	}
	reading.Release()
	collect()
	if present(reading) {
		t.Error("a checkout nobody reads any more was kept")
	}
	current, _ := store.Get(key, c2)
	current.Release()
	collect()
	if !present(current) {
		t.Error("the current artifact was removed")
	}
	store.Delete(key)
	collect()
	if present(current) {
		t.Error("the artifact of a deleted GitRepository was kept")
	}
	select {
	case <-store.Changed():
	default:
		t.Error("Changed got nothing")
	}
}

// TestArtifactStorePublishes: the store names a GitRepository when this
// process gets its artifact for the first time (after a restart, at the
// commit its status already shows), and not later: a new commit reaches
// the Applications through the GitRepository's status.
func TestArtifactStorePublishes(t *testing.T) {
	dir := t.TempDir()
	repo := gittest.NewRepo(t, dir, true)
	c1 := repo.Commit("one", map[string]string{"a.yaml": "one"})
	c2 := repo.Commit("two", map[string]string{"a.yaml": "two"})
	fetcher, err := source.NewFetcher(source.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	store := controller.NewArtifactStore()
	key := types.NamespacedName{Namespace: "ns", Name: "env"}
	for _, step := range []struct {
		commit  string
		publish bool
	}{{c1, true}, {c1, false}, {c2, false}} {
		a, err := fetcher.Fetch(t.Context(), source.Request{URL: dir, Ref: source.Ref{Commit: step.commit}})
		if err != nil {
			t.Fatal(err)
		}
		store.Put(key, a)
		select {
		case ev := <-store.Published():
			if !step.publish {
				t.Errorf("commit %s again: published %s/%s", step.commit[:8], ev.Object.Namespace, ev.Object.Name)
			} else if ev.Object.Namespace != key.Namespace || ev.Object.Name != key.Name {
				t.Errorf("published %s/%s, want %s", ev.Object.Namespace, ev.Object.Name, key)
			}
		default:
			if step.publish {
				t.Errorf("commit %s: nothing published", step.commit[:8])
			}
		}
	}
}
