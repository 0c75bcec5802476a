package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// prune deletes the recorded objects that are not among items. It returns
// what it did and the refs that must stay recorded (deletions that failed,
// Namespaces and CRDs still in use). With dryRun it only reports.
func (e *Engine) prune(ctx context.Context, recorded []ObjRef, items []*item, owner Owner, dryRun bool, progress func(Event)) ([]Change, []ObjRef, error) {
	wanted := make(map[string]bool, len(items))
	for _, it := range items {
		wanted[it.ref.Key()] = true
	}
	var objects, definitions []ObjRef
	for _, r := range recorded {
		if wanted[r.Key()] {
			continue
		}
		if r.GroupKind() == namespaceGK || r.GroupKind() == crdGK {
			definitions = append(definitions, r)
		} else {
			objects = append(objects, r)
		}
	}

	var (
		changes []Change
		kept    []ObjRef
		errs    []error
	)
	deleted := map[string]bool{}
	// Definitions last: deleting a Namespace or CRD takes everything in it
	// along, so they go only once nothing else cruise manages is left.
	for _, group := range [][]ObjRef{objects, definitions} {
		for _, r := range group {
			ch, keep, err := e.pruneOne(ctx, r, owner, deleted, dryRun)
			if err != nil {
				errs = append(errs, &ObjectError{Ref: r, Err: fmt.Errorf("prune: %w", err)})
				kept = append(kept, r)
				continue
			}
			if keep {
				kept = append(kept, r)
			}
			if ch != nil {
				changes = append(changes, *ch)
				progress(Event{Type: EventPruned, Change: *ch})
				if ch.Action == Pruned {
					deleted[r.Key()] = true
				}
			}
		}
	}
	return changes, kept, errors.Join(errs...)
}

// pruneOne deletes one object unless something says to keep it. A nil
// Change means there was nothing to do (the object is already gone).
func (e *Engine) pruneOne(ctx context.Context, r ObjRef, owner Owner, deleted map[string]bool, dryRun bool) (*Change, bool, error) {
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind})
	err := e.client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, live)
	switch {
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	skip := func(why string) (*Change, bool, error) {
		return &Change{Ref: r, Action: PruneSkipped, Message: why}, false, nil
	}
	if live.GetDeletionTimestamp() != nil {
		return nil, false, nil
	}
	if live.GetLabels()[LabelName] != owner.Name || live.GetLabels()[LabelNamespace] != owner.Namespace {
		return skip("no longer labelled as managed by " + owner.Namespace + "/" + owner.Name)
	}
	if live.GetAnnotations()[AnnotationPrune] == "disabled" {
		return skip(AnnotationPrune + ": disabled")
	}
	switch r.GroupKind() {
	case namespaceGK:
		if inUse, err := e.namespaceInUse(ctx, r.Name, deleted); err != nil || inUse != "" {
			if err != nil {
				return nil, false, err
			}
			return &Change{Ref: r, Action: PruneSkipped, Message: inUse}, true, nil
		}
	case crdGK:
		if inUse, err := e.crdInUse(ctx, r.Name); err != nil || inUse != "" {
			if err != nil {
				return nil, false, err
			}
			return &Change{Ref: r, Action: PruneSkipped, Message: inUse}, true, nil
		}
	}
	if !dryRun {
		// Delete through the unstructured client: the typed client would
		// try to decode the object the server may answer with (CRDs, custom
		// resources with finalizers) and fail for kinds it does not know.
		del := &unstructured.Unstructured{}
		del.SetGroupVersionKind(schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind})
		del.SetNamespace(r.Namespace)
		del.SetName(r.Name)
		err := e.client.Delete(ctx, del, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, false, err
		}
	}
	return &Change{Ref: r, Action: Pruned}, false, nil
}

