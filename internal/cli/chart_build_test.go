package cli_test

import (
	"archive/tar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
	"github.com/cruisegitops/cruise/internal/helm/helmtest"
)

// checkSameAsHelm compares what cruise build printed with what helm
// template printed: the same objects, field for field, the same
// "# Source:" comments, CRDs first and hooks (keeping helm.sh/hook) last.
func checkSameAsHelm(t *testing.T, helmOut, cruiseOut []byte) {
	t.Helper()
	want, got := helmtest.Objects(t, helmOut), helmtest.Objects(t, cruiseOut)
	if len(want) == 0 {
		t.Fatal("helm rendered nothing")
	}
	wantSrc, gotSrc := helmtest.Sources(t, helmOut), helmtest.Sources(t, cruiseOut)
	want = flattenLists(t, want, wantSrc)
	helmtest.EqualObjects(t, unrandom(want), unrandom(got))
	norm := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[randomSuffix.ReplaceAllString(k, "-test-*")] = v
		}
		return out
	}
	wantSrc, gotSrc = norm(wantSrc), norm(gotSrc)
	for k, s := range wantSrc {
		if gotSrc[k] != s {
			t.Errorf("%s: cruise says # Source: %q, helm %q", k, gotSrc[k], s)
		}
	}
	// Phases: CRDs, then templates, then hooks.
	phase := func(o interface {
		GetKind() string
		GetAnnotations() map[string]string
	}) int {
		switch {
		case o.GetKind() == "CustomResourceDefinition" && o.GetAnnotations()["helm.sh/hook"] == "":
			return 0
		case o.GetAnnotations()["helm.sh/hook"] != "":
			return 2
		}
		return 1
	}
	last := 0
	for _, o := range got {
		p := phase(o)
		if p < last {
			t.Errorf("%s out of order: CRDs, then objects, then hooks", helmtest.Key(o))
		}
		last = p
	}
}

// flattenLists replaces each v1 List of Helm's output by its items, with
// the List's source: cruise applies a List's items as objects of their
// own (as Helm's install and kubectl do) and prints them so.
func flattenLists(t *testing.T, objs []*unstructured.Unstructured, sources map[string]string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if !o.IsList() {
			out = append(out, o)
			continue
		}
		list, err := o.ToList()
		if err != nil {
			t.Fatal(err)
		}
		src := sources[helmtest.Key(o)]
		delete(sources, helmtest.Key(o))
		for i := range list.Items {
			item := &list.Items[i]
			sources[helmtest.Key(item)] = src
			out = append(out, item)
		}
	}
	return out
}

// randomSuffix is what podinfo's test hooks add to their names with
// randAlphaNum: it differs from one render to the next, in Helm too.
var randomSuffix = regexp.MustCompile(`-test-[a-z0-9]{5}$`)

// unrandom replaces the random suffix of test hooks' names, the one part
// of a render that cannot match.
func unrandom(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	for _, o := range objs {
		if strings.HasPrefix(o.GetAnnotations()["helm.sh/hook"], "test") {
			o.SetName(randomSuffix.ReplaceAllString(o.GetName(), "-test-*"))
		}
	}
	return objs
}

// cruise build of the vendored public charts prints exactly what helm
// template --include-crds prints: objects (ordinary, CRDs from crds/,
// hooks), values files and --set, subcharts in charts/.
func TestBuildChartMatchesHelm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, chart string
		extra       []string // for both
	}{
		{"podinfo", "podinfo", nil},
		{"values and set", "podinfo", []string{"--values", "values-prod.yaml", "--set", "replicaCount=3,ui.message=hi"}},
		{"hooks", "ingress-nginx", nil},
		{"crds", "traefik", nil},
		{"dependencies", "prometheus", nil},
		{"large", "kube-prometheus-stack", []string{"--values", "../kube-prometheus-stack.large-values.yaml", "--set", "grafana.adminPassword=fixed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := helmtest.Chart(t, tc.chart)
			extra := make([]string, len(tc.extra))
			for i, a := range tc.extra {
				// Values files are relative to the chart directory.
				if strings.HasSuffix(a, ".yaml") {
					a = filepath.Join(dir, a)
				}
				extra[i] = a
			}
			want := helmtest.Template(t, append([]string{"web", dir, "--include-crds", "--kube-version", "1.37", "--namespace", "prod"}, extra...)...)
			r := mustCruise(t, 0, append([]string{"build", "--source", dir, "--release-name", "web", "-n", "prod"}, extra...)...)
			checkSameAsHelm(t, want, []byte(r.stdout))
		})
	}
}

