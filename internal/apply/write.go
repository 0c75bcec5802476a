package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pollInterval paces waits for deletions, CRDs and health. Short, because
// a local API server answers in milliseconds and a sync is only as fast
// as its slowest poll.
const pollInterval = 200 * time.Millisecond

// write applies the items whose action needs a write, one kind rank after
// the other and concurrently within a rank.
func (e *Engine) write(ctx context.Context, items []*item, progress func(Event)) error {
	for start := 0; start < len(items); {
		end := start
		for end < len(items) && rank(items[end].ref) == rank(items[start].ref) {
			end++
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(e.concurrency)
		for _, it := range items[start:end] {
			if it.action == Unchanged {
				continue
			}
			g.Go(func() error { return e.writeOne(gctx, it) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, it := range items[start:end] {
			progress(Event{Type: EventApplied, Change: it.change()})
		}
		start = end
	}
	return nil
}

func (e *Engine) writeOne(ctx context.Context, it *item) error {
	if it.action == Recreated {
		if err := e.deleteAndWait(ctx, it.live); err != nil {
			return &ObjectError{Ref: it.ref, Source: it.source, Err: it.scrub(fmt.Errorf("recreate: %w", err))}
		}
	}
	obj := it.obj.DeepCopy()
	if err := e.serverSideApply(ctx, obj, false); err != nil {
		return &ObjectError{Ref: it.ref, Source: it.source, Err: it.scrub(fmt.Errorf("apply: %w", classifyAPIError(err)))}
	}
	it.live = obj
	return nil
}

// serverSideApply sends obj as an apply patch with cruise's field manager,
// taking over conflicting fields, and stores the server's answer in obj.
func (e *Engine) serverSideApply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) error {
	opts := []client.ApplyOption{client.ForceOwnership, client.FieldOwner(e.manager)}
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	return e.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), opts...)
}

// deleteAndWait deletes obj in the foreground of its dependents' garbage
// collection and returns once it is gone (finalizers included).
func (e *Engine) deleteAndWait(ctx context.Context, obj *unstructured.Unstructured) error {
	err := e.client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete: %w", err)
	}
	return poll(ctx, func() (bool, error) {
		probe := &unstructured.Unstructured{}
		probe.SetGroupVersionKind(obj.GroupVersionKind())
		err := e.client.Get(ctx, client.ObjectKeyFromObject(obj), probe)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// waitDefinitions waits until the CRDs among items are Established and
// their kinds are served, and the Namespaces are Active.
func (e *Engine) waitDefinitions(ctx context.Context, items []*item, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, it := range items {
		if !it.definition {
			continue
		}
		err := poll(ctx, func() (bool, error) {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(it.obj.GroupVersionKind())
			if err := e.client.Get(ctx, client.ObjectKeyFromObject(it.obj), live); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			if it.ref.GroupKind() == namespaceGK {
				phase, _, _ := unstructured.NestedString(live.Object, "status", "phase")
				return phase != "Terminating", nil
			}
			// Established can precede discovery serving the kind: the
			// objects of the CRD would then fail with "no matches for kind".
			return crdEstablished(live) && e.crdServed(live), nil
		})
		if err != nil {
			return &ObjectError{Ref: it.ref, Source: it.source, Err: fmt.Errorf("not ready: %w", err)}
		}
	}
	return nil
}

// crdServed reports whether every served version of the CRD's kind
// resolves in the REST mapper (which re-reads discovery on a miss).
func (e *Engine) crdServed(crd *unstructured.Unstructured) bool {
	gk, versions := servedVersions(crd)
	for _, v := range versions {
		if _, err := e.mapper.RESTMapping(gk, v); err != nil {
			return false
		}
	}
	return true
}

// servedVersions returns the group and kind a CRD defines and the
// versions it serves.
func servedVersions(crd *unstructured.Unstructured) (schema.GroupKind, []string) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	vs, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var served []string
	for _, v := range vs {
		if m, ok := v.(map[string]any); ok && m["served"] == true {
			name, _ := m["name"].(string)
			served = append(served, name)
		}
	}
	return schema.GroupKind{Group: group, Kind: kind}, served
}

func crdEstablished(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// cleanupTimeout bounds the writes that undo or record a failed run.
const cleanupTimeout = 30 * time.Second

// cleanupContext is for those writes: the caller's context may be the one
// that just ran out, and giving up half way would leave the cluster or the
// record in a state nobody asked for.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// undoDefinitions deletes the definitions this run created, after cause
// (a validation of the objects that needed them) failed, and puts the
// inventory back as it was, so that a failed apply leaves the cluster as
// it was. What cannot be undone is reported with cause, since the cluster
// is then not as it was; a definition that could not be deleted stays
// recorded, so a later run can still prune it.
func (e *Engine) undoDefinitions(ctx context.Context, defs []*item, recorded []ObjRef, inv Inventory, cause error) error {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	errs := []error{cause}
	var left []ObjRef
	for i := len(defs) - 1; i >= 0; i-- {
		it := defs[i]
		if !it.definition || it.action != Created {
			continue
		}
		err := e.client.Delete(ctx, it.obj, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			left = append(left, it.ref)
			errs = append(errs, &ObjectError{Ref: it.ref, Source: it.source,
				Err: fmt.Errorf("created by this failed run and left behind: delete: %w", classifyAPIError(err))})
		}
	}
	if inv != nil {
		if err := inv.Store(ctx, append(append([]ObjRef(nil), recorded...), left...)); err != nil {
			errs = append(errs, fmt.Errorf("restore the inventory after the failed run: %w", err))
		}
	}
	return errors.Join(errs...)
}

// poll calls cond every pollInterval until it returns true or an error, or
// ctx ends.
func poll(ctx context.Context, cond func() (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (it *item) change() Change {
	return Change{Ref: it.ref, Source: it.source, Action: it.action}
}
