package apply_test

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/apply"
)

func TestConflictsResolvedInGitsFavourOnlyForGitsFields(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	const dep = webDeployment
	if _, err := e.Apply(ctx, objects(t, "dep.yaml", dep), opts); err != nil {
		t.Fatal(err)
	}
	// A person edits the image (a field Git sets) and an autoscaler sets
	// replicas (a field Git leaves alone), each as its own field manager.
	live := get(t, deploymentGVK, ns, "web")
	containers, _, _ := unstructured.NestedSlice(live.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]any)["image"] = "registry.invalid/web:hotfix"
	_ = unstructured.SetNestedSlice(live.Object, containers, "spec", "template", "spec", "containers")
	if err := e.Client().Update(ctx, live, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	scale := get(t, deploymentGVK, ns, "web")
	_ = unstructured.SetNestedField(scale.Object, int64(5), "spec", "replicas")
	if err := e.Client().Update(ctx, scale, client.FieldOwner("hpa-controller")); err != nil {
		t.Fatal(err)
	}

	diffs, err := e.Diff(ctx, objects(t, "dep.yaml", dep), apply.DiffOptions{Owner: opts.Owner, Namespaces: opts.Namespaces})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Action != apply.Configured || !strings.Contains(diffs[0].Diff, "-      - image: registry.invalid/web:hotfix") {
		t.Fatalf("diff after edit = %+v, want the image change", diffs)
	}
	if strings.Contains(diffs[0].Diff, "replicas") {
		t.Errorf("diff shows replicas, a field Git does not set:\n%s", diffs[0].Diff)
	}

	res, err := e.Apply(ctx, objects(t, "dep.yaml", dep), opts)
	if err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"Deployment/web": apply.Configured})
	after := get(t, deploymentGVK, ns, "web")
	containers, _, _ = unstructured.NestedSlice(after.Object, "spec", "template", "spec", "containers")
	if img := containers[0].(map[string]any)["image"]; img != "registry.invalid/web:1" {
		t.Errorf("image = %v, want Git's registry.invalid/web:1", img)
	}
	if r, _, _ := unstructured.NestedInt64(after.Object, "spec", "replicas"); r != 5 {
		t.Errorf("replicas = %d, want the autoscaler's 5 kept", r)
	}
}

func TestImmutableFieldNeedsForce(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	job := func(cmd, annotations string) string {
		return `
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {` + annotations + `}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: m
        image: registry.invalid/migrate:1
        command: [` + cmd + `]
`
	}
	if _, err := e.Apply(ctx, objects(t, "job.yaml", job("up", "")), opts); err != nil {
		t.Fatal(err)
	}
	first := get(t, jobGVK, ns, "migrate").GetUID()

	_, err := e.Apply(ctx, objects(t, "job.yaml", job("down", "")), opts)
	if !errors.Is(err, apply.ErrImmutable) || !strings.Contains(err.Error(), "Job/"+ns+"/migrate") || !strings.Contains(err.Error(), apply.AnnotationForce) {
		t.Fatalf("error = %v, want ErrImmutable naming the Job and the force annotation", err)
	}
	if get(t, jobGVK, ns, "migrate").GetUID() != first {
		t.Fatal("Job replaced without force")
	}

	res, err := e.Apply(ctx, objects(t, "job.yaml", job("down", "cruise.dev/force: enabled")), opts)
	if err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"Job/migrate": apply.Recreated})
	if get(t, jobGVK, ns, "migrate").GetUID() == first {
		t.Fatal("Job not recreated")
	}

	forced := opts
	forced.Force = true
	res, err = e.Apply(ctx, objects(t, "job.yaml", job("sideways", "")), forced)
	if err != nil {
		t.Fatalf("apply with Force: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"Job/migrate": apply.Recreated})
}

func TestLargeConfigMap(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	// Close to the 1 MiB object limit: with a last-applied annotation this
	// would be twice as large and be refused.
	big := strings.Repeat("x", 900*1024)
	obj := objects(t, "big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: "+big+"\n")
	if _, err := e.Apply(ctx, obj, opts); err != nil {
		t.Fatalf("apply 900 KiB ConfigMap: %v", err)
	}
	if got, _, _ := unstructured.NestedString(get(t, configMapGVK, ns, "big").Object, "data", "blob"); len(got) != len(big) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(big))
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	opts.DryRun = true
	res, err := e.Apply(ctx, objects(t, "web.yaml", webV1), opts)
	if err != nil {
		t.Fatal(err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"ConfigMap/settings": apply.Created, "Deployment/web": apply.Created})
	if get(t, configMapGVK, ns, "settings") != nil || get(t, configMapGVK, ns, "cruise-inventory-app") != nil {
		t.Fatal("dry run changed the cluster")
	}
}

func TestNamespaces(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	other := env.Namespace(t)
	set := `
apiVersion: v1
kind: ConfigMap
metadata:
  name: unnamed-ns
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: named-ns
  namespace: ` + other + `
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ` + ns + `-reader
  namespace: ignored-for-cluster-scoped
rules: []
`
	if _, err := e.Apply(ctx, objects(t, "ns.yaml", set), opts); err != nil {
		t.Fatal(err)
	}
	if get(t, configMapGVK, ns, "unnamed-ns") == nil || get(t, configMapGVK, other, "named-ns") == nil {
		t.Fatal("Default namespace must apply only to objects that name none")
	}

	target := env.Namespace(t)
	opts.Namespaces.Target = target
	opts.Inventory = e.NewConfigMapInventory(ns, "targeted")
	opts.Owner.Name = "targeted"
	if _, err := e.Apply(ctx, objects(t, "ns.yaml", set), opts); err != nil {
		t.Fatal(err)
	}
	if get(t, configMapGVK, target, "unnamed-ns") == nil || get(t, configMapGVK, target, "named-ns") == nil {
		t.Fatal("Target namespace must override every namespaced object's namespace")
	}
}
