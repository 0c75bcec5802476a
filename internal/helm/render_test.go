package helm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/helm"
)

func loadLocal(t *testing.T, name string) string {
	t.Helper()
	root, err := filepath.Abs("testdata/local")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, name)
}

func renderApp(t *testing.T, values map[string]any, gen *helm.Generated, upgrade bool) *helm.Release {
	t.Helper()
	ch, _, err := helm.LoadDir(loadLocal(t, ""), "app", helm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := helm.Render(t.Context(), ch, helm.Options{ReleaseName: "web", Namespace: "prod", Values: values, Generated: gen, Upgrade: upgrade})
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestRenderSplitsCRDsObjectsAndHooks(t *testing.T) {
	rel := renderApp(t, nil, nil, false)
	if rel.Name != "app" || rel.Version != "1.2.3" || rel.AppVersion != "4.5" {
		t.Errorf("chart %s %s %s", rel.Name, rel.Version, rel.AppVersion)
	}
	if len(rel.CRDs) != 1 || rel.CRDs[0].GetName() != "widgets.example.com" || rel.CRDs[0].Source != "app/crds/widgets.yaml" {
		t.Errorf("CRDs: %+v", rel.CRDs)
	}
	var kinds []string
	for _, o := range rel.Objects {
		kinds = append(kinds, o.GetKind()+" "+o.Source)
	}
	// Helm's install order: Secret before Deployment.
	want := "Secret app/templates/secret.yaml,Deployment app/templates/deployment.yaml"
	if got := strings.Join(kinds, ","); got != want {
		t.Errorf("objects %s, want %s", got, want)
	}
	if len(rel.Hooks) != 1 {
		t.Fatalf("hooks: %+v", rel.Hooks)
	}
	h := rel.Hooks[0]
	if h.Object.GetName() != "web-migrate" || h.Weight != -5 || !h.Has(helm.PreInstall) || !h.Has(helm.PreUpgrade) || h.Has(helm.PostInstall) ||
		len(h.DeletePolicies) != 1 || h.DeletePolicies[0] != helm.HookSucceeded {
		t.Errorf("hook %+v", h)
	}
	if strings.TrimSpace(rel.Notes) != "Installed web." {
		t.Errorf("notes %q", rel.Notes)
	}
	if got := rel.Objects[1].GetLabels()["installing"]; got != "true" {
		t.Errorf("IsInstall on the first render: %q", got)
	}
	if got := renderApp(t, nil, nil, true).Objects[1].GetLabels()["installing"]; got != "false" {
		t.Errorf("IsInstall on an upgrade: %q", got)
	}
}

// TestGeneratedValuesAreKept: the same inputs give the same output when
// the kept values of the first render are given to the second; a fresh
// render differs, and a changed argument generates afresh.
func TestGeneratedValuesAreKept(t *testing.T) {
	first := helm.NewGenerated(nil)
	a := renderApp(t, nil, first, false)
	kept := first.Kept()
	if len(kept) == 0 || !first.Changed() {
		t.Fatalf("nothing kept: %v", kept)
	}
	second := helm.NewGenerated(kept)
	b := renderApp(t, nil, second, true)
	secret := func(r *helm.Release) map[string]any { return r.Objects[0].Object["stringData"].(map[string]any) }
	for _, k := range []string{"password", "ca.crt", "tls.crt", "id"} {
		if secret(a)[k] != secret(b)[k] {
			t.Errorf("%s changed between renders with kept values", k)
		}
	}
	if second.Changed() {
		t.Error("the second render changed the kept values")
	}
	fresh := renderApp(t, nil, nil, false)
	if secret(fresh)["password"] == secret(a)["password"] {
		t.Error("a render without kept values reused a password")
	}
	// Values win over generation.
	third := helm.NewGenerated(kept)
	c := renderApp(t, map[string]any{"password": "given"}, third, true)
	if secret(c)["password"] != "given" || secret(c)["ca.crt"] != secret(a)["ca.crt"] {
		t.Error("values or kept certificate not honoured")
	}
	// A call the chart no longer makes is dropped from what is kept.
	stale := map[string]string{"randAlphaNum[99]#0": `"x"`}
	for k, v := range kept {
		stale[k] = v
	}
	fourth := helm.NewGenerated(stale)
	renderApp(t, nil, fourth, true)
	if len(fourth.Kept()) != len(kept) || !fourth.Changed() {
		t.Errorf("kept %d values, want %d", len(fourth.Kept()), len(kept))
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		values  map[string]any
		kube    string
		wantErr string
	}{
		{"required value", map[string]any{"image": nil}, "", "app/templates/deployment.yaml"},
		{"schema", map[string]any{"replicas": -1}, "", "replicas"},
		{"kubeVersion", nil, "1.29", "requires kubeVersion >=1.30.0-0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, _, err := helm.LoadDir(loadLocal(t, ""), "app", helm.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = helm.Render(t.Context(), ch, helm.Options{ReleaseName: "web", Namespace: "prod", Values: tc.values, KubeVersion: tc.kube})
			if !errors.Is(err, helm.ErrRender) || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tc.wantErr)
			}
		})
	}
}

