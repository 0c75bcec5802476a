package apply_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// Tests of an engine acting as a tenant: a ServiceAccount impersonated the
// way the controller does for an Application's serviceAccountName, with
// only the rights its RBAC grants.

// tenantEngine creates the ServiceAccount "tenant" in ns, grants it rules
// cluster-wide and local rules in ns only, and returns an engine acting as
// it once the authorizer knows the grants.
func tenantEngine(t *testing.T, ns string, rules, local []rbacv1.PolicyRule) *apply.Engine {
	t.Helper()
	ctx := t.Context()
	cs := env.Client
	const sa = "tenant"
	user := "system:serviceaccount:" + ns + ":" + sa
	subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ns}}
	name := ns + "-tenant" // cluster-scoped: must not collide between tests
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}, Subjects: subjects}, metav1.CreateOptions{}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
	})
	must(cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa}, Rules: local}, metav1.CreateOptions{}))
	must(cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa}, Subjects: subjects}, metav1.CreateOptions{}))

	// The authorizer learns of new bindings through its informers: wait
	// until one right of each binding is in effect.
	for _, probe := range []struct {
		rules []rbacv1.PolicyRule
		ns    string
	}{{rules, ""}, {local, ns}} {
		r := probe.rules[0]
		attrs := &authorizationv1.ResourceAttributes{Namespace: probe.ns, Verb: r.Verbs[0], Group: r.APIGroups[0], Resource: r.Resources[0]}
		clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: attrs}}, metav1.CreateOptions{})
			if err != nil {
				return false, err
			}
			return sar.Status.Allowed, fmt.Errorf("%s may not %s %s yet", user, attrs.Verb, attrs.Resource)
		})
	}

	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: user,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	e, err := apply.NewEngine(cfg, apply.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// readAllBut allows get and list of every namespaced resource the API
// server serves, except the ones named ("configmaps", "widgets.example.com").
func readAllBut(t *testing.T, except ...string) []rbacv1.PolicyRule {
	t.Helper()
	lists, err := env.Client.Discovery().ServerPreferredNamespacedResources()
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var rules []rbacv1.PolicyRule
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		rule := rbacv1.PolicyRule{APIGroups: []string{gv.Group}, Verbs: []string{"get", "list"}}
		for _, res := range list.APIResources {
			name := res.Name
			if gv.Group != "" {
				name += "." + gv.Group
			}
			if !slices.Contains(except, name) {
				rule.Resources = append(rule.Resources, res.Name)
			}
		}
		if len(rule.Resources) > 0 {
			rules = append(rules, rule)
		}
	}
	return rules
}

// inventoryRules let a tenant keep its ConfigMap inventory.
var inventoryRules = []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "create", "patch"}}}

