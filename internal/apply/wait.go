package apply

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Wait polls the objects' health until all are Current, one is Failed (a
// terminal state waiting will not change), or timeout passes; progress
// (optional) sees every status change. The error wraps ErrUnhealthy unless
// all are Current, and names every object that is not.
func (e *Engine) Wait(ctx context.Context, refs []ObjRef, timeout time.Duration, progress func(Health)) ([]Health, error) {
	return e.wait(ctx, refs, nil, timeout, progress)
}

// wait is Wait with the objects' state already known (from the list or
// the apply response), keyed by ObjRef.Key: the first round computes their
// health without a request, so objects that are Current at once (most
// are) cost nothing.
func (e *Engine) wait(ctx context.Context, refs []ObjRef, known map[string]*unstructured.Unstructured, timeout time.Duration, progress func(Health)) ([]Health, error) {
	if progress == nil {
		progress = func(Health) {}
	}
	health := make([]Health, len(refs))
	for i, r := range refs {
		health[i] = Health{Ref: r, Status: Unknown}
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for round := 0; ; round++ {
		next := make([]Health, len(refs))
		// Polls run on the caller's context, so the last one before the
		// deadline completes and reports a real status.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(e.concurrency)
		for i, r := range refs {
			if health[i].Status == Current {
				next[i] = health[i] // Current stays Current for this wait
				continue
			}
			if u := known[r.Key()]; round == 0 && u != nil {
				next[i] = healthOf(r, u)
				continue
			}
			g.Go(func() error {
				next[i] = e.health(gctx, r)
				return nil
			})
		}
		_ = g.Wait()
		done := true
		for i := range refs {
			if next[i] != health[i] {
				progress(next[i])
			}
			health[i] = next[i]
			if s := health[i].Status; s != Current && s != Failed {
				done = false
			}
		}
		if done {
			return health, unhealthy(health, "")
		}
		select {
		case <-ctx.Done():
			return health, ctx.Err()
		case <-wctx.Done():
			return health, unhealthy(health, fmt.Sprintf(" within %s", timeout))
		case <-t.C:
		}
	}
}

// health reads one object and computes its kstatus.
func (e *Engine) health(ctx context.Context, r ObjRef) Health {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind})
	err := e.client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, u)
	switch {
	case apierrors.IsNotFound(err):
		return Health{Ref: r, Status: NotFound, Message: "not found"}
	case err != nil:
		return Health{Ref: r, Status: Unknown, Message: err.Error()}
	}
	return healthOf(r, u)
}

// healthOf computes the kstatus of an object read from the cluster.
func healthOf(r ObjRef, u *unstructured.Unstructured) Health {
	res, err := status.Compute(u)
	if err != nil {
		return Health{Ref: r, Status: Unknown, Message: err.Error()}
	}
	return Health{Ref: r, Status: HealthStatus(res.Status.String()), Message: res.Message}
}

// unhealthy returns nil when every object is Current, else an error wrapping
// ErrUnhealthy that lists the others with their reasons.
func unhealthy(health []Health, within string) error {
	var bad []string
	for _, h := range health {
		if h.Status != Current {
			bad = append(bad, fmt.Sprintf("%s is %s: %s", h.Ref, h.Status, h.Message))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w%s: %s", ErrUnhealthy, within, strings.Join(bad, "; "))
}
