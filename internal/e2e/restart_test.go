package e2e_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// setupApp serves a repository over HTTP and creates a GitRepository
// polling it every second and an Application "web" for its path app/.
func setupApp(t *testing.T, ns string) *gittest.Repo {
	t.Helper()
	root := t.TempDir()
	repo := gittest.NewRepo(t, filepath.Join(root, "env.git"), true)
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	src := &cruisev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: ns},
		Spec: cruisev1.GitRepositorySpec{
			URL: srv.RepoURL("env.git"), Ref: &cruisev1.GitRef{Branch: "main"}, Interval: metav1.Duration{Duration: time.Second},
		},
	}
	app := &cruisev1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: cruisev1.ApplicationSpec{
			SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"},
			Path:      "app", Prune: true, Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	for _, o := range []client.Object{src, app} {
		if err := k8s.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

func configMaps(n int, value string) map[string]string {
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("app/cm-%04d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\ndata:\n  value: %s\n", i, value)
	}
	return files
}

// waitApplied waits until Application web is Ready at commit.
func waitApplied(t *testing.T, ns, commit string) *cruisev1.Application {
	t.Helper()
	app := &cruisev1.Application{}
	clustertest.Eventually(t, 2*time.Minute, func() (bool, error) {
		if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: "web"}, app); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, fmt.Errorf("no Ready condition")
		}
		return c.Status == metav1.ConditionTrue && c.ObservedGeneration == app.Generation &&
			strings.HasSuffix(app.Status.LastAppliedRevision, commit), fmt.Errorf("%s %s: %s", c.Status, c.Reason, c.Message)
	})
	return app
}

// managed lists the ConfigMaps labelled as Application web's.
func managed(t *testing.T, ns string) []corev1.ConfigMap {
	t.Helper()
	var list corev1.ConfigMapList
	if err := k8s.List(t.Context(), &list, client.InNamespace(ns), client.MatchingLabels{"cruise.dev/name": "web"}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// TestControllerKilledMidSyncConverges kills the controller with SIGKILL
// while it applies 500 objects; a new one finishes the sync, and every
// object created on the way is in the inventory, so a later prune leaves
// no orphan.
func TestControllerKilledMidSyncConverges(t *testing.T) {
	ns := env.Namespace(t)
	repo := setupApp(t, ns)
	first := repo.Commit("500 objects", configMaps(500, "one"))

	c := startController(t)
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		return len(managed(t, ns)) > 0, nil
	})
	c.kill()
	t.Logf("killed with %d of 500 objects applied", len(managed(t, ns)))

	startController(t)
	app := waitApplied(t, ns, first)
	if n := len(managed(t, ns)); n != 500 {
		t.Fatalf("%d objects after restart, want 500", n)
	}
	if n := len(app.Status.Inventory); n != 500 {
		t.Fatalf("inventory holds %d objects, want 500", n)
	}

	// Everything but one object leaves Git: all others are pruned.
	second := repo.Commit("one object", configMaps(1, "one"))
	waitApplied(t, ns, second)
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		n := len(managed(t, ns))
		return n == 1, fmt.Errorf("%d managed objects left", n)
	})
}
