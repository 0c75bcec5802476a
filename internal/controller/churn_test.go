package controller_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: web, image: registry.invalid/web:1}]
`

// TestStatusChurnCostsNothing: another controller writing a managed
// object's status over and over triggers no sync; a change to the object
// itself does.
func TestStatusChurnCostsNothing(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("deploy", map[string]string{"app/web.yaml": deploymentYAML})
	f.source()
	// No kube-controller-manager in this profile: do not wait for health.
	f.app("web", "app", func(s *cruisev1.ApplicationSpec) { s.Wait = new(bool) })
	f.waitReady("web", rev)
	const metric = "cruise_managed_object_changes_total"
	before := counter(t, metric)

	key := types.NamespacedName{Namespace: f.ns, Name: "web"}
	for i := range 20 {
		dep := &appsv1.Deployment{}
		if err := k8s.Get(t.Context(), key, dep); err != nil {
			t.Fatal(err)
		}
		dep.Status.ObservedGeneration = dep.Generation
		dep.Status.Replicas = int32(i % 2)
		dep.Status.UpdatedReplicas = int32(i % 2)
		if err := k8s.Status().Update(t.Context(), dep, client.FieldOwner("noisy-operator")); err != nil {
			t.Fatal(err)
		}
	}
	// Then one real change (an annotation, which Git does not set). Events
	// of one object arrive in order, so once it is seen, the status
	// updates before it have been judged too.
	dep := &appsv1.Deployment{}
	if err := k8s.Get(t.Context(), key, dep); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(dep.DeepCopy())
	dep.Annotations = map[string]string{"example.com/touched": "yes"}
	if err := k8s.Patch(t.Context(), dep, patch, client.FieldOwner("kubectl-annotate")); err != nil {
		t.Fatal(err)
	}
	f.eventually("the annotation change is seen", func() (bool, string) {
		got := counter(t, metric) - before
		return got >= 1, fmt.Sprint(got)
	})
	if got := counter(t, metric) - before; got != 1 {
		t.Errorf("%v changes seen for 20 status updates and one annotation change, want 1", got)
	}
}