// A chart from an HTTP repository and from an OCI registry renders as
// helm template renders it from there; --version picks by range.
func TestBuildRepositoryChartMatchesHelm(t *testing.T) {
	t.Parallel()
	h := helmtest.New(t)
	dir := helmtest.Chart(t, "podinfo")
	old := chartrepotest.PackageDir(t, dir, "6.0.0")
	current, err := os.ReadFile(h.Package(dir))
	if err != nil {
		t.Fatal(err)
	}
	repo := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	repo.Add(t, old)
	repo.Add(t, current)
	reg := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{})
	reg.Push(t, old)
	reg.Push(t, current)

	want := h.Template("web", "podinfo", "--repo", repo.URL(), "--include-crds", "--kube-version", "1.37")
	r := mustCruise(t, 0, "build", "--chart", "podinfo", "--repo", repo.URL(), "--release-name", "web")
	checkSameAsHelm(t, want, []byte(r.stdout))

	ref := reg.URL() + "/podinfo"
	want = h.Template("web", ref, "--plain-http", "--include-crds", "--kube-version", "1.37")
	r = mustCruise(t, 0, "build", "--chart", ref, "--plain-http", "--release-name", "web")
	checkSameAsHelm(t, want, []byte(r.stdout))

	// The range picks the old version; the default release name is the
	// chart's name.
	r = mustCruise(t, 0, "build", "--chart", ref, "--plain-http", "--version", "<6.1")
	wantContains(t, r.stdout, "helm.sh/chart: podinfo-6.0.0", "name: podinfo\n")
}

