package hookrun

import (
	"context"
	"errors"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
)

// Remove deletes the objects of hooks (of any event) that are still in
// the cluster and labelled as this release's hooks, and waits until they
// are gone; it returns what it deleted. Helm leaves hook objects behind
// on uninstall; the controller can call Remove after the post-delete
// hooks so that deleting an Application leaves nothing. Objects that are
// not this release's hooks are left alone, CustomResourceDefinitions too.
func (r *Runner) Remove(ctx context.Context, hooks []helm.Hook) ([]apply.ObjRef, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	var runs []*run
	var errs []error
	for _, hk := range hooks {
		event := "any event"
		if len(hk.Events) > 0 {
			event = hk.Events[0]
		}
		h, err := r.prepareOne(event, hk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		runs = append(runs, h)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var removed []apply.ObjRef
	for _, h := range runs {
		if isCRD(h.ref) {
			continue
		}
		live, err := r.get(ctx, h)
		if err != nil {
			errs = append(errs, h.errorf(ReasonAPI, "could not be read: %w", h.scrub(err)))
			continue
		}
		if live == nil || live.GetLabels()[LabelHookOf] != r.Release || live.GetLabels()[LabelHookOfNamespace] != r.Namespace {
			continue
		}
		if err := r.deleteAndWait(ctx, h, live); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, h.ref)
		r.report(h, Deleted, "removed")
	}
	return removed, errors.Join(errs...)
}

func isCRD(ref apply.ObjRef) bool {
	return ref.Group == "apiextensions.k8s.io" && ref.Kind == "CustomResourceDefinition"
}
