package cli_test

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// Off a terminal, delete deletes without asking.
func TestDelete(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")

	r := k.run(t, 0, "delete", "app", "web")
	wantLines(t, r.stdout, "✓ Application/"+k.ns+"/web deleted")
	err := k.c.Get(t.Context(), client.ObjectKey{Namespace: k.ns, Name: "web"}, &v1alpha1.Application{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Application still there after delete: %v", err)
	}
	r = k.run(t, 2, "delete", "app", "web", "--yes")
	wantLines(t, r.stderr, "Error: Application/"+k.ns+"/web not found")

	r = k.run(t, 0, "delete", "source", "git", "web", "-y")
	wantLines(t, r.stdout, "✓ GitRepository/"+k.ns+"/web deleted")
	err = k.c.Get(t.Context(), client.ObjectKey{Namespace: k.ns, Name: "web"}, &v1alpha1.GitRepository{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("GitRepository still there after delete: %v", err)
	}
}
