package cli_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// installedObjects is every object `cruise install` makes, as
// Kind/namespace/name, sorted; with multiTenant, what
// `cruise install --multi-tenant` makes.
func installedObjects(multiTenant bool) []string {
	all := []string{
		"ClusterRole/cruise-controller",
		"ClusterRole/cruise-impersonator",
		"ClusterRole/cruise-sealed-secrets",
		"ClusterRoleBinding/cruise-controller",
		"ClusterRoleBinding/cruise-controller-apply",
		"ClusterRoleBinding/cruise-controller-impersonate",
		"ClusterRoleBinding/cruise-sealed-secrets",
		"CustomResourceDefinition/alerts.cruise.dev",
		"CustomResourceDefinition/applications.cruise.dev",
		"CustomResourceDefinition/gitrepositories.cruise.dev",
		"CustomResourceDefinition/imagepolicies.cruise.dev",
		"CustomResourceDefinition/imagerepositories.cruise.dev",
		"CustomResourceDefinition/imageupdateautomations.cruise.dev",
		"CustomResourceDefinition/providers.cruise.dev",
		"CustomResourceDefinition/sealedsecrets.cruise.dev",
		"Deployment/cruise-system/cruise-controller",
		"Namespace/cruise-system",
		"Role/cruise-system/cruise-leader-election",
		"Role/cruise-system/cruise-sealing-keys",
		"Role/cruise-system/cruise-sealing-public-key",
		"RoleBinding/cruise-system/cruise-leader-election",
		"RoleBinding/cruise-system/cruise-sealing-keys",
		"RoleBinding/cruise-system/cruise-sealing-public-key",
		"Service/cruise-system/cruise-metrics",
		"Service/cruise-system/cruise-webhook",
		"ServiceAccount/cruise-system/cruise-controller",
	}
	if multiTenant {
		return slices.DeleteFunc(all, func(s string) bool { return s == "ClusterRoleBinding/cruise-controller-apply" })
	}
	return all
}

// parseYAML splits a YAML stream into objects keyed Kind/namespace/name.
func parseYAML(t *testing.T, stream string) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("parse %s: %v", doc, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		id := u.GetKind() + "/" + u.GetName()
		if ns := u.GetNamespace(); ns != "" {
			id = u.GetKind() + "/" + ns + "/" + u.GetName()
		}
		out[id] = u
	}
}

func sortedKeys(m map[string]*unstructured.Unstructured) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func field(t *testing.T, u *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(u.Object, path...)
	if err != nil || !ok {
		t.Fatalf("%s/%s has no %s (%v)", u.GetKind(), u.GetName(), strings.Join(path, "."), err)
	}
	return v
}

