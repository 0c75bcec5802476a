package apply_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/render"
)

// benchSet is the benchmark workload: 1,000 ConfigMaps and 100
// Deployments.
func benchSet(b *testing.B) []render.Object {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\ndata:\n  index: \"%d\"\n  payload: %s\n---\n", i, i, strings.Repeat("p", 200))
	}
	for i := range 100 {
		fmt.Fprintf(&sb, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: dep-%03d
spec:
  replicas: 1
  selector:
    matchLabels: {app: dep-%03d}
  template:
    metadata:
      labels: {app: dep-%03d}
    spec:
      containers:
      - name: c
        image: registry.invalid/app:1
        env: [{name: INDEX, value: "%d"}]
---
`, i, i, i, i)
	}
	return objects(b, "bench.yaml", sb.String())
}

// BenchmarkApply1100 times, for 1,000 ConfigMaps and 100 Deployments, the
// first apply into an empty namespace, a no-op re-apply, and a diff.
func BenchmarkApply1100(b *testing.B) {
	// As cruise's command line does: no client-side rate limit, the
	// engine's concurrency bound is the only throttle.
	cfg := *env.Config
	cfg.QPS, cfg.Burst = -1, 0
	e, err := apply.NewEngine(&cfg, apply.EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	objs := benchSet(b)
	opts := func(ns string) apply.ApplyOptions {
		return apply.ApplyOptions{
			Owner:      apply.Owner{Name: "bench", Namespace: ns},
			Inventory:  e.NewConfigMapInventory(ns, "bench"),
			Namespaces: apply.Namespaces{Default: ns},
			Prune:      true,
		}
	}
	// One throwaway run warms the API server's caches and the mapper, so
	// the figures are about cruise, not a cold kube-apiserver.
	warm := env.Namespace(b)
	if _, err := e.Apply(b.Context(), objs, opts(warm)); err != nil {
		b.Fatal(err)
	}

	b.Run("first-apply", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ns := env.Namespace(b)
			b.StartTimer()
			if _, err := e.Apply(b.Context(), objs, opts(ns)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("noop-reapply", func(b *testing.B) {
		for b.Loop() {
			res, err := e.Apply(b.Context(), objs, opts(warm))
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range res.Changes {
				if c.Action != apply.Unchanged {
					b.Fatalf("%s %s on a no-op re-apply", c.Ref, c.Action)
				}
			}
		}
	})
	b.Run("diff", func(b *testing.B) {
		o := opts(warm)
		for b.Loop() {
			if _, err := e.Diff(b.Context(), objs, apply.DiffOptions{Owner: o.Owner, Inventory: o.Inventory, Namespaces: o.Namespaces, Prune: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
