package server

import (
	"context"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// podOwners are the kinds whose Pods (directly, or through ReplicaSets)
// the tree shows below them.
var podOwners = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true}

// resourceTree builds the tree from the Application's recorded resources
// and, for workloads, the ReplicaSets and Pods they own, read live as the
// user (namespaces where that is forbidden simply show no children).
func (s *Server) resourceTree(ctx context.Context, app *v1alpha1.Application) (apiv1.ResourceTree, error) {
	tree := apiv1.ResourceTree{Application: app.Namespace + "/" + app.Name, Resources: []apiv1.Resource{}}
	recorded := app.Status.Resources
	if len(recorded) == 0 {
		for _, ref := range app.Status.Inventory {
			recorded = append(recorded, v1alpha1.ResourceStatus{ObjectRef: ref})
		}
	}
	workloadNS := map[string]bool{}
	for _, r := range recorded {
		tree.Resources = append(tree.Resources, apiv1.Resource{Group: r.Group, Version: r.Version, Kind: r.Kind,
			Namespace: r.Namespace, Name: r.Name, Sync: r.Sync, Health: healthOf(r.Health), Message: r.Message})
		if podOwners[r.Kind] && r.Namespace != "" {
			workloadNS[r.Namespace] = true
		}
	}
	if len(workloadNS) == 0 {
		return tree, nil
	}
	c, err := s.kube.forIdentity(identityFrom(ctx))
	if err != nil {
		return tree, err
	}
	type key struct{ ns, kind, name string }
	children := map[key][]apiv1.Resource{}
	for ns := range workloadNS {
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(ns)); err == nil {
			for _, p := range pods.Items {
				for _, o := range p.OwnerReferences {
					if o.Controller != nil && *o.Controller {
						k := key{ns, o.Kind, o.Name}
						children[k] = append(children[k], apiv1.Resource{Version: "v1", Kind: "Pod", Namespace: ns, Name: p.Name,
							Health: podHealth(&p), Message: string(p.Status.Phase)})
					}
				}
			}
		}
		rss := &appsv1.ReplicaSetList{}
		if err := c.List(ctx, rss, client.InNamespace(ns)); err == nil {
			for _, rs := range rss.Items {
				if rs.Spec.Replicas != nil && *rs.Spec.Replicas == 0 && rs.Status.Replicas == 0 {
					continue // an old revision kept for rollout history
				}
				for _, o := range rs.OwnerReferences {
					if o.Controller != nil && *o.Controller {
						k := key{ns, o.Kind, o.Name}
						health := apiv1.HealthHealthy
						if rs.Status.ReadyReplicas < rs.Status.Replicas || rs.Spec.Replicas != nil && rs.Status.ReadyReplicas < *rs.Spec.Replicas {
							health = apiv1.HealthProgressing
						}
						children[k] = append(children[k], apiv1.Resource{Group: "apps", Version: "v1", Kind: "ReplicaSet", Namespace: ns,
							Name: rs.Name, Health: health, Children: children[key{ns, "ReplicaSet", rs.Name}]})
					}
				}
			}
		}
	}
	for i := range tree.Resources {
		r := &tree.Resources[i]
		if podOwners[r.Kind] {
			r.Children = children[key{r.Namespace, r.Kind, r.Name}]
		}
	}
	return tree, nil
}

func podHealth(p *corev1.Pod) string {
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return apiv1.HealthHealthy
	case corev1.PodFailed:
		return apiv1.HealthDegraded
	case corev1.PodRunning:
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return apiv1.HealthHealthy
			}
		}
	}
	return apiv1.HealthProgressing
}

func (s *Server) handleResources(w http.ResponseWriter, r *http.Request) {
	app, err := s.getApplication(r.Context(), r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	tree, err := s.resourceTree(r.Context(), app)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tree)
}
