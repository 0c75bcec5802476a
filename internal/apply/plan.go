package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fetchLive reads the live state of every item that can exist already, and
// settles whether items in a Namespace of this set really wait for it.
func (e *Engine) fetchLive(ctx context.Context, items []*item, owner Owner) error {
	existingNS := map[string]bool{}
	for _, it := range items {
		if it.ref.GroupKind() == namespaceGK {
			existingNS[it.ref.Name] = false
		}
	}
	// Many objects of one kind in one namespace are read with one List
	// instead of a Get each: 1,000 ConfigMaps cost one request, not 1,000.
	groups := map[listKey][]*item{}
	for _, it := range items {
		if it.needsDefinition && !e.kindKnown(it) {
			continue // its CRD is new: it cannot exist
		}
		k := listKey{gvk: it.obj.GroupVersionKind(), namespace: it.obj.GetNamespace()}
		groups[k] = append(groups[k], it)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.concurrency)
	for k, group := range groups {
		if len(group) >= listThreshold {
			g.Go(func() error {
				ok, err := e.listLive(gctx, k, group, owner)
				if ok || err != nil {
					return err
				}
				// Listing was refused (RBAC may allow get but not list):
				// fall back to a Get per object.
				for _, it := range group {
					if err := e.getLive(gctx, it); err != nil {
						return err
					}
				}
				return nil
			})
			continue
		}
		for _, it := range group {
			g.Go(func() error { return e.getLive(gctx, it) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, it := range items {
		if it.ref.GroupKind() == namespaceGK && it.live != nil {
			existingNS[it.ref.Name] = true
		}
	}
	for _, it := range items {
		if it.needsDefinition && e.kindKnown(it) && existingNS[it.ref.Namespace] {
			it.needsDefinition = false // its Namespace exists already
		}
	}
	return nil
}

// listThreshold is the group size from which one List is cheaper than a
// Get per object.
const listThreshold = 4

type listKey struct {
	gvk       schema.GroupVersionKind
	namespace string
}

func (e *Engine) getLive(ctx context.Context, it *item) error {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(it.obj.GroupVersionKind())
	err := e.client.Get(ctx, client.ObjectKeyFromObject(it.obj), live)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsForbidden(err):
		return &ObjectError{Ref: it.ref, Source: it.source, Err: fmt.Errorf("%w: %s", ErrForbidden, apiMessage(err))}
	case err != nil:
		return &ObjectError{Ref: it.ref, Source: it.source, Err: fmt.Errorf("read live state: %w", err)}
	}
	it.live = live
	return nil
}

// listLive reads a group of same-kind objects in one namespace with one
// List. It returns false, without error, when listing is forbidden.
//
// With an owner, only the owner's objects are listed: other inventories'
// objects in a shared namespace would make each sync read all of them. An
// object of the set that exists without the owner's labels yet (adopted
// from elsewhere) is then found by planOne, whose dry-run reveals it.
func (e *Engine) listLive(ctx context.Context, k listKey, group []*item, owner Owner) (bool, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
	var opts []client.ListOption
	if k.namespace != "" {
		opts = append(opts, client.InNamespace(k.namespace))
	}
	if owner.Name != "" {
		opts = append(opts, client.MatchingLabels{LabelName: owner.Name, LabelNamespace: owner.Namespace})
	}
	err := e.client.List(ctx, list, opts...)
	if apierrors.IsForbidden(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("list %s in %q: %w", k.gvk.Kind, k.namespace, err)
	}
	byName := make(map[string]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		byName[list.Items[i].GetName()] = &list.Items[i]
	}
	for _, it := range group {
		if live, ok := byName[it.obj.GetName()]; ok {
			live.SetGroupVersionKind(k.gvk)
			it.live = live
		}
	}
	return true, nil
}

// kindKnown reports whether the API server serves the item's kind now.
func (e *Engine) kindKnown(it *item) bool {
	gvk := it.obj.GroupVersionKind()
	_, err := e.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	return err == nil
}

// plan dry-runs the items concurrently and sets each one's action. Every
// failure is collected, so one run reports all invalid objects.
func (e *Engine) plan(ctx context.Context, items []*item, force bool) error {
	var (
		g    errgroup.Group
		errs = make([]error, len(items))
	)
	g.SetLimit(e.concurrency)
	for i, it := range items {
		g.Go(func() error {
			errs[i] = e.planOne(ctx, it, force)
			return nil
		})
	}
	_ = g.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return joinObjectErrors(failed)
	}
	return nil
}

func (e *Engine) planOne(ctx context.Context, it *item, force bool) error {
	dry := it.obj.DeepCopy()
	err := e.serverSideApply(ctx, dry, true)
	if err != nil {
		if it.live != nil && isImmutableError(err) {
			if force || it.force {
				it.action = Recreated
				it.dryRun = it.obj.DeepCopy()
				return nil
			}
			return &ObjectError{Ref: it.ref, Source: it.source, Err: it.scrub(fmt.Errorf(
				"%w: %s; set the annotation %s: enabled on the object, or use --force, to delete and recreate it",
				ErrImmutable, apiMessage(err), AnnotationForce))}
		}
		return &ObjectError{Ref: it.ref, Source: it.source, Err: it.scrub(classifyAPIError(err))}
	}
	it.dryRun = dry
	if it.live == nil && dry.GetResourceVersion() != "" {
		// It exists after all, without our labels (see listLive).
		if err := e.getLive(ctx, it); err != nil {
			return err
		}
	}
	switch {
	case it.live == nil:
		it.action = Created
	case drifted(it.live, dry):
		it.action = Configured
	default:
		it.action = Unchanged
	}
	return nil
}

// drifted reports whether applying would change the live object: the
// dry-run result differs from it in anything but bookkeeping the server
// keeps (managed fields, resource version, generation) and status.
func drifted(live, dryRun *unstructured.Unstructured) bool {
	return !equality.Semantic.DeepEqual(comparable(live), comparable(dryRun))
}

func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(c.Object, "metadata", "generation")
	unstructured.RemoveNestedField(c.Object, "status")
	return c.Object
}

// isImmutableError recognises the API server's answer to a change of a
// field that cannot change after creation.
func isImmutableError(err error) bool {
	if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "immutable") || strings.Contains(msg, "may not change once set")
}

// classifyAPIError wraps the API server's rejection of an object with the
// sentinel the caller can test for, keeping the server's own words.
func classifyAPIError(err error) error {
	switch {
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return fmt.Errorf("%w: %s", ErrInvalid, apiMessage(err))
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: %s", ErrForbidden, apiMessage(err))
	case apierrors.IsNotFound(err):
		// The namespace (or, rarely, the API) does not exist.
		return fmt.Errorf("%w: %s", ErrInvalid, apiMessage(err))
	}
	return err
}

func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}
