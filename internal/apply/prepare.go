package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cruisegitops/cruise/internal/render"
)

// item is one desired object on its way through the phases.
type item struct {
	obj    *unstructured.Unstructured // a copy; namespace and owner labels set
	ref    ObjRef
	source string
	// definition: a CRD or Namespace, applied in the first stage.
	definition bool
	// needsDefinition: the object's Namespace or CRD is created by this set
	// and does not exist yet, so it can only be dry-run after stage one.
	needsDefinition bool
	force           bool
	// sensitive: the object holds values decrypted from SOPS files (see
	// sensitive.go); they are never shown.
	sensitive bool

	live   *unstructured.Unstructured // nil when the object does not exist
	dryRun *unstructured.Unstructured // server-side dry-run result
	action Action
}

var (
	crdGK       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	namespaceGK = schema.GroupKind{Kind: "Namespace"}
)

// prepare copies the objects, resolves their scope and namespace, adds the
// owner labels and orders them for applying. It fails, before anything is
// sent to the cluster, for kinds no API serves and for objects that collide
// once their namespace is set.
func (e *Engine) prepare(ctx context.Context, objs []render.Object, owner Owner, ns Namespaces) ([]*item, error) {
	// Kinds defined by CRDs of this very set, with their scope.
	setKinds := map[schema.GroupKind]bool{} // value: namespaced
	setNamespaces := map[string]bool{}
	for _, o := range objs {
		gk := o.GroupVersionKind().GroupKind()
		switch gk {
		case crdGK:
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
			setKinds[schema.GroupKind{Group: group, Kind: kind}] = scope != "Cluster"
		case namespaceGK:
			setNamespaces[o.GetName()] = true
		}
	}

	items := make([]*item, 0, len(objs))
	seen := map[string]string{}
	var errs []error
	for _, o := range objs {
		u := o.DeepCopy()
		gvk := u.GroupVersionKind()
		gk := gvk.GroupKind()
		namespaced, definedHere := setKinds[gk]
		needsDef := false
		if !definedHere {
			m, err := e.mapper.RESTMapping(gk, gvk.Version)
			switch {
			case meta.IsNoMatchError(err):
				errs = append(errs, &ObjectError{Ref: refOf(u), Source: o.Source,
					Err: fmt.Errorf("%w: no API serves %s (is its CustomResourceDefinition installed?)", ErrUnknownKind, gvk)})
				continue
			case err != nil:
				return nil, fmt.Errorf("cannot read the API of the cluster at %s: %w", e.host, err)
			}
			namespaced = m.Scope.Name() == meta.RESTScopeNameNamespace
		} else if _, err := e.mapper.RESTMapping(gk, gvk.Version); err != nil {
			needsDef = true // the CRD is new
		}

		if namespaced {
			switch {
			case ns.Target != "":
				u.SetNamespace(ns.Target)
			case u.GetNamespace() == "" && ns.Default != "":
				u.SetNamespace(ns.Default)
			case u.GetNamespace() == "":
				u.SetNamespace("default")
			}
			if setNamespaces[u.GetNamespace()] {
				needsDef = true // settled against the cluster in fetchLive
			}
		} else {
			u.SetNamespace("")
		}
		if owner.Name != "" {
			labels := u.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[LabelName] = owner.Name
			labels[LabelNamespace] = owner.Namespace
			u.SetLabels(labels)
		}

		it := &item{
			obj:             u,
			ref:             refOf(u),
			source:          o.Source,
			definition:      gk == crdGK || gk == namespaceGK,
			needsDefinition: needsDef,
			force:           u.GetAnnotations()[AnnotationForce] == "enabled",
			sensitive:       o.Sensitive,
		}
		if prev, dup := seen[it.ref.Key()]; dup {
			errs = append(errs, &ObjectError{Ref: it.ref, Source: o.Source,
				Err: fmt.Errorf("%w: defined twice (also in %s)", ErrInvalid, prev)})
			continue
		}
		seen[it.ref.Key()] = o.Source
		items = append(items, it)
	}
	if len(errs) > 0 {
		return nil, joinObjectErrors(errs)
	}
	sort.SliceStable(items, func(i, j int) bool { return rank(items[i].ref) < rank(items[j].ref) })
	return items, nil
}

func refOf(u *unstructured.Unstructured) ObjRef {
	gvk := u.GroupVersionKind()
	return ObjRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// rank orders kinds so that what others refer to exists first: definitions,
// then configuration and identities, then workloads; admission webhooks
// last, so that a webhook cruise installs cannot block the rest of its own
// set.
func rank(r ObjRef) int {
	switch r.Kind {
	case "CustomResourceDefinition", "Namespace":
		return 0
	case "ResourceQuota", "LimitRange", "PriorityClass", "StorageClass", "PersistentVolume",
		"ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim":
		return 1
	case "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
		return 2
	case "Service":
		return 3
	case "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet", "Job", "CronJob", "Pod":
		return 4
	case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
		return 6
	}
	return 5
}

// ValidationError collects the errors about individual objects found
// before anything was changed.
type ValidationError struct {
	Errs []*ObjectError
}

func (e *ValidationError) Error() string {
	if len(e.Errs) == 1 {
		return e.Errs[0].Error()
	}
	return fmt.Sprintf("%s (and %d more invalid objects)", e.Errs[0], len(e.Errs)-1)
}

// Unwrap lets errors.Is find the kind of every object error.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, err := range e.Errs {
		out[i] = err
	}
	return out
}

// joinObjectErrors turns a list of errors into a ValidationError when they
// are all about objects, and a plain joined error otherwise.
func joinObjectErrors(errs []error) error {
	v := &ValidationError{}
	for _, err := range errs {
		var oe *ObjectError
		if !errors.As(err, &oe) {
			return errors.Join(errs...)
		}
		v.Errs = append(v.Errs, oe)
	}
	sort.SliceStable(v.Errs, func(i, j int) bool { return v.Errs[i].Source < v.Errs[j].Source })
	return v
}
