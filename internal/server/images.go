package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// An application's images are read as the user, like everything else:
// the workloads its status records (listed per namespace and kind, not
// one by one), then ImageRepositories, ImagePolicies and
// ImageUpdateAutomations, cluster-wide when RBAC allows, else in the
// application's namespace and its workloads'. What RBAC refuses becomes a
// note, never an error: the page shows what the user may see.

// workloadLists are the kinds whose pod templates run containers.
var workloadLists = map[schema.GroupKind]func() client.ObjectList{
	{Group: "apps", Kind: "Deployment"}:  func() client.ObjectList { return &appsv1.DeploymentList{} },
	{Group: "apps", Kind: "StatefulSet"}: func() client.ObjectList { return &appsv1.StatefulSetList{} },
	{Group: "apps", Kind: "DaemonSet"}:   func() client.ObjectList { return &appsv1.DaemonSetList{} },
	{Group: "apps", Kind: "ReplicaSet"}:  func() client.ObjectList { return &appsv1.ReplicaSetList{} },
	{Group: "batch", Kind: "Job"}:        func() client.ObjectList { return &batchv1.JobList{} },
	{Group: "batch", Kind: "CronJob"}:    func() client.ObjectList { return &batchv1.CronJobList{} },
	{Group: "", Kind: "Pod"}:             func() client.ObjectList { return &corev1.PodList{} },
}

// podSpecOf is the pod template's spec of a workload, nil for other
// objects.
func podSpecOf(obj runtime.Object) *corev1.PodSpec {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec
	case *appsv1.DaemonSet:
		return &o.Spec.Template.Spec
	case *appsv1.ReplicaSet:
		return &o.Spec.Template.Spec
	case *batchv1.Job:
		return &o.Spec.Template.Spec
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.Spec
	case *corev1.Pod:
		return &o.Spec
	}
	return nil
}

// applicationImages reads the images of app's workloads and what the
// image automation the user may read says of them.
func (s *Server) applicationImages(ctx context.Context, app *v1alpha1.Application) (apiv1.ApplicationImages, error) {
	out := apiv1.ApplicationImages{Items: []apiv1.ApplicationImage{}}
	type nsKind struct {
		ns string
		gk schema.GroupKind
	}
	wanted := map[nsKind]map[string]bool{}
	recorded := app.Status.Resources
	if len(recorded) == 0 {
		for _, ref := range app.Status.Inventory {
			recorded = append(recorded, v1alpha1.ResourceStatus{ObjectRef: ref})
		}
	}
	for _, r := range recorded {
		k := nsKind{r.Namespace, schema.GroupKind{Group: r.Group, Kind: r.Kind}}
		if _, ok := workloadLists[k.gk]; !ok || r.Namespace == "" {
			continue
		}
		if wanted[k] == nil {
			wanted[k] = map[string]bool{}
		}
		wanted[k][r.Name] = true
	}
	if len(wanted) == 0 {
		return out, nil // nothing runs containers: no need to read image automation
	}
	c, err := s.kube.forIdentity(identityFrom(ctx))
	if err != nil {
		return out, err
	}
	keys := slices.SortedFunc(maps.Keys(wanted), func(a, b nsKind) int {
		return cmp.Or(cmp.Compare(a.ns, b.ns), cmp.Compare(a.gk.Kind, b.gk.Kind))
	})
	namespaces := map[string]bool{app.Namespace: true}
	var containers []containerImage
	for _, k := range keys {
		namespaces[k.ns] = true
		list := workloadLists[k.gk]()
		if err := c.List(ctx, list, client.InNamespace(k.ns)); err != nil {
			if !apierrors.IsForbidden(err) {
				return out, fromKube(err, fmt.Sprintf("list %ss in namespace %s", k.gk.Kind, k.ns))
			}
			out.Notes = append(out.Notes, fmt.Sprintf("You may not list %ss in namespace %s: their images are not shown.", k.gk.Kind, k.ns))
			continue
		}
		objs, err := meta.ExtractList(list)
		if err != nil {
			return out, err
		}
		for _, o := range objs {
			obj := o.(client.Object)
			if spec := podSpecOf(o); spec != nil && wanted[k][obj.GetName()] {
				containers = append(containers, podSpecImages(apiv1.WorkloadRef{Kind: k.gk.Kind, Namespace: k.ns, Name: obj.GetName()}, spec)...)
			}
		}
	}
	if len(containers) == 0 {
		return out, nil
	}
	slices.SortStableFunc(containers, func(a, b containerImage) int {
		return cmp.Or(cmp.Compare(a.workload.Namespace, b.workload.Namespace), cmp.Compare(a.workload.Kind, b.workload.Kind),
			cmp.Compare(a.workload.Name, b.workload.Name))
	})
	cat, notes, err := s.readImageCatalog(ctx, c, slices.Sorted(maps.Keys(namespaces)))
	if err != nil {
		return out, err
	}
	out.Notes = append(out.Notes, notes...)
	out.Items = cat.match(containers)
	return out, nil
}