// Dependencies Chart.yaml names and charts/ lacks are fetched from the
// repository they name: the chart renders as the vendored one with its
// charts/ does.
func TestBuildChartFetchesDependencies(t *testing.T) {
	t.Parallel()
	h := helmtest.New(t)
	vendored := helmtest.Chart(t, "prometheus")
	repo := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	subs, err := os.ReadDir(filepath.Join(vendored, "charts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		archive, err := os.ReadFile(h.Package(filepath.Join(vendored, "charts", s.Name())))
		if err != nil {
			t.Fatal(err)
		}
		repo.Add(t, archive)
	}
	dir := helmtest.CopyChart(t, "prometheus")
	for _, p := range []string{"charts", "Chart.lock"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	meta := filepath.Join(dir, "Chart.yaml")
	rewritten := strings.ReplaceAll(readFile(t, meta), "https://prometheus-community.github.io/helm-charts", repo.URL())
	if err := os.WriteFile(meta, []byte(rewritten), 0o644); err != nil {
		t.Fatal(err)
	}

	want := h.Template("web", vendored, "--include-crds", "--kube-version", "1.37")
	r := mustCruise(t, 0, "build", "--source", dir, "--release-name", "web")
	checkSameAsHelm(t, want, []byte(r.stdout))
	if repo.Requests("/index.yaml") == 0 {
		t.Error("the dependencies were not fetched from the repository")
	}
}

// Bad input: exit 2 and one line naming the culprit.
func TestBuildChartBadInput(t *testing.T) {
	t.Parallel()
	chart := writeDir(t, map[string]string{
		"Chart.yaml":         "apiVersion: v2\nname: app\nversion: 1.0.0\nkubeVersion: \">=1.30.0-0\"\n",
		"values.yaml":        "image: nginx\nreplicas: 1\n",
		"values.schema.json": `{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 0}}}`,
		"templates/deploy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n" +
			"  image: {{ required \"image is required\" .Values.image }}\n  replicas: \"{{ .Values.replicas }}\"\n",
	})
	brokenChart := writeDir(t, map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: broken\nversion: 1.0.0\n",
		"templates/main.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n{{ if }}\n",
	})
	repo := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	repo.AddChart(t, chartrepotest.Chart("web", "1.0.0"))
	repo.AddChart(t, chartrepotest.Chart("huge", "1.0.0"))
	repo.AddAs("escape", "1.0.0", chartrepotest.TarGz(t,
		chartrepotest.Entry{Name: "escape/Chart.yaml", Body: "apiVersion: v2\nname: escape\nversion: 1.0.0\n"},
		chartrepotest.Entry{Name: "escape/../../etc/x.yaml", Body: "x: 1\n"}))
	repo.AddAs("link", "1.0.0", chartrepotest.TarGz(t,
		chartrepotest.Entry{Name: "link/Chart.yaml", Body: "apiVersion: v2\nname: link\nversion: 1.0.0\n"},
		chartrepotest.Entry{Name: "link/templates/x.yaml", Type: tar.TypeSymlink, Linkname: "/etc/passwd"}))
	private := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{Username: "u", Password: "right-password"})
	private.AddChart(t, chartrepotest.Chart("web", "1.0.0"))
	closed := closedURL(t)

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"chart with source", []string{"--chart", "web", "--repo", repo.URL(), "--source", chart}, []string{"--chart and --source exclude each other"}},
		{"chart without repo", []string{"--chart", "web"}, []string{"--chart web needs --repo"}},
		{"version without chart", []string{"--source", chart, "--version", "1.0.0"}, []string{"--version is for a chart from a repository"}},
		{"values file missing", []string{"--source", chart, "--values", "/nonexistent/prod.yaml"}, []string{"--values /nonexistent/prod.yaml: no such file or directory"}},
		{"values file unparsable", []string{"--source", chart, "--values", writeFile(t, "bad.yaml", "a: [1\n")}, []string{"bad.yaml", "invalid values"}},
		{"bad set", []string{"--source", chart, "--set", "noequals"}, []string{"--set noequals: invalid values"}},
		{"bad set hides values", []string{"--source", chart, "--set", "a=wrong-password,b[-1]=2"}, []string{"--set a=…,b[-1]=…: invalid values"}},
		{"required value", []string{"--source", chart, "--set", "image=null"}, []string{"app/templates/deploy.yaml", "image is required"}},
		{"schema", []string{"--source", chart, "--set", "replicas=-1"}, []string{"replicas", "minimum"}},
		{"kubeVersion", []string{"--source", chart, "--kube-version", "1.29"}, []string{"requires kubeVersion >=1.30.0-0", "1.29"}},
		{"template syntax", []string{"--source", brokenChart}, []string{"broken/templates/main.yaml:5"}},
		{"values for plain YAML", []string{"--source", "testdata/app-v1", "--set", "a=b"}, []string{"--set is for charts, but --path . holds no Chart.yaml"}},
		{"version not found", []string{"--chart", "web", "--repo", repo.URL(), "--version", "9.9.9"}, []string{"chart web", `no version matching "9.9.9"`}},
		{"unreachable", []string{"--chart", "web", "--repo", closed}, []string{closed, "unreachable"}},
		{"unauthorized", []string{"--chart", "web", "--repo", private.URL(), "--repo-username", "u", "--repo-password-file", writeFile(t, "pw", "wrong-password\n")}, []string{"unauthorized", "--repo-username"}},
		{"archive too large", []string{"--chart", "huge", "--repo", repo.URL(), "--max-total-size", "100"}, []string{"huge", "--max-total-size"}},
		{"archive with ../", []string{"--chart", "escape", "--repo", repo.URL()}, []string{"escape", "(..)"}},
		{"archive with symlink", []string{"--chart", "link", "--repo", repo.URL()}, []string{"link", "symlink"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustCruise(t, 2, append([]string{"build"}, tc.args...)...)
			wantContains(t, r.stderr, tc.want...)
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 || r.stdout != "" {
				t.Errorf("want one error line and no output; stdout %q stderr %q", r.stdout, r.stderr)
			}
			if strings.Contains(r.stderr, "wrong-password") {
				t.Error("the password was printed")
			}
		})
	}
}

// closedURL is an http:// URL on loopback where nothing listens (the
// discard port).
func closedURL(t *testing.T) string {
	t.Helper()
	return "http://127.0.0.1:9"
}
