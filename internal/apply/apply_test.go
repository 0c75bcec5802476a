package apply_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cruisegitops/cruise/internal/apply"
)

// webDeployment is a minimal Deployment the tests share.
const webDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.invalid/web:1
`

const webV1 = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
---
` + webDeployment

func TestApplyCreateChangeNoopPrune(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)

	res, err := e.Apply(ctx, objects(t, "web.yaml", webV1), opts)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"ConfigMap/settings": apply.Created, "Deployment/web": apply.Created})
	cm := get(t, configMapGVK, ns, "settings")
	if cm == nil || cm.GetLabels()[apply.LabelName] != "app" || cm.GetLabels()[apply.LabelNamespace] != ns {
		t.Fatalf("ConfigMap missing or without owner labels: %v", cm)
	}
	if _, ok := cm.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("last-applied annotation written; server-side apply must not need it")
	}

	// A change in Git configures just that object.
	changed := strings.Replace(webV1, "color: blue", "color: green", 1)
	res, err = e.Apply(ctx, objects(t, "web.yaml", changed), opts)
	if err != nil {
		t.Fatalf("apply change: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"ConfigMap/settings": apply.Configured, "Deployment/web": apply.Unchanged})
	if got, _, _ := unstructured.NestedString(get(t, configMapGVK, ns, "settings").Object, "data", "color"); got != "green" {
		t.Fatalf("color = %q after change, want green", got)
	}

	// A no-op re-apply reports unchanged and writes nothing: every
	// resourceVersion, the inventory's included, stays as it was.
	before := map[string]string{
		"cm":  get(t, configMapGVK, ns, "settings").GetResourceVersion(),
		"dep": get(t, deploymentGVK, ns, "web").GetResourceVersion(),
		"inv": get(t, configMapGVK, ns, "cruise-inventory-app").GetResourceVersion(),
	}
	res, err = e.Apply(ctx, objects(t, "web.yaml", changed), opts)
	if err != nil {
		t.Fatalf("no-op apply: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"ConfigMap/settings": apply.Unchanged, "Deployment/web": apply.Unchanged})
	after := map[string]string{
		"cm":  get(t, configMapGVK, ns, "settings").GetResourceVersion(),
		"dep": get(t, deploymentGVK, ns, "web").GetResourceVersion(),
		"inv": get(t, configMapGVK, ns, "cruise-inventory-app").GetResourceVersion(),
	}
	for k := range before {
		if before[k] != after[k] {
			t.Errorf("no-op apply wrote %s: resourceVersion %s -> %s", k, before[k], after[k])
		}
	}

	// Removing the ConfigMap from Git prunes it.
	onlyDeployment := webV1[strings.Index(webV1, "---"):]
	res, err = e.Apply(ctx, objects(t, "web.yaml", onlyDeployment), opts)
	if err != nil {
		t.Fatalf("apply without ConfigMap: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"ConfigMap/settings": apply.Pruned, "Deployment/web": apply.Unchanged})
	if get(t, configMapGVK, ns, "settings") != nil {
		t.Fatal("pruned ConfigMap still exists")
	}
}

func TestPruneSafety(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	const set = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: keep-me
  annotations: {cruise.dev/prune: disabled}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: taken-over
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
`
	if _, err := e.Apply(ctx, objects(t, "set.yaml", set), opts); err != nil {
		t.Fatal(err)
	}
	// An object outside the inventory, in the same namespace.
	outsider := objects(t, "outsider.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outsider\n")
	other := opts
	other.Owner, other.Inventory = apply.Owner{Name: "other", Namespace: ns}, e.NewConfigMapInventory(ns, "other")
	if _, err := e.Apply(ctx, outsider, other); err != nil {
		t.Fatal(err)
	}
	// Someone else takes "taken-over" by relabelling it.
	c := e.Client()
	cm := get(t, configMapGVK, ns, "taken-over")
	cm.SetLabels(map[string]string{"team": "b"})
	if err := c.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}

	res, err := e.Apply(ctx, nil, opts)
	if err != nil {
		t.Fatalf("apply empty set: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{
		"ConfigMap/keep-me":    apply.PruneSkipped,
		"ConfigMap/taken-over": apply.PruneSkipped,
		"ConfigMap/plain":      apply.Pruned,
	})
	for _, name := range []string{"keep-me", "taken-over", "outsider"} {
		if get(t, configMapGVK, ns, name) == nil {
			t.Errorf("ConfigMap %s was deleted", name)
		}
	}
	if get(t, configMapGVK, ns, "plain") != nil {
		t.Error("ConfigMap plain was not pruned")
	}
	// The kept objects leave the inventory: a later run does not touch them.
	refs, err := opts.Inventory.Load(ctx)
	if err != nil || len(refs) != 0 {
		t.Errorf("inventory after prune = %v, %v; want empty", refs, err)
	}
}

func TestInvalidObjectChangesNothing(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	const set = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: -3
  selector:
    matchLabels: {app: broken}
  template:
    metadata:
      labels: {app: broken}
    spec:
      containers: [{name: c, image: x}]
`
	_, err := e.Apply(ctx, objects(t, "apps/broken.yaml", set), opts)
	if !errors.Is(err, apply.ErrInvalid) {
		t.Fatalf("error = %v, want ErrInvalid", err)
	}
	for _, want := range []string{"Deployment/" + ns + "/broken", "apps/broken.yaml", "replicas"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if get(t, configMapGVK, ns, "fine") != nil {
		t.Error("valid object applied although another one was invalid")
	}
	if get(t, configMapGVK, ns, "cruise-inventory-app") != nil {
		t.Error("inventory written although nothing was applied")
	}
}

func TestUnknownKindChangesNothing(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	set := objects(t, "crs.yaml", `
apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
`)
	_, err := e.Apply(ctx, set, opts)
	if !errors.Is(err, apply.ErrUnknownKind) || !strings.Contains(err.Error(), "Widget") {
		t.Fatalf("error = %v, want ErrUnknownKind naming Widget", err)
	}
	if get(t, configMapGVK, ns, "fine") != nil {
		t.Error("object applied despite an unknown kind in the set")
	}
}

func TestCRDAndCustomResourcesInOneRun(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	crd := crdYAML(group, "gadgets", "Gadget",
		"{type: object, properties: {spec: {type: object, properties: {size: {type: integer, minimum: 1}}}}}") + `
---
apiVersion: ` + group + `/v1
kind: Gadget
metadata:
  name: small
spec:
  size: 1
`
	res, err := e.Apply(ctx, objects(t, "gadgets.yaml", crd), opts)
	if err != nil {
		t.Fatalf("apply CRD and CR: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{
		"CustomResourceDefinition/gadgets." + group: apply.Created,
		"Gadget/small": apply.Created,
	})
	// The CRD's schema is enforced for a CR in the same run: nothing of a
	// bad set is applied.
	bad := strings.Replace(crd, "size: 1", "size: 0", 1) + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: with-bad-gadget\n"
	if _, err := e.Apply(ctx, objects(t, "gadgets.yaml", bad), opts); !errors.Is(err, apply.ErrInvalid) {
		t.Fatalf("invalid CR: error %v, want ErrInvalid", err)
	}
	if get(t, configMapGVK, ns, "with-bad-gadget") != nil {
		t.Error("set with an invalid custom resource was partly applied")
	}
}

func TestNewNamespaceRolledBackWhenItsObjectsAreInvalid(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	newNS := ns + "-new"
	set := objects(t, "ns.yaml", `
apiVersion: v1
kind: Namespace
metadata:
  name: `+newNS+`
---
apiVersion: v1
kind: Service
metadata:
  name: bad
  namespace: `+newNS+`
spec:
  ports: [{port: 99999}]
`)
	_, err := e.Apply(ctx, set, opts)
	if !errors.Is(err, apply.ErrInvalid) {
		t.Fatalf("error = %v, want ErrInvalid", err)
	}
	// Without a namespace controller (api profile) the namespace stays
	// Terminating; it must at least be on its way out.
	if got := get(t, namespaceGVK, "", newNS); got != nil && got.GetDeletionTimestamp() == nil {
		t.Errorf("namespace %s created by the failed run was left behind", newNS)
	}
}

func TestPruneCRDLast(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	crd := crdYAML(group, "things", "Thing", "{type: object, x-kubernetes-preserve-unknown-fields: true}")
	cr := "---\napiVersion: " + group + "/v1\nkind: Thing\nmetadata:\n  name: one\n"
	if _, err := e.Apply(ctx, objects(t, "things.yaml", crd+cr), opts); err != nil {
		t.Fatal(err)
	}
	// Both leave Git: the custom resource goes first, then its CRD.
	res, err := e.Apply(ctx, nil, opts)
	if err != nil {
		t.Fatalf("prune CRD and CR: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{
		"Thing/one": apply.Pruned,
		"CustomResourceDefinition/things." + group: apply.Pruned,
	})
	refs, err := opts.Inventory.Load(ctx)
	if err != nil || len(refs) != 0 {
		t.Errorf("inventory after pruning everything = %v, %v", refs, err)
	}
}

func TestAdoptsExistingObjects(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	// Five ConfigMaps (enough to be read with one List) exist already,
	// created by someone else without cruise's labels.
	var set strings.Builder
	for i := range 5 {
		doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: %s\ndata:\n  v: x\n", i, ns)
		u := objects(t, "pre.yaml", doc)[0].Unstructured
		if err := e.Client().Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		set.WriteString(doc + "---\n")
	}
	res, err := e.Apply(ctx, objects(t, "set.yaml", set.String()), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Changes {
		if c.Action != apply.Configured {
			t.Errorf("%s: %s, want configured (it existed; only the labels are new)", c.Ref, c.Action)
		}
	}
	res, err = e.Apply(ctx, objects(t, "set.yaml", set.String()), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Changes {
		if c.Action != apply.Unchanged {
			t.Errorf("%s: %s on re-apply, want unchanged", c.Ref, c.Action)
		}
	}
}

// crdYAML is a namespaced CRD of kind in group with one served version v1
// and the given openAPIV3Schema (YAML flow style).
func crdYAML(group, plural, kind, schema string) string {
	return `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ` + plural + `.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: ` + plural + `, singular: ` + strings.ToLower(kind) + `, kind: ` + kind + `, listKind: ` + kind + `List}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: ` + schema + `
`
}