// TestLoadDirConfined: a symlink out of the repository is refused by
// name; one to a file inside it is read.
func TestLoadDirConfined(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "charts/app"), os.DirFS(loadLocal(t, "app"))); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "charts/app/templates/x.yaml")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	_, _, err := helm.LoadDir(root, "charts/app", helm.Limits{})
	if !errors.Is(err, helm.ErrPathEscape) || !strings.Contains(err.Error(), "charts/app/templates/x.yaml") {
		t.Fatalf("error %v, want ErrPathEscape naming the link", err)
	}
	os.Remove(link)
	if err := os.Symlink("../values.yaml", link); err != nil {
		t.Fatal(err)
	}
	if _, files, err := helm.LoadDir(root, "charts/app", helm.Limits{}); err != nil {
		t.Fatalf("a link inside the repository: %v", err)
	} else if !strings.Contains(strings.Join(files, ","), "charts/app/templates/x.yaml") {
		t.Errorf("files read %v", files)
	}
	if _, _, err := helm.LoadDir(root, "charts/app", helm.Limits{MaxFileBytes: 10}); !errors.Is(err, helm.ErrTooLarge) {
		t.Errorf("file limit: %v", err)
	}
	if _, _, err := helm.LoadDir(root, "../x", helm.Limits{}); !errors.Is(err, helm.ErrPathEscape) {
		t.Errorf("path out of root: %v", err)
	}
}

// TestSchemaRefsRefused: a values.schema.json that refers to a URL or a
// file is refused naming the reference, before Helm's validator would
// fetch or read it; a reference inside the schema works.
func TestSchemaRefsRefused(t *testing.T) {
	for _, tc := range []struct {
		ref  string
		want string
	}{
		{"http://169.254.169.254/latest/meta-data", "refers to http://169.254.169.254"},
		{"file:///etc/passwd", "refers to file:///etc/passwd"},
		{"defs.json", "refers to defs.json"},
		{"#/$defs/n", ""},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			root := t.TempDir()
			if err := os.CopyFS(filepath.Join(root, "app"), os.DirFS(loadLocal(t, "app"))); err != nil {
				t.Fatal(err)
			}
			schema := `{"type":"object","$defs":{"n":{"type":"integer"}},"properties":{"replicas":{"$ref":"` + tc.ref + `"}}}`
			if err := os.WriteFile(filepath.Join(root, "app/values.schema.json"), []byte(schema), 0o644); err != nil {
				t.Fatal(err)
			}
			ch, _, err := helm.LoadDir(root, "app", helm.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = helm.Render(t.Context(), ch, helm.Options{ReleaseName: "web", Namespace: "prod"})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("a local reference: %v", err)
				}
				return
			}
			if !errors.Is(err, helm.ErrRender) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "app/values.schema.json") {
				t.Errorf("error %v, want one naming app/values.schema.json and %q", err, tc.want)
			}
		})
	}
}
