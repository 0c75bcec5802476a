package e2e_test

import (
	"os/exec"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// TestReconcileWait: `cruise reconcile app --with-source --wait` against a
// running controller fetches the new commit, applies it and exits 0.
func TestReconcileWait(t *testing.T) {
	ns := env.Namespace(t)
	repo := setupApp(t, ns)
	first := repo.Commit("first", configMaps(1, "one"))
	startController(t)
	waitApplied(t, ns, first)

	second := repo.Commit("second", configMaps(1, "two"))
	cmd := exec.Command(cruiseBinary(t), "reconcile", "app", "web", "--with-source", "--wait", "--timeout", "2m",
		"--kubeconfig", env.Cluster.Kubeconfig, "-n", ns)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cruise reconcile --wait: %v\n%s", err, out)
	}
	// No polling here: when --wait returns, the commit must be applied.
	app := &cruisev1.Application{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: "web"}, app); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(app.Status.LastAppliedRevision, second) {
		t.Fatalf("after reconcile --wait the Application is at %s, want %s", app.Status.LastAppliedRevision, second)
	}
	cms := managed(t, ns)
	if len(cms) != 1 || cms[0].Data["value"] != "two" {
		t.Fatalf("ConfigMaps after reconcile: %+v", cms)
	}
}