// TestPruneKeepsNamespaceTenantCannotSeeInto: a tenant that may not list
// ConfigMaps prunes a Namespace in which another Application keeps a
// ConfigMap. It cannot tell that the Namespace is in use, so it must keep
// it and say why, rather than delete the other Application's object with
// it.
func TestPruneKeepsNamespaceTenantCannotSeeInto(t *testing.T) {
	ctx := t.Context()
	ns := env.Namespace(t)
	shared := ns + "-shared"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = env.Client.CoreV1().Namespaces().Delete(ctx, shared, metav1.DeleteOptions{})
	})
	rules := append(readAllBut(t, "configmaps"),
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "create", "patch", "delete"}})
	tenant := tenantEngine(t, ns, rules, inventoryRules)
	opts := apply.ApplyOptions{
		Owner:     apply.Owner{Name: "tenant-app", Namespace: ns},
		Inventory: tenant.NewConfigMapInventory(ns, "tenant-app"),
		Prune:     true,
	}
	if _, err := tenant.Apply(ctx, objects(t, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+shared+"\n"), opts); err != nil {
		t.Fatalf("tenant applies its Namespace: %v", err)
	}
	// Another Application, with rights the tenant lacks, keeps a ConfigMap
	// there.
	admin := newEngine(t)
	other := apply.ApplyOptions{Owner: apply.Owner{Name: "other", Namespace: ns}, Inventory: admin.NewConfigMapInventory(ns, "other")}
	if _, err := admin.Apply(ctx, objects(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n  namespace: "+shared+"\n"), other); err != nil {
		t.Fatal(err)
	}

	res, err := tenant.Apply(ctx, nil, opts)
	if err != nil {
		t.Fatalf("tenant prunes: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"Namespace/" + shared: apply.PruneSkipped})
	want := "kept: cannot list configmaps in namespace " + shared + " (forbidden), so it may still be in use"
	if len(res.Changes) == 1 && res.Changes[0].Message != want {
		t.Errorf("message = %q, want %q", res.Changes[0].Message, want)
	}
	if got := get(t, namespaceGVK, "", shared); got == nil || got.GetDeletionTimestamp() != nil {
		t.Fatalf("Namespace %s deleted although the tenant could not see what it holds", shared)
	}
	if get(t, configMapGVK, shared, "theirs") == nil {
		t.Fatal("the other Application's ConfigMap is gone")
	}
	// Kept, so still recorded: a run with more rights can prune it later.
	refs, err := opts.Inventory.Load(ctx)
	if err != nil || len(refs) != 1 || refs[0].Name != shared {
		t.Errorf("inventory = %v, %v; want the kept Namespace", refs, err)
	}
}

// TestPruneKeepsNamespaceWhenDiscoveryFails: an aggregated API whose
// server is down cannot be listed, so whatever it stores in the Namespace
// is unknown, and the Namespace must stay.
func TestPruneKeepsNamespaceWhenDiscoveryFails(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	shared := ns + "-shared"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = env.Client.CoreV1().Namespaces().Delete(ctx, shared, metav1.DeleteOptions{})
	})
	if _, err := e.Apply(ctx, objects(t, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+shared+"\n"), opts); err != nil {
		t.Fatal(err)
	}
	// An API served by a Service that does not exist.
	gv := strings.ReplaceAll(ns, "-", "") + ".example.com/v1"
	group, version, _ := strings.Cut(gv, "/")
	apiService := objects(t, "apiservice.yaml", `
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: `+version+`.`+group+`
spec:
  group: `+group+`
  version: `+version+`
  service: {namespace: `+ns+`, name: down, port: 443}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 1000
  versionPriority: 15
`)[0].Unstructured
	if err := e.Client().Create(ctx, apiService); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Client().Delete(ctx, apiService)
		// Later tests discover every API: wait until this one is gone.
		clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
			_, err := env.Client.Discovery().ServerPreferredNamespacedResources()
			return err == nil, err
		})
	})
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		_, err := env.Client.Discovery().ServerPreferredNamespacedResources()
		return err != nil, fmt.Errorf("discovery does not report %s as failed yet", gv)
	})

	res, err := e.Apply(ctx, nil, opts)
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	t.Logf("%+v", res.Changes)
	wantActions(t, res.Changes, map[string]apply.Action{"Namespace/" + shared: apply.PruneSkipped})
	want := "kept: cannot list the kinds of " + gv + " in namespace " + shared + " (discovery failed: "
	if len(res.Changes) == 1 && !strings.HasPrefix(res.Changes[0].Message, want) {
		t.Errorf("message = %q, want it to start with %q", res.Changes[0].Message, want)
	}
	if got := get(t, namespaceGVK, "", shared); got == nil || got.GetDeletionTimestamp() != nil {
		t.Fatalf("Namespace %s deleted although an API group could not be read", shared)
	}
}

// TestPruneKeepsCRDTenantCannotList: deleting a CRD deletes all of its
// custom resources, whoever made them; a tenant that may not list them
// must keep the CRD (before, its prune failed with an error).
func TestPruneKeepsCRDTenantCannotList(t *testing.T) {
	ctx := t.Context()
	ns := env.Namespace(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	crdName := "widgets." + group
	rules := []rbacv1.PolicyRule{{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"},
		Verbs: []string{"get", "list", "create", "patch", "delete"}}}
	tenant := tenantEngine(t, ns, rules, inventoryRules)
	opts := apply.ApplyOptions{
		Owner:     apply.Owner{Name: "tenant-app", Namespace: ns},
		Inventory: tenant.NewConfigMapInventory(ns, "tenant-app"),
		Prune:     true,
	}
	if _, err := tenant.Apply(ctx, objects(t, "crd.yaml", crdYAML(group, "widgets", "Widget", "{type: object, x-kubernetes-preserve-unknown-fields: true}")), opts); err != nil {
		t.Fatalf("tenant applies its CRD: %v", err)
	}
	// The tenant's engine waited until its discovery served the kind; a
	// second engine's discovery may lag behind it for a moment.
	cr := "apiVersion: " + group + "/v1\nkind: Widget\nmetadata:\n  name: theirs\n  namespace: " + ns + "\n"
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		_, err := newEngine(t).Apply(ctx, objects(t, "cr.yaml", cr), apply.ApplyOptions{Owner: apply.Owner{Name: "other", Namespace: ns}})
		if errors.Is(err, apply.ErrUnknownKind) {
			return false, err
		}
		if err != nil {
			t.Fatal(err)
		}
		return true, nil
	})

	res, err := tenant.Apply(ctx, nil, opts)
	if err != nil {
		t.Fatalf("tenant prunes: %v", err)
	}
	wantActions(t, res.Changes, map[string]apply.Action{"CustomResourceDefinition/" + crdName: apply.PruneSkipped})
	want := "kept: cannot list " + crdName + " in all namespaces (forbidden), so it may still be in use"
	if len(res.Changes) == 1 && res.Changes[0].Message != want {
		t.Errorf("message = %q, want %q", res.Changes[0].Message, want)
	}
	crdGVK := schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	if got := get(t, crdGVK, "", crdName); got == nil || got.GetDeletionTimestamp() != nil {
		t.Fatalf("CRD %s deleted with the other Application's Widget", crdName)
	}
}

