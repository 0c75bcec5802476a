package e2e_test

import (
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// TestLeaderElection: of two replicas only the leader reconciles; when it
// dies, the other takes over and deploys the next commit.
func TestLeaderElection(t *testing.T) {
	ns := env.Namespace(t)
	repo := setupApp(t, ns)
	first := repo.Commit("first", configMaps(2, "one"))

	flags := []string{"--leader-elect", "--leader-election-namespace", ns,
		"--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "500ms"}
	a := startController(t, flags...)
	waitApplied(t, ns, first)
	leader := func() string {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: "cruise-controller"}, lease); err != nil {
			return ""
		}
		if lease.Spec.HolderIdentity == nil {
			return ""
		}
		return *lease.Spec.HolderIdentity
	}
	firstLeader := leader()
	if firstLeader == "" {
		t.Fatal("no leader recorded in Lease cruise-controller")
	}

	b := startController(t, flags...)
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		return b.reconciles() >= 0, fmt.Errorf("standby metrics not up")
	})
	second := repo.Commit("second", configMaps(2, "two"))
	waitApplied(t, ns, second)
	if n := b.reconciles(); n != 0 {
		t.Fatalf("the standby reconciled %v times while the leader ran", n)
	}

	a.kill()
	third := repo.Commit("third", configMaps(2, "three"))
	waitApplied(t, ns, third)
	if l := leader(); l == firstLeader || l == "" {
		t.Errorf("leader after the first died: %q (before: %q)", l, firstLeader)
	}
	if n := b.reconciles(); n <= 0 {
		t.Errorf("the new leader reports %v reconciles", n)
	}
}
