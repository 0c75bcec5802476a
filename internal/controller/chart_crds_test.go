package controller_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

func gadgetCRD(group string, versions ...string) string {
	s := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.` + group + `
spec:
  group: ` + group + `
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  scope: Namespaced
  versions:
`
	for i, v := range versions {
		storage := "false"
		if i == len(versions)-1 {
			storage = "true"
		}
		s += `    - name: ` + v + `
      served: true
      storage: ` + storage + `
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
	}
	return s
}

// TestChartCRDs: the CRDs of crds/ are applied first (a custom resource
// of the chart's templates is applied with them), updated when they
// change, and a change that drops a version in status.storedVersions is
// refused (ValidationFailed: the API server's dry run during the plan, before
// anything is written) naming the CRD and the version, with nothing changed.
func TestChartCRDs(t *testing.T) {
	f := newFixture(t)
	group := strings.ReplaceAll(f.ns, "-", "") + ".example.com"
	files := func(crd, greeting string) map[string]string {
		return webChart(map[string]string{
			"charts/web/crds/gadgets.yaml":     crd,
			"charts/web/values.yaml":           "greeting: " + greeting + "\n",
			"charts/web/templates/gadget.yaml": "apiVersion: " + group + "/v1\nkind: Gadget\nmetadata:\n  name: one\nspec: {size: 1}\n",
		})
	}
	rev := f.commit("v1", files(gadgetCRD(group, "v1"), "hello"))
	f.source()
	f.app("web", "charts/web", nil)
	f.waitReady("web", rev)
	versions := func() int {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		if err := k8s.Get(t.Context(), types.NamespacedName{Name: "gadgets." + group}, crd); err != nil {
			t.Fatalf("CRD from crds/: %v", err)
		}
		v, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		return len(v)
	}
	if versions() != 1 {
		t.Fatal("CRD not applied with one version")
	}

	// v2 added: updated (Helm never would).
	rev = f.commit("v2", files(gadgetCRD(group, "v1", "v2"), "hello"))
	f.requestFetch(rev)
	f.waitReady("web", rev)
	if versions() != 2 {
		t.Fatal("CRD not updated to two versions")
	}

	// v1 dropped while stored: refused, nothing changed.
	rev = f.commit("drop v1", files(gadgetCRD(group, "v2"), "changed"))
	f.requestFetch(rev)
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonValidationFailed)
	msg := readyCondition(app).Message
	if !strings.Contains(msg, "gadgets."+group) || !strings.Contains(msg, "v1") || !strings.Contains(msg, "storedVersions") {
		t.Errorf("message %q should name the CRD, the version and storedVersions", msg)
	}
	if versions() != 2 {
		t.Error("the CRD changed")
	}
	if cm := f.configMap("web-config"); cm.Data["greeting"] != "hello" {
		t.Error("the release was applied after the CRD was refused")
	}
}