// TestFailedRunReportsWhatItCouldNotUndo: a tenant that may create
// Namespaces but not delete them applies a new Namespace with an invalid
// object in it. The run fails and cannot delete the Namespace it created:
// the error must say so, and the record must keep the Namespace, or no
// later run would ever prune it.
func TestFailedRunReportsWhatItCouldNotUndo(t *testing.T) {
	ctx := t.Context()
	ns := env.Namespace(t)
	newNS := ns + "-new"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = env.Client.CoreV1().Namespaces().Delete(ctx, newNS, metav1.DeleteOptions{})
	})
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "create", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"get", "list", "create", "patch"}},
	}
	tenant := tenantEngine(t, ns, rules, inventoryRules)
	opts := apply.ApplyOptions{
		Owner:     apply.Owner{Name: "app", Namespace: ns},
		Inventory: tenant.NewConfigMapInventory(ns, "app"),
		Prune:     true,
	}
	_, err := tenant.Apply(ctx, objects(t, "ns.yaml", `
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
`), opts)
	t.Log(err)
	if !errors.Is(err, apply.ErrInvalid) {
		t.Fatalf("error = %v, want the invalid Service's ErrInvalid", err)
	}
	for _, want := range []string{"Service/" + newNS + "/bad", "Namespace/" + newNS, "left behind", "forbidden"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	if got := get(t, namespaceGVK, "", newNS); got == nil || got.GetDeletionTimestamp() != nil {
		t.Fatalf("Namespace %s: %v; the scenario needs the delete to be refused", newNS, got)
	}
	refs, err := opts.Inventory.Load(ctx)
	if err != nil || len(refs) != 1 || refs[0].Kind != "Namespace" || refs[0].Name != newNS {
		t.Errorf("inventory = %v, %v; want the Namespace left behind", refs, err)
	}
}

// failingStore is a ConfigMap inventory whose Store fails on one call, as
// when the API server stops answering in the middle of a run.
type failingStore struct {
	apply.Inventory
	failOn int // 1-based
	calls  int
}

var errStoreRefused = errors.New("inventory store refused by the test")

func (f *failingStore) Store(ctx context.Context, refs []apply.ObjRef) error {
	f.calls++
	if f.calls == f.failOn {
		return errStoreRefused
	}
	return f.Inventory.Store(ctx, refs)
}

// TestFailedRunReportsInventoryWriteErrors: when a run fails, the record
// of what it did is still written; if that write fails too, the error
// says so along with the original one.
func TestFailedRunReportsInventoryWriteErrors(t *testing.T) {
	t.Run("undoing new definitions", func(t *testing.T) {
		ctx := t.Context()
		e, ns, opts := setup(t)
		newNS := ns + "-new"
		// Store 1 records the new Namespace before it is created; store 2
		// would put the record back after the run fails.
		opts.Inventory = &failingStore{Inventory: opts.Inventory, failOn: 2}
		_, err := e.Apply(ctx, objects(t, "ns.yaml", `
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
`), opts)
		t.Log(err)
		if !errors.Is(err, apply.ErrInvalid) || !errors.Is(err, errStoreRefused) {
			t.Fatalf("error = %v, want both the invalid Service and the refused inventory write", err)
		}
	})
	t.Run("after a failed prune", func(t *testing.T) {
		ctx := t.Context()
		ns := env.Namespace(t)
		// May create ConfigMaps but not delete them: prune fails.
		tenant := tenantEngine(t, ns, []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get"}}}, inventoryRules)
		inv := &failingStore{Inventory: tenant.NewConfigMapInventory(ns, "app")}
		opts := apply.ApplyOptions{Owner: apply.Owner{Name: "app", Namespace: ns}, Inventory: inv, Namespaces: apply.Namespaces{Default: ns}, Prune: true}
		if _, err := tenant.Apply(ctx, objects(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: undeletable\n"), opts); err != nil {
			t.Fatal(err)
		}
		// This run stores twice: the union before changing anything, then
		// what is left after the prune, which fails.
		inv.calls, inv.failOn = 0, 2
		_, err := tenant.Apply(ctx, nil, opts)
		t.Log(err)
		if err == nil || !strings.Contains(err.Error(), "ConfigMap/"+ns+"/undeletable: prune") {
			t.Fatalf("error = %v, want the refused delete", err)
		}
		if !errors.Is(err, errStoreRefused) {
			t.Errorf("error = %v, want the refused inventory write too", err)
		}
	})
}