// TestInstallPrint checks the manifests install applies; --print must not
// contact a cluster, so the kubeconfig given does not even exist.
func TestInstallPrint(t *testing.T) {
	installed, multiTenant := installedObjects(false), installedObjects(true)
	noCluster := []string{"--kubeconfig", filepath.Join(t.TempDir(), "missing")}

	r := mustCruise(t, 0, args([]string{"install", "--print"}, noCluster)...)
	objs := parseYAML(t, r.stdout)
	if got := sortedKeys(objs); !slices.Equal(got, installed) {
		t.Fatalf("install --print objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(installed, "\n"))
	}
	wantContains(t, r.stdout, "# Source: config/default/kustomization.yaml")

	dep := objs["Deployment/cruise-system/cruise-controller"]
	c := field(t, dep, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	if c["name"] != "controller" || c["image"] != "cruise:dev" {
		t.Errorf("container %v image %v, want controller with the default image cruise:dev", c["name"], c["image"])
	}
	wantArgs := []any{"controller", "--leader-elect", "--metrics-addr=:8080", "--health-addr=:8081", "--webhook-addr=:9292", "--webhook-secret-file=/etc/cruise/webhook/secret", "--storage-limit=1536Mi"}
	if !slices.Equal(c["args"].([]any), wantArgs) {
		t.Errorf("args = %v, want %v", c["args"], wantArgs)
	}
	// The cache's own limit stays under its volume's, or the kubelet
	// evicts the controller before the limit is reached.
	for _, v := range field(t, dep, "spec", "template", "spec", "volumes").([]any) {
		if v := v.(map[string]any); v["name"] == "tmp" {
			size := resource.MustParse(v["emptyDir"].(map[string]any)["sizeLimit"].(string))
			if limit := resource.MustParse(strings.TrimPrefix(wantArgs[len(wantArgs)-1].(string), "--storage-limit=")); limit.Cmp(size) >= 0 {
				t.Errorf("--storage-limit %s is not under the cache volume's sizeLimit %s", limit.String(), size.String())
			}
		}
	}
	sc := c["securityContext"].(map[string]any)
	if sc["readOnlyRootFilesystem"] != true || sc["runAsNonRoot"] != true || sc["allowPrivilegeEscalation"] != false {
		t.Errorf("container securityContext = %v", sc)
	}
	if drop := sc["capabilities"].(map[string]any)["drop"]; !slices.Equal(drop.([]any), []any{"ALL"}) {
		t.Errorf("capabilities.drop = %v, want [ALL]", drop)
	}
	if p := field(t, dep, "spec", "template", "spec", "securityContext", "seccompProfile", "type"); p != "RuntimeDefault" {
		t.Errorf("seccompProfile = %v", p)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		get := c[probe].(map[string]any)["httpGet"].(map[string]any)
		if get["port"] != "health" {
			t.Errorf("%s port = %v, want health (8081)", probe, get["port"])
		}
	}
	if _, ok := c["resources"].(map[string]any)["limits"]; !ok {
		t.Error("controller container has no resource limits")
	}
	ports := field(t, objs["Service/cruise-system/cruise-webhook"], "spec", "ports").([]any)
	if p := ports[0].(map[string]any); p["port"] != int64(80) && p["port"] != float64(80) {
		t.Errorf("cruise-webhook port = %v, want 80", p["port"])
	}
	subject := field(t, objs["ClusterRoleBinding/cruise-controller-apply"], "subjects").([]any)[0].(map[string]any)
	if subject["name"] != "cruise-controller" || subject["namespace"] != "cruise-system" {
		t.Errorf("cruise-controller-apply binds %v", subject)
	}

	r = mustCruise(t, 0, args([]string{"install", "--print", "--multi-tenant", "--image", "registry.example/cruise:v1.2.3"}, noCluster)...)
	objs = parseYAML(t, r.stdout)
	if got := sortedKeys(objs); !slices.Equal(got, multiTenant) {
		t.Fatalf("install --print --multi-tenant objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(multiTenant, "\n"))
	}
	c = field(t, objs["Deployment/cruise-system/cruise-controller"], "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	if c["image"] != "registry.example/cruise:v1.2.3" {
		t.Errorf("--image: container image = %v", c["image"])
	}

	r = mustCruise(t, 0, args([]string{"install", "--print", "--server", "--public-url", "https://cruise.example.org"}, noCluster)...)
	objs = parseYAML(t, r.stdout)
	c = field(t, objs["Deployment/cruise-system/cruise-server"], "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	if c["image"] != "cruise:dev" || !slices.Contains(c["args"].([]any), any("--public-url=https://cruise.example.org")) {
		t.Errorf("server container image %v args %v", c["image"], c["args"])
	}
	c = field(t, objs["Deployment/cruise-system/cruise-controller"], "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	if !slices.Contains(c["args"].([]any), any("--server-url=https://cruise.example.org")) {
		t.Errorf("with --server the controller links notifications to it: args %v", c["args"])
	}
	// The server's own identity: impersonate and list Namespaces, nothing else.
	rules := field(t, objs["ClusterRole/cruise-server"], "rules").([]any)
	var perms []string
	for _, r := range rules {
		m := r.(map[string]any)
		for _, res := range m["resources"].([]any) {
			for _, v := range m["verbs"].([]any) {
				perms = append(perms, fmt.Sprintf("%v/%v", res, v))
			}
		}
	}
	if want := []string{"users/impersonate", "groups/impersonate", "namespaces/list"}; !slices.Equal(perms, want) {
		t.Errorf("cruise-server may %v, want only %v", perms, want)
	}

	for _, bad := range [][]string{
		{"install", "--print", "--server"},
		{"install", "--print", "--server", "--public-url", "http://cruise.example.org"},
		{"install", "--print", "--wait"},
		{"install", "--print", "--image", "cruise: dev"},
		{"install", "stray"},
	} {
		mustCruise(t, 2, args(bad, noCluster)...)
	}
}

// TestInstall installs, upgrades, switches to multi-tenant and uninstalls
// on a control plane of its own: the CRDs are cluster-wide, and other
// tests of this package install them too.
func TestInstall(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	own, err := clustertest.Start(ctx, devcluster.ProfileAPI)
	if err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	t.Cleanup(func() { _ = own.Cluster.Stop() })
	kube := []string{"--kubeconfig", own.Cluster.Kubeconfig}
	installed, multiTenant := installedObjects(false), installedObjects(true)
	dyn, err := dynamic.NewForConfig(own.Config)
	if err != nil {
		t.Fatal(err)
	}

	r := mustCruise(t, 0, args([]string{"install"}, kube)...)
	wantLines(t, r.stdout,
		"CustomResourceDefinition/applications.cruise.dev created",
		"Namespace/cruise-system created",
		"Deployment/cruise-system/cruise-controller created",
		"ClusterRoleBinding/cruise-controller-apply created",
		fmt.Sprintf("installed cruise (image cruise:dev) into namespace cruise-system: %d created, 0 configured, 0 unchanged, 0 pruned", len(installed)),
	)
	wantInstalled(t, own, dyn, installed)
	for _, crd := range []string{"applications.cruise.dev", "gitrepositories.cruise.dev", "sealedsecrets.cruise.dev", "imagerepositories.cruise.dev", "imagepolicies.cruise.dev", "imageupdateautomations.cruise.dev"} {
		clustertest.Eventually(t, time.Minute, func() (bool, error) { return established(ctx, dyn, crd) })
	}
	inv := configMapIn(t, own.Client, "kube-system", "cruise-inventory-cruise-install")
	if inv == nil || strings.Count(inv["inventory.json"], `"kind"`) != len(installed) {
		t.Errorf("inventory ConfigMap kube-system/cruise-inventory-cruise-install = %v, want %d objects", inv, len(installed))
	}
	wantAccess(t, own.Client, map[access]bool{
		{"create", "apps", "deployments", "default"}:                 true, // cruise-controller-apply
		{"list", "cruise.dev", "applications", ""}:                   true,
		{"patch", "cruise.dev", "applications/status", "team-a"}:     true,
		{"impersonate", "", "serviceaccounts", "team-a"}:             true,
		{"update", "coordination.k8s.io", "leases", "cruise-system"}: true,
	})

	r = mustCruise(t, 0, args([]string{"install"}, kube)...)
	wantContains(t, r.stdout, fmt.Sprintf("%d unchanged, 0 pruned", len(installed)))

	// Switching to multi-tenant removes the cluster-admin binding and
	// keeps the least-privilege rights.
	r = mustCruise(t, 0, args([]string{"install", "--multi-tenant"}, kube)...)
	wantLines(t, r.stdout, "ClusterRoleBinding/cruise-controller-apply pruned")
	wantContains(t, r.stdout, fmt.Sprintf("%d unchanged, 1 pruned", len(multiTenant)))
	wantInstalled(t, own, dyn, multiTenant)
	if _, err := own.Client.RbacV1().ClusterRoleBindings().Get(ctx, "cruise-controller-apply", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("--multi-tenant: ClusterRoleBinding cruise-controller-apply still there (err %v)", err)
	}
	wantAccess(t, own.Client, map[access]bool{
		{"create", "apps", "deployments", "default"}: false,
		// cruise-sealed-secrets: the Secrets SealedSecrets unseal into.
		{"delete", "", "secrets", "team-a"}:                           true,
		{"create", "", "configmaps", "team-a"}:                        false,
		{"patch", "cruise.dev", "sealedsecrets/status", "team-a"}:     true,
		{"create", "", "configmaps", "cruise-system"}:                 true, // the public keys
		{"create", "rbac.authorization.k8s.io", "clusterroles", ""}:   false,
		{"get", "", "secrets", "team-a"}:                              true, // Git credentials
		{"watch", "apps", "deployments", ""}:                          true, // drift watches
		{"update", "cruise.dev", "gitrepositories", "team-a"}:         true,
		{"update", "cruise.dev", "applications/finalizers", "team-a"}: true,
		{"create", "", "events", "team-a"}:                            true,
		{"impersonate", "", "serviceaccounts", "team-a"}:              true,
		{"create", "coordination.k8s.io", "leases", "cruise-system"}:  true,
		{"create", "coordination.k8s.io", "leases", "default"}:        false,
	})
	wantPublicKeyReadable(t, own.Client)

	// Custom resources, one with a finalizer no controller will remove.
	ns := own.Namespace(t)
	repos := dyn.Resource(schema.GroupVersionResource{Group: "cruise.dev", Version: "v1alpha1", Resource: "gitrepositories"}).Namespace(ns)
	apps := dyn.Resource(schema.GroupVersionResource{Group: "cruise.dev", Version: "v1alpha1", Resource: "applications"}).Namespace(ns)
	repo := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cruise.dev/v1alpha1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "repo", "finalizers": []any{"cruise.dev/finalizer"}},
		"spec":     map[string]any{"url": "https://git.example/repo.git"},
	}}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cruise.dev/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "app", "finalizers": []any{"cruise.dev/finalizer"}},
		"spec":     map[string]any{"sourceRef": map[string]any{"name": "repo"}},
	}}
	if _, err := repos.Create(ctx, repo, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := apps.Create(ctx, app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Without --yes nothing is removed.
	r = mustCruise(t, 2, args([]string{"uninstall"}, kube)...)
	wantContains(t, r.stderr, "--yes")
	wantInstalled(t, own, dyn, multiTenant)
	if _, err := apps.Get(ctx, "app", metav1.GetOptions{}); err != nil {
		t.Errorf("uninstall without --yes: Application: %v", err)
	}

	// The sealing keys are not deleted without being asked for.
	keys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "cruise-system", Name: "cruise-sealing-keys"}}
	if _, err := own.Client.CoreV1().Secrets("cruise-system").Create(ctx, keys, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r = mustCruise(t, 2, args([]string{"uninstall", "--yes"}, kube)...)
	wantContains(t, r.stderr, "cruise secrets backup")
	wantContains(t, r.stderr, "--delete-sealing-keys")
	wantInstalled(t, own, dyn, multiTenant)

	r = mustCruise(t, 0, args([]string{"uninstall", "--yes", "--delete-sealing-keys"}, kube)...)
	wantLines(t, r.stdout,
		"Deployment/cruise-system/cruise-controller pruned",
		"Application/"+ns+"/app deleted",
		"GitRepository/"+ns+"/repo deleted",
		"CustomResourceDefinition/applications.cruise.dev pruned",
		"Namespace/cruise-system pruned",
		fmt.Sprintf("uninstalled cruise: %d objects pruned, 2 GitRepositories and Applications deleted", len(multiTenant)),
	)
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		left := presentObjects(t, own, dyn, multiTenant)
		return len(left) == 0, errors.New("left: " + strings.Join(left, ", "))
	})
	if inv := configMapIn(t, own.Client, "kube-system", "cruise-inventory-cruise-install"); inv != nil {
		t.Errorf("the inventory ConfigMap is left after uninstall: %v", inv)
	}
	r = mustCruise(t, 0, args([]string{"uninstall", "--yes"}, kube)...)
	wantContains(t, r.stdout, "cruise is not installed")
}

