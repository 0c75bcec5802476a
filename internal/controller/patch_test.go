package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cruisegitops/cruise/internal/controller"
)

// TestMergeFromRefusesANewIncarnation: a patch computed from an object
// that was deleted and created again by the same name is refused, and the
// refusal reads as gone. A plain merge patch would land on the new object
// (a finalizer removed by a reconcile that read a stale cached copy).
func TestMergeFromRefusesANewIncarnation(t *testing.T) {
	ns := env.Namespace(t)
	ctx := t.Context()

	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm"}}
	if err := k8s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm"}}); err != nil {
		t.Fatal(err)
	}
	stale := old.DeepCopy()
	stale.Labels = map[string]string{"stale": "yes"}
	err := k8s.Patch(ctx, stale, controller.MergeFrom(old))
	if err == nil || !controller.Gone(err) {
		t.Fatalf("patch of the replaced ConfigMap: %v, want a refusal that reads as gone", err)
	}
	var now corev1.ConfigMap
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "cm"}, &now); err != nil {
		t.Fatal(err)
	}
	if now.Labels["stale"] != "" {
		t.Error("the stale patch landed on the new ConfigMap")
	}
	// The same patch on the object it was computed from applies.
	fresh := now.DeepCopy()
	fresh.Labels = map[string]string{"fresh": "yes"}
	if err := k8s.Patch(ctx, fresh, controller.MergeFrom(&now)); err != nil {
		t.Fatalf("patch of the current ConfigMap: %v", err)
	}
}
