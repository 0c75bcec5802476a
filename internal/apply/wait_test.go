package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// TestWaitForHealth needs Pods that really become Ready, so it runs on a
// full control plane of its own.
func TestWaitForHealth(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	full, err := clustertest.Start(ctx, devcluster.ProfileFull)
	if err != nil {
		t.Fatalf("start full profile: %v", err)
	}
	t.Cleanup(func() { _ = full.Cluster.Stop() })
	ns := full.Namespace(t)
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		_, err := full.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
	e, err := apply.NewEngine(full.Config, apply.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deployment := func(name, nodeSelector string) string {
		return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  selector:
    matchLabels: {app: ` + name + `}
  template:
    metadata:
      labels: {app: ` + name + `}
    spec:
      nodeSelector: {` + nodeSelector + `}
      containers:
      - name: c
        image: registry.invalid/app:1
`
	}
	opts := apply.ApplyOptions{
		Owner:       apply.Owner{Name: "health", Namespace: ns},
		Inventory:   e.NewConfigMapInventory(ns, "health"),
		Namespaces:  apply.Namespaces{Default: ns},
		WaitTimeout: 2 * time.Minute,
	}
	var events []apply.Health
	opts.Progress = func(ev apply.Event) {
		if ev.Type == apply.EventHealth {
			events = append(events, ev.Health)
		}
	}
	res, err := e.Apply(ctx, objects(t, "ok.yaml", deployment("ready", "")), opts)
	if err != nil {
		t.Fatalf("apply healthy Deployment: %v", err)
	}
	if len(res.Health) != 1 || res.Health[0].Status != apply.Current {
		t.Fatalf("health = %+v, want Current", res.Health)
	}
	if len(events) == 0 || events[len(events)-1].Status != apply.Current {
		t.Errorf("progress events = %+v, want the last one Current", events)
	}

	// Pods that no node can take: the Deployment never becomes Available.
	opts.WaitTimeout = 3 * time.Second
	opts.Owner.Name, opts.Inventory = "stuck", e.NewConfigMapInventory(ns, "stuck")
	res, err = e.Apply(ctx, objects(t, "stuck.yaml", deployment("stuck", "disk: nonexistent")), opts)
	if !errors.Is(err, apply.ErrUnhealthy) {
		t.Fatalf("error = %v, want ErrUnhealthy", err)
	}
	if !strings.Contains(err.Error(), "Deployment/"+ns+"/stuck is InProgress") || !strings.Contains(err.Error(), "Available: 0/2") {
		t.Errorf("error %q does not give the object and the reason", err)
	}
	if len(res.Changes) != 1 || res.Changes[0].Action != apply.Created {
		t.Errorf("changes = %+v: the object must be applied even when unhealthy", res.Changes)
	}
}
