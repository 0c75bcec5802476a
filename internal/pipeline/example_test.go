package pipeline_test

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/pipeline"
)

// An Application that prunes, moves everything into one namespace and does
// not wait for health: its apply has no wait timeout, yet the sync as a
// whole is still bounded by the default timeout.
func ExampleTargetOf() {
	wait := false
	app := &v1alpha1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:       v1alpha1.ApplicationSpec{Path: "apps/web", TargetNamespace: "prod", Prune: true, Wait: &wait},
	}
	t := pipeline.TargetOf(app)
	o := t.ApplyOptions(nil)
	fmt.Printf("owner %s/%s, namespaces %+v, prune %v, wait timeout %s; sync bounded by %s\n",
		o.Owner.Namespace, o.Owner.Name, o.Namespaces, o.Prune, o.WaitTimeout, t.Timeout)
	// Output: owner shop/web, namespaces {Default:shop Target:prod}, prune true, wait timeout 0s; sync bounded by 5m0s
}