// namespaceInUse says why the namespace must be kept, or returns "" when
// no object managed by cruise (under any inventory) lives in it any more,
// apart from those being deleted. Deleting a Namespace deletes everything
// in it, whoever owns it, so a kind the engine may not list there, or an
// API group discovery cannot read, keeps the Namespace too: not being able
// to look must mean "in use".
func (e *Engine) namespaceInUse(ctx context.Context, ns string, deleted map[string]bool) (string, error) {
	lists, err := e.discovery.ServerPreferredNamespacedResources()
	var partial *discovery.ErrGroupDiscoveryFailed
	if err != nil && (!errors.As(err, &partial) || len(lists) == 0) {
		return "", fmt.Errorf("discover namespaced resources: %w", err)
	}
	var unknown []unlisted
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			unknown = append(unknown, unlisted{what: "the kinds of " + list.GroupVersion, why: err.Error()})
			continue
		}
		for _, res := range list.APIResources {
			if !hasVerb(res.Verbs, "list") {
				continue // nothing can be listed, so nothing is stored (bindings, reviews)
			}
			objs := &metav1.PartialObjectMetadataList{}
			objs.SetGroupVersionKind(gv.WithKind(res.Kind + "List"))
			err := e.client.List(ctx, objs, client.InNamespace(ns), client.HasLabels{LabelName})
			switch {
			case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
				continue // the kind went away since discovery (a CRD just pruned)
			case err != nil:
				unknown = append(unknown, unlisted{what: resourceName(gv.Group, res.Name), why: listFailure(err)})
				continue
			}
			for _, o := range objs.Items {
				ref := ObjRef{Group: gv.Group, Kind: res.Kind, Namespace: ns, Name: o.Name}
				if o.DeletionTimestamp == nil && !deleted[ref.Key()] {
					return "still holds " + ref.String(), nil
				}
			}
		}
	}
	if partial != nil {
		for gv, err := range partial.Groups {
			unknown = append(unknown, unlisted{what: "the kinds of " + gv.String(), why: fmt.Sprintf("discovery failed: %v", err)})
		}
	}
	if len(unknown) == 0 {
		return "", nil
	}
	sort.Slice(unknown, func(i, j int) bool { return unknown[i].what < unknown[j].what })
	more := ""
	if len(unknown) > 1 {
		more = fmt.Sprintf(" nor %d more kinds", len(unknown)-1)
	}
	return fmt.Sprintf("kept: cannot list %s in namespace %s (%s)%s, so it may still be in use", unknown[0].what, ns, unknown[0].why, more), nil
}

// unlisted is a resource (or group of them) that could not be listed.
type unlisted struct{ what, why string }

// crdInUse says why the CRD must be kept, or returns "": any custom
// resource of it that is not being deleted keeps it, whoever made it,
// since deleting a CRD deletes all of its objects. Not being allowed to
// list them keeps it too.
func (e *Engine) crdInUse(ctx context.Context, name string) (string, error) {
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: crdGK.Group, Version: "v1", Kind: crdGK.Kind})
	if err := e.client.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	gk, versions := servedVersions(crd)
	if len(versions) == 0 {
		return "", nil
	}
	// Every served version lists the same objects: one is enough.
	objs := &metav1.PartialObjectMetadataList{}
	objs.SetGroupVersionKind(schema.GroupVersionKind{Group: gk.Group, Version: versions[0], Kind: gk.Kind + "List"})
	if err := e.client.List(ctx, objs); err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return "", nil
		}
		return fmt.Sprintf("kept: cannot list %s in all namespaces (%s), so it may still be in use", name, listFailure(err)), nil
	}
	for _, o := range objs.Items {
		if o.DeletionTimestamp == nil {
			return fmt.Sprintf("still has %d %s object(s), e.g. %s", len(objs.Items), gk.Kind, o.Name), nil
		}
	}
	return "", nil
}

// resourceName is a resource as kubectl and RBAC rules name it:
// "configmaps", "widgets.example.com".
func resourceName(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// listFailure says why a list failed: one word for the identity's lack of
// rights (the API server's own message repeats the whole request), the
// error otherwise.
func listFailure(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsUnauthorized(err):
		return "unauthorized"
	}
	return err.Error()
}

func hasVerb(verbs []string, verb string) bool {
	for _, v := range verbs {
		if v == verb {
			return true
		}
	}
	return false
}