// wantInstalled checks that every object of want exists.
func wantInstalled(t *testing.T, env *clustertest.Env, dyn dynamic.Interface, want []string) {
	t.Helper()
	if got := presentObjects(t, env, dyn, want); !slices.Equal(got, want) {
		t.Errorf("objects in the cluster:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// presentObjects returns the objects of ids that exist and are not being
// deleted. Without kube-controller-manager (api profile) a deleted
// Namespace stays Terminating, so that counts as gone.
func presentObjects(t *testing.T, env *clustertest.Env, dyn dynamic.Interface, ids []string) []string {
	t.Helper()
	resources := map[string]schema.GroupVersionResource{
		"ClusterRole":              {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		"ClusterRoleBinding":       {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		"Role":                     {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		"RoleBinding":              {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
		"CustomResourceDefinition": {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
		"Deployment":               {Group: "apps", Version: "v1", Resource: "deployments"},
		"Namespace":                {Version: "v1", Resource: "namespaces"},
		"Service":                  {Version: "v1", Resource: "services"},
		"ServiceAccount":           {Version: "v1", Resource: "serviceaccounts"},
	}
	var present []string
	for _, id := range ids {
		parts := strings.Split(id, "/")
		gvr, ok := resources[parts[0]]
		if !ok {
			t.Fatalf("no resource known for %s", id)
		}
		var (
			obj *unstructured.Unstructured
			err error
		)
		if len(parts) == 3 {
			obj, err = dyn.Resource(gvr).Namespace(parts[1]).Get(t.Context(), parts[2], metav1.GetOptions{})
		} else {
			obj, err = dyn.Resource(gvr).Get(t.Context(), parts[1], metav1.GetOptions{})
		}
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			t.Fatalf("get %s: %v", id, err)
		case obj.GetDeletionTimestamp() == nil:
			present = append(present, id)
		}
	}
	return present
}

// established reports whether the CRD is served.
func established(ctx context.Context, dyn dynamic.Interface, name string) (bool, error) {
	crd, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
		Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true, nil
		}
	}
	return false, errors.New(name + " not Established")
}

func configMapIn(t *testing.T, cs kubernetes.Interface, ns, name string) map[string]string {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data
}

// access is one request the controller's ServiceAccount may or may not
// make; an empty namespace means cluster-wide.
type access struct{ verb, group, resource, namespace string }

// wantAccess checks what RBAC lets the controller's ServiceAccount do.
// RBAC changes reach the authorizer through a watch, so each answer is
// waited for.
func wantAccess(t *testing.T, cs kubernetes.Interface, want map[access]bool) {
	t.Helper()
	for a, allowed := range want {
		resource, sub, _ := strings.Cut(a.resource, "/")
		clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{
					User:   "system:serviceaccount:cruise-system:cruise-controller",
					Groups: []string{"system:serviceaccounts", "system:serviceaccounts:cruise-system", "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Verb: a.verb, Group: a.group, Resource: resource, Subresource: sub, Namespace: a.namespace,
					},
				},
			}, metav1.CreateOptions{})
			if err != nil {
				return false, err
			}
			if sar.Status.Allowed != allowed {
				return false, errors.New("controller may " + a.verb + " " + a.resource + " in " + a.namespace + ": " +
					map[bool]string{true: "yes", false: "no"}[sar.Status.Allowed])
			}
			return true, nil
		})
	}
}

// wantPublicKeyReadable checks that any authenticated user may read the
// sealing public key, and nothing else in cruise-system.
func wantPublicKeyReadable(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	for name, allowed := range map[string]bool{"cruise-sealing-public-key": true, "cruise-other": false} {
		clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{
					User: "jane@example.org", Groups: []string{"system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Verb: "get", Resource: "configmaps", Namespace: "cruise-system", Name: name,
					},
				},
			}, metav1.CreateOptions{})
			if err != nil {
				return false, err
			}
			return sar.Status.Allowed == allowed, fmt.Errorf("an authenticated user may get ConfigMap cruise-system/%s: %v", name, sar.Status.Allowed)
		})
	}
}

