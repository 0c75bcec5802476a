package hookrun

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
)

// The annotation that makes an object a Helm hook.
const hookAnnotation = "helm.sh/hook"

// applyEvents are the events cruise runs hooks for on apply and delete.
var applyEvents = []string{
	helm.PreInstall, helm.PostInstall,
	helm.PreUpgrade, helm.PostUpgrade,
	helm.PreDelete, helm.PostDelete,
}

var deletePolicies = []string{helm.BeforeHookCreation, helm.HookSucceeded, helm.HookFailed}

// checkEvent refuses events the runner never runs.
func checkEvent(event string) error {
	switch {
	case event == helm.TestHook:
		return errors.New(`hook event "test": test hooks never run on apply (they are for helm test)`)
	case event == helm.PreRollback || event == helm.PostRollback:
		return fmt.Errorf("hook event %q: cruise rolls back by applying an earlier revision, which runs the upgrade hooks", event)
	case !slices.Contains(applyEvents, event):
		return fmt.Errorf("unknown hook event %q (want one of %s)", event, strings.Join(applyEvents, ", "))
	}
	return nil
}

// run is one hook being run for one event.
type run struct {
	obj      *unstructured.Unstructured // as applied: namespace and labels set
	ref      apply.ObjRef
	source   string
	event    string
	weight   int
	policies map[string]bool
	// sensitive hooks (Secrets, objects from decrypted files) keep API
	// messages out of errors, since those may quote values.
	sensitive bool
	// created is the object as read right after creation, nil before.
	created *unstructured.Unstructured
}

// prepare validates the hooks that have event and returns them in Helm's
// order, each with its object ready to apply. Nothing is sent to the
// cluster except discovery (via the client's RESTMapper).
func (r *Runner) prepare(event string, hooks []helm.Hook) ([]*run, error) {
	var runs []*run
	var errs []error
	for _, hk := range hooks {
		if !hk.Has(event) {
			continue
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
	sortRuns(runs)
	return runs, nil
}

func (r *Runner) prepareOne(event string, hk helm.Hook) (*run, error) {
	if hk.Object.Unstructured == nil {
		return nil, fmt.Errorf("hook from %s: no object", hk.Object.Source)
	}
	obj := hk.Object.DeepCopy()
	h := &run{
		obj:       obj,
		source:    hk.Object.Source,
		event:     event,
		weight:    hk.Weight,
		policies:  map[string]bool{},
		sensitive: hk.Object.Sensitive || obj.GetKind() == "Secret" && obj.GroupVersionKind().Group == "",
	}
	gvk := obj.GroupVersionKind()
	h.ref = apply.ObjRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	switch {
	case gvk.Kind == "" || gvk.Version == "":
		return nil, h.errorf(ReasonInvalid, "has no apiVersion or kind")
	case obj.GetName() == "":
		return nil, h.errorf(ReasonInvalid, "has no metadata.name (generateName would make a new object every run, which no delete policy finds again)")
	}
	for _, p := range hk.DeletePolicies {
		if !slices.Contains(deletePolicies, p) {
			return nil, h.errorf(ReasonInvalid, "has unknown delete policy %q (want %s)", p, strings.Join(deletePolicies, ", "))
		}
		h.policies[p] = true
	}
	if len(hk.DeletePolicies) == 0 {
		h.policies[helm.BeforeHookCreation] = true
	}

	namespaced, err := r.Client.IsObjectNamespaced(obj)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, h.errorf(ReasonInvalid, "has kind %s of %s, which the cluster does not serve", gvk.Kind, gvk.GroupVersion())
		}
		return nil, h.errorf(ReasonAPI, "could not be resolved: %w", err)
	}
	switch {
	case namespaced && obj.GetNamespace() == "":
		obj.SetNamespace(r.Namespace)
	case !namespaced:
		obj.SetNamespace("")
	}
	h.ref.Namespace = obj.GetNamespace()

	labels := maps.Clone(obj.GetLabels())
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelHookOf] = r.Release
	labels[LabelHookOfNamespace] = r.Namespace
	obj.SetLabels(labels)
	return h, nil
}

// sortRuns orders hooks as Helm's execHook does: its manifest sorter
// first orders hooks stably by kind (releaseutil.InstallOrder), then
// execHook sorts them stably by weight, ties broken by name. The result is
// weight, name, kind, input order.
func sortRuns(runs []*run) {
	rank := make(map[string]int, len(releaseutil.InstallOrder))
	for i, k := range releaseutil.InstallOrder {
		rank[k] = i
	}
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if a.weight != b.weight {
			return a.weight < b.weight
		}
		if a.ref.Name != b.ref.Name {
			return a.ref.Name < b.ref.Name
		}
		return kindLess(a.ref.Kind, b.ref.Kind, rank)
	})
}

// kindLess orders kinds as Helm does: known kinds in install order,
// unknown kinds after them, alphabetically.
func kindLess(a, b string, rank map[string]int) bool {
	ra, aok := rank[a]
	rb, bok := rank[b]
	switch {
	case !aok && !bok:
		return a < b
	case !aok:
		return false
	case !bok:
		return true
	}
	return ra < rb
}

// checkOwner refuses to replace or overwrite an object that is not a hook
// of this release: deleting an ordinary object because a chart's hook has
// its name would be a surprise Helm leaves to the user.
func (r *Runner) checkOwner(h *run, live *unstructured.Unstructured) *HookError {
	labels := live.GetLabels()
	of, ofNS := labels[LabelHookOf], labels[LabelHookOfNamespace]
	switch {
	case of == r.Release && ofNS == r.Namespace:
		return nil
	case of != "":
		return h.errorf(ReasonConflict, "cannot replace the existing object: it is a hook of release %s/%s", ofNS, of)
	case live.GetAnnotations()[hookAnnotation] == "":
		// A hook Helm created before cruise took over the release has the
		// annotation and no label: replacing it is what Helm would do.
		return h.errorf(ReasonConflict, "cannot replace the existing object: it is not a hook (no %s annotation)", hookAnnotation)
	}
	return nil
}
