package cli_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// hookChart is a chart with a generated password, a lookup, the
// install/upgrade built-ins and ConfigMap hooks at the four apply events
// (ConfigMaps: the API profile runs no Jobs; hookrun's own tests run Job
// hooks on the full profile).
func hookChart(color string) map[string]string {
	hook := func(event string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: hook-%[1]s
  annotations:
    helm.sh/hook: %[1]s
data:
  color: {{ .Values.color | quote }}
  install: {{ .Release.IsInstall | quote }}
`, event)
	}
	return map[string]string{
		"chart/Chart.yaml":  "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: \"2.0\"\n",
		"chart/values.yaml": "color: " + color + "\n",
		"chart/templates/config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  color: {{ .Values.color | quote }}
  service: {{ .Release.Service | quote }}
  namespace: {{ .Release.Namespace | quote }}
  {{- with lookup "v1" "ConfigMap" .Release.Namespace "seen" }}
  seen: {{ .data.value | quote }}
  {{- end }}
`,
		"chart/templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-password
stringData:
  password: {{ randAlphaNum 24 | quote }}
`,
		"chart/templates/pre-install.yaml":  hook("pre-install"),
		"chart/templates/post-install.yaml": hook("post-install"),
		"chart/templates/pre-upgrade.yaml":  hook("pre-upgrade"),
		"chart/templates/post-upgrade.yaml": hook("post-upgrade"),
		"chart/templates/test.yaml":         hook("test"),
	}
}

// A chart in Git through its life: installed (install hooks, IsInstall,
// lookup as the applying identity, generated password kept), re-applied
// unchanged (nothing changes, diff exits 0), upgraded by a values change
// (diff exits 1 showing it; upgrade hooks).
func TestApplyChartFromGit(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := t.Context()
	if _, err := env.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "seen"}, Data: map[string]string{"value": "looked-up"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := serveGit(t, gittest.HTTPOptions{})
	repo, url := srv.repo(t, "charts.git")
	c1 := repo.Commit("v1", hookChart("blue"))
	flags := args([]string{"--source", url, "--path", "chart"}, target(ns, "web"), gitFlags(t))

	r := mustCruise(t, 0, args([]string{"apply", "-o", "json"}, flags)...)
	var rep struct {
		Revision string
		Chart    struct{ Name, Version, Release string }
		Changes  []struct{ Ref struct{ Kind, Name string } }
		Hooks    []struct {
			Ref       struct{ Name string }
			Event     string
			Succeeded bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Revision != "main@sha1:"+c1 {
		t.Errorf("revision %q, want the Git revision main@sha1:%s", rep.Revision, c1)
	}
	if rep.Chart.Name != "web" || rep.Chart.Version != "1.0.0" || rep.Chart.Release != "web" {
		t.Errorf("chart %+v", rep.Chart)
	}
	var hooks []string
	for _, h := range rep.Hooks {
		if !h.Succeeded {
			t.Errorf("hook %s did not succeed", h.Ref.Name)
		}
		hooks = append(hooks, h.Event)
	}
	if strings.Join(hooks, ",") != "pre-install,post-install" {
		t.Errorf("hooks run %v, want pre-install,post-install", hooks)
	}
	for _, c := range rep.Changes {
		if strings.HasPrefix(c.Ref.Name, "hook-") {
			t.Errorf("hook %s applied as an ordinary object", c.Ref.Name)
		}
	}
	cfg := configMapData(t, ns, "web-config")
	want := map[string]string{"color": "blue", "service": "Helm", "namespace": ns, "seen": "looked-up"}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("web-config %s = %q, want %q", k, cfg[k], v)
		}
	}
	if configMapData(t, ns, "hook-pre-install")["install"] != "true" || configMapData(t, ns, "hook-test") != nil {
		t.Error("want the pre-install hook run (IsInstall) and the test hook not")
	}
	password := secretValue(t, ns, "web-password", "password")
	if inv := configMapData(t, ns, "cruise-inventory-web")["inventory.json"]; strings.Contains(inv, "hook-") {
		t.Errorf("a hook is in the inventory: %s", inv)
	}
	if _, err := env.Client.CoreV1().Secrets(ns).Get(ctx, helm.GeneratedSecretName("web"), metav1.GetOptions{}); err != nil {
		t.Errorf("generated values not kept: %v", err)
	}

	// Unchanged inputs: in sync, nothing changes, the password stays.
	r = mustCruise(t, 0, args([]string{"diff"}, flags)...)
	wantContains(t, r.stdout, "in sync")
	mustCruise(t, 0, args([]string{"diff"}, flags)...)
	r = mustCruise(t, 0, args([]string{"apply"}, flags)...)
	wantContains(t, r.stdout, "0 created, 0 configured, 2 unchanged", "pre-upgrade hook created", "post-upgrade hook created")
	if got := secretValue(t, ns, "web-password", "password"); got != password {
		t.Error("the generated password changed on a second apply")
	}
	if got := configMapData(t, ns, "hook-pre-upgrade")["install"]; got != "false" {
		t.Errorf("IsInstall on the second apply: %q", got)
	}

	// A values change shows in the diff (exit 1), then applies.
	r = mustCruise(t, 1, args([]string{"diff", "--set", "color=green"}, flags)...)
	wantContains(t, r.stdout, "web-config: drifted", "-  color: blue", "+  color: green")
	mustCruise(t, 0, args([]string{"apply", "--set", "color=green"}, flags)...)
	if got := configMapData(t, ns, "hook-post-upgrade")["color"]; got != "green" {
		t.Errorf("post-upgrade hook color %q, want green", got)
	}
}

// A chart from an HTTP repository: the revision is the chart version and
// the archive digest; a version change diffs (exit 1) and applies.
func TestApplyChartFromRepository(t *testing.T) {
	ns := env.Namespace(t)
	repo := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{Username: "ci", Password: "repo-Pa55"})
	d1 := repo.AddChart(t, chartrepotest.Chart("hello", "1.0.0"))
	repo.AddChart(t, chartrepotest.Chart("hello", "1.1.0"))
	t.Setenv("CRUISE_HELM_PASSWORD", "repo-Pa55")
	flags := args([]string{"--chart", "hello", "--repo", repo.URL(), "--repo-username", "ci"}, target(ns, "hello"))

	r := mustCruise(t, 0, args([]string{"apply", "-o", "json", "--version", "1.0.0"}, flags)...)
	var rep struct{ Revision, Source string }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Revision != "1.0.0@"+d1 {
		t.Errorf("revision %q, want 1.0.0@%s", rep.Revision, d1)
	}
	if got := configMapData(t, ns, "hello-hello")["version"]; got != "1.0.0" {
		t.Errorf("version %q", got)
	}
	mustCruise(t, 0, args([]string{"diff", "--version", "1.0.0"}, flags)...)
	r = mustCruise(t, 1, args([]string{"diff", "--version", "^1"}, flags)...)
	wantContains(t, r.stdout, "-  version: 1.0.0", "+  version: 1.1.0")
	r = mustCruise(t, 0, args([]string{"apply"}, flags)...)
	wantContains(t, r.stdout, "applied revision 1.1.0@sha256:", "1 configured")
	if strings.Contains(r.stdout+r.stderr, "repo-Pa55") {
		t.Error("the repository password was printed")
	}
}

// A failing pre-install hook stops the apply: nothing of the release is
// applied, the error names the hook.
func TestApplyChartFailedPreHook(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	dir := writeDir(t, map[string]string{
		"Chart.yaml":              "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"templates/config.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  a: b\n",
		"templates/pre-hook.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Name\n  annotations:\n    helm.sh/hook: pre-install\n",
	})
	r := mustCruise(t, 2, args([]string{"apply", "--source", dir}, target(ns, "web"))...)
	wantContains(t, r.stderr, "nothing of release web was applied", "Not_A_Name", "pre-install", "web/templates/pre-hook.yaml")
	wantNothingIn(t, ns)
}

// Render errors stop before the cluster: exit 2 naming the template or
// value, nothing applied or pruned.
func TestApplyChartRenderErrors(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	dir := writeDir(t, map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"values.yaml":           "image: nginx\n",
		"templates/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  image: {{ required \"image is required\" .Values.image }}\n",
	})
	mustCruise(t, 0, args([]string{"apply", "--source", dir}, target(ns, "web"))...)
	r := mustCruise(t, 2, args([]string{"apply", "--source", dir, "--prune", "--set", "image=null"}, target(ns, "web"))...)
	wantContains(t, r.stderr, "web/templates/config.yaml", "image is required")
	if configMapData(t, ns, "config")["image"] != "nginx" {
		t.Error("the release changed after a render error")
	}
	mustCruise(t, 2, args([]string{"diff", "--source", dir, "--set", "image=null"}, target(ns, "web"))...)
}

// A CRD change that drops a version status.storedVersions lists is refused
// before anything changes, naming the CRD and the version.
func TestApplyChartRefusesStoredVersionRemoval(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := ns + ".example.com"
	crd := func(versions ...string) string {
		s := fmt.Sprintf("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.%s\nspec:\n  group: %s\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n", group, group)
		for i, v := range versions {
			s += fmt.Sprintf("  - name: %s\n    served: true\n    storage: %t\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n", v, i == len(versions)-1)
		}
		return s
	}
	chart := func(version string, versions ...string) string {
		return writeDir(t, map[string]string{
			"Chart.yaml":            "apiVersion: v2\nname: widgets\nversion: " + version + "\n",
			"crds/widgets.yaml":     crd(versions...),
			"templates/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  version: " + version + "\n",
		})
	}
	t.Cleanup(func() {
		dyn := dynamic.NewForConfigOrDie(env.Config)
		_ = dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).Delete(t.Context(), "widgets."+group, metav1.DeleteOptions{})
	})
	mustCruise(t, 0, args([]string{"apply", "--source", chart("1.0.0", "v1alpha1")}, target(ns, "widgets"))...)
	r := mustCruise(t, 2, args([]string{"apply", "--source", chart("2.0.0", "v1")}, target(ns, "widgets"))...)
	wantContains(t, r.stderr, "CustomResourceDefinition widgets."+group, "drops version v1alpha1", "status.storedVersions")
	mustCruise(t, 2, args([]string{"diff", "--source", chart("2.0.0", "v1")}, target(ns, "widgets"))...)
	if got := configMapData(t, ns, "config")["version"]; got != "1.0.0" {
		t.Errorf("config version %q: the release changed", got)
	}
	dyn := dynamic.NewForConfigOrDie(env.Config)
	live, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).Get(t.Context(), "widgets."+group, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	versions, _, _ := unstructured.NestedSlice(live.Object, "spec", "versions")
	var names []string
	for _, v := range versions {
		names = append(names, v.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"v1alpha1"}) {
		t.Errorf("CRD versions %v: the CRD changed", names)
	}
	// Keeping the stored version while adding one is safe and applies.
	mustCruise(t, 0, args([]string{"apply", "--source", chart("2.0.0", "v1alpha1", "v1")}, target(ns, "widgets"))...)
}

func secretValue(t *testing.T, ns, name, key string) string {
	t.Helper()
	s, err := env.Client.CoreV1().Secrets(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(s.Data[key])
}