// TestImage builds the container image as `make image` does and checks
// it: one layer holding the static cruise binary, the entrypoint /cruise,
// a non-root user.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cruise binary and the image")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin, image := filepath.Join(dir, "cruise"), filepath.Join(dir, "cruise-image.tar")
	goRun(t, root, []string{"CGO_ENABLED=0", "GOOS=linux"}, "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/cruise")
	goRun(t, filepath.Join(root, "hack", "tools", "image"), nil, "run", ".", "--binary", bin, "--out", image)
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}

	tarball, err := os.Open(image)
	if err != nil {
		t.Fatal(err)
	}
	defer tarball.Close()
	files := readTar(t, tarball)
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 || !slices.Equal(manifest[0].RepoTags, []string{"cruise:dev"}) || len(manifest[0].Layers) != 1 {
		t.Fatalf("manifest.json = %+v, want one image tagged cruise:dev with one layer", manifest)
	}
	var cfg struct {
		OS, Architecture string
		Config           struct {
			Entrypoint []string
			User       string
		}
	}
	if err := json.Unmarshal(files[manifest[0].Config], &cfg); err != nil {
		t.Fatalf("image config: %v", err)
	}
	if cfg.OS != "linux" || !slices.Equal(cfg.Config.Entrypoint, []string{"/cruise"}) || cfg.Config.User != "65532:65532" {
		t.Errorf("image config = %+v, want linux, entrypoint [/cruise], user 65532:65532", cfg)
	}

	zr, err := gzip.NewReader(bytes.NewReader(files[manifest[0].Layers[0]]))
	if err != nil {
		t.Fatalf("layer: %v", err)
	}
	layer := readTarHeaders(t, zr)
	h, ok := layer["cruise"]
	if !ok {
		t.Fatalf("the layer has no cruise; it holds %v", slices.Sorted(maps.Keys(layer)))
	}
	if h.hdr.Typeflag != tar.TypeReg || h.hdr.Mode&0o111 == 0 {
		t.Errorf("cruise in the layer: type %c mode %o, want an executable file", h.hdr.Typeflag, h.hdr.Mode)
	}
	if !bytes.Equal(h.data, want) {
		t.Error("cruise in the layer differs from the binary built")
	}
	f, err := elf.NewFile(bytes.NewReader(h.data))
	if err != nil {
		t.Fatalf("cruise in the layer: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("cruise in the layer is dynamically linked; the image has no libc")
		}
	}
	if _, ok := layer["etc/ssl/certs/ca-certificates.crt"]; !ok {
		t.Error("the layer has no CA certificates")
	}
}

func goRun(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("go %s (in %s):\n%s", strings.Join(args, " "), dir, out)
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
}

// readTar returns the regular files of a tar stream by name.
func readTar(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, f := range readTarHeaders(t, r) {
		out[name] = f.data
	}
	return out
}

type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTarHeaders(t *testing.T, r io.Reader) map[string]tarEntry {
	t.Helper()
	out := map[string]tarEntry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(h.Name, "/")] = tarEntry{h, data}
	}
}
