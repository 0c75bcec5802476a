package helm

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/render"
)

// CheckStoredVersions refuses a CRD of a chart that drops a version its
// live CRD lists in status.storedVersions: objects stored at that version
// would no longer be readable. It reads only, so callers run it before
// anything of a release changes (its hooks included).
func CheckStoredVersions(ctx context.Context, c client.Reader, crds []render.Object) error {
	for _, crd := range crds {
		if crd.GetKind() != "CustomResourceDefinition" {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetAPIVersion("apiextensions.k8s.io/v1")
		live.SetKind("CustomResourceDefinition")
		err := c.Get(ctx, client.ObjectKey{Name: crd.GetName()}, live)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
		stored, _, _ := unstructured.NestedStringSlice(live.Object, "status", "storedVersions")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		var names []string
		for _, v := range versions {
			if m, ok := v.(map[string]any); ok {
				if n, ok := m["name"].(string); ok {
					names = append(names, n)
				}
			}
		}
		for _, s := range stored {
			if !slices.Contains(names, s) {
				return fmt.Errorf("CustomResourceDefinition %s (%s): the chart drops version %s, which status.storedVersions lists: objects stored as %s would become unreadable; migrate them to another version and remove %s from status.storedVersions first",
					crd.GetName(), crd.Source, s, s, s)
			}
		}
	}
	return nil
}