// readImageCatalog reads the image automation objects the user may read:
// every namespace's when RBAC allows listing cluster-wide, else those of
// namespaces. Repositories that policies name in other namespaces are
// read one by one.
func (s *Server) readImageCatalog(ctx context.Context, c client.Client, namespaces []string) (*imageCatalog, []string, error) {
	cat := &imageCatalog{repos: map[string]*v1alpha1.ImageRepository{}, holds: map[string][]apiv1.ImageHold{}}
	var notes []string
	lists := []struct {
		newList func() client.ObjectList
		plural  string
		without string
		each    func(runtime.Object)
	}{
		{func() client.ObjectList { return &v1alpha1.ImageRepositoryList{} }, "ImageRepositories", "which newer tags exist is not shown for their images",
			func(o runtime.Object) { r := o.(*v1alpha1.ImageRepository); cat.repos[r.Namespace+"/"+r.Name] = r }},
		{func() client.ObjectList { return &v1alpha1.ImagePolicyList{} }, "ImagePolicies", "the images they follow show no chosen or newer tags",
			func(o runtime.Object) { cat.policies = append(cat.policies, o.(*v1alpha1.ImagePolicy)) }},
		{func() client.ObjectList { return &v1alpha1.ImageUpdateAutomationList{} }, "ImageUpdateAutomations", "versions they hold back are not shown",
			func(o runtime.Object) { cat.addHolds(o.(*v1alpha1.ImageUpdateAutomation)) }},
	}
	for _, l := range lists {
		lnotes, err := listVisible(ctx, c, l.newList, namespaces, l.each)
		switch {
		case meta.IsNoMatchError(err) || discoveryFailed(err):
			return cat, append(notes, "Image automation is not installed in this cluster (no "+l.plural+")."), nil
		case err != nil:
			return cat, notes, fromKube(err, "list "+l.plural)
		}
		for _, ns := range lnotes {
			notes = append(notes, fmt.Sprintf("You may not list %s in namespace %s: %s.", l.plural, ns, l.without))
		}
	}
	slices.SortFunc(cat.policies, func(a, b *v1alpha1.ImagePolicy) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for _, p := range cat.policies {
		key := policyRepoKey(p)
		if _, ok := cat.repos[key]; ok {
			continue
		}
		r := &v1alpha1.ImageRepository{}
		ns, name, _ := strings.Cut(key, "/")
		switch err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, r); {
		case err == nil:
			cat.repos[key] = r
		case apierrors.IsForbidden(err):
			notes = append(notes, fmt.Sprintf("You may not read ImageRepository %s, which ImagePolicy %s/%s follows.", key, p.Namespace, p.Name))
			cat.repos[key] = nil
		case apierrors.IsNotFound(err):
			cat.repos[key] = nil
		default:
			return cat, notes, fromKube(err, "ImageRepository "+key)
		}
	}
	return cat, notes, nil
}

// listVisible lists newList's kind cluster-wide, or, when RBAC refuses
// that, in each of namespaces; it returns the namespaces where that was
// refused too. each gets every object.
func listVisible(ctx context.Context, c client.Client, newList func() client.ObjectList, namespaces []string, each func(runtime.Object)) ([]string, error) {
	var refused []string
	all := newList()
	err := c.List(ctx, all)
	if err == nil {
		return nil, eachItem(all, each)
	}
	if !apierrors.IsForbidden(err) {
		return nil, err
	}
	for _, ns := range namespaces {
		l := newList()
		if err := c.List(ctx, l, client.InNamespace(ns)); apierrors.IsForbidden(err) {
			refused = append(refused, ns)
			continue
		} else if err != nil {
			return nil, err
		}
		if err := eachItem(l, each); err != nil {
			return nil, err
		}
	}
	return refused, nil
}

func eachItem(list client.ObjectList, each func(runtime.Object)) error {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, o := range objs {
		each(o)
	}
	return nil
}

// discoveryFailed reports whether err says the API group could not be
// discovered: cruise's image CRDs are not installed.
func discoveryFailed(err error) bool {
	var gd *apiutil.ErrResourceDiscoveryFailed
	return errors.As(err, &gd)
}

func (s *Server) handleImages(w http.ResponseWriter, r *http.Request) {
	app, err := s.getApplication(r.Context(), r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	images, err := s.applicationImages(r.Context(), app)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, images)
}
