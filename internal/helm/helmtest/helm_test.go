package helmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The vendored charts render with the pinned helm, and the counts their
// SOURCE.md files state are what helm renders.
func TestTemplateVendoredCharts(t *testing.T) {
	tests := []struct {
		chart  string
		values string // relative to the charts directory
		want   int
		hooks  int
		crds   int
	}{
		{chart: "podinfo", want: 5, hooks: 3},
		{chart: "ingress-nginx", want: 18, hooks: 7},
		{chart: "traefik", want: 31, crds: 25},
		{chart: "prometheus", want: 23},
		{chart: "kube-prometheus-stack", want: 122, hooks: 7},
		{chart: "kube-prometheus-stack", values: "kube-prometheus-stack.large-values.yaml", want: 160, hooks: 9},
	}
	for _, tt := range tests {
		t.Run(tt.chart+"/"+tt.values, func(t *testing.T) {
			dir := Chart(t, tt.chart)
			args := []string{"rel", dir, "--namespace", "ns", "--kube-version", "1.37", "--include-crds"}
			if tt.values != "" {
				args = append(args, "--values", filepath.Join(filepath.Dir(dir), tt.values))
			}
			objs := Objects(t, Template(t, args...))
			var hooks, crds int
			for _, o := range objs {
				if _, ok := o.GetAnnotations()["helm.sh/hook"]; ok {
					hooks++
				}
				if o.GetKind() == "CustomResourceDefinition" {
					crds++
				}
			}
			if len(objs) != tt.want || hooks != tt.hooks || crds != tt.crds {
				t.Errorf("%d objects, %d hooks, %d CRDs; want %d, %d, %d", len(objs), hooks, crds, tt.want, tt.hooks, tt.crds)
			}
		})
	}
}

func TestSources(t *testing.T) {
	out := Template(t, "web", Chart(t, "traefik"), "--kube-version", "1.37", "--include-crds")
	src := Sources(t, out)
	for key, want := range map[string]string{
		"apps/v1 Deployment default/web-traefik":                                     "traefik/templates/deployment.yaml",
		"apiextensions.k8s.io/v1 CustomResourceDefinition /ingressroutes.traefik.io": "traefik/crds/traefik.io_ingressroutes.yaml",
	} {
		if got, ok := src[key]; !ok || got != want {
			t.Errorf("source of %s = %q (present %v), want %q", key, got, ok, want)
		}
	}
}

// A chart whose dependencies are not in charts/ does not render: the copy
// is the chart-repository tests' starting point.
func TestCopyChartWithoutDependencies(t *testing.T) {
	dir := CopyChart(t, "prometheus")
	if err := os.RemoveAll(filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := New(t).Run("template", "rel", dir)
	if err == nil || !strings.Contains(string(stderr), "missing in charts/ directory") {
		t.Fatalf("helm template without charts/: err %v, stderr %s; want the missing dependencies named", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(Chart(t, "prometheus"), "charts", "alertmanager", "Chart.yaml")); err != nil {
		t.Fatalf("the vendored chart lost its dependencies: %v", err)
	}
}

func TestPackage(t *testing.T) {
	archive := New(t).Package(Chart(t, "podinfo"))
	if filepath.Base(archive) != "podinfo-6.14.1.tgz" {
		t.Fatalf("archive %s, want podinfo-6.14.1.tgz", archive)
	}
	if objs := Objects(t, Template(t, "web", archive, "--kube-version", "1.37")); len(objs) != 5 {
		t.Fatalf("the packaged chart renders %d objects, want 5", len(objs))
	}
}

// Nothing reaches the network: a non-loopback URL fails at the closed
// proxy port at once.
func TestNoNetwork(t *testing.T) {
	_, stderr, err := New(t).Run("pull", "https://charts.example.com/podinfo-6.14.1.tgz")
	if err == nil || !strings.Contains(string(stderr), "127.0.0.1:9") {
		t.Fatalf("helm pull of a remote URL: err %v, stderr %s; want a refused connection to the proxy 127.0.0.1:9", err, stderr)
	}
}

// The homes are the test's own, whatever the user's environment says.
func TestEnvIgnoresUser(t *testing.T) {
	t.Setenv("HELM_CACHE_HOME", "/nonexistent/user-cache")
	h := New(t)
	out := h.Must("env")
	if !strings.Contains(string(out), `HELM_CACHE_HOME="`+filepath.Join(h.Home(), "cache")+`"`) || strings.Contains(string(out), "/nonexistent/user-cache") {
		t.Fatalf("helm env:\n%s\nwant HELM_CACHE_HOME under %s", out, h.Home())
	}
}

func TestBinaryFromEnv(t *testing.T) {
	t.Setenv(EnvHelm, filepath.Join(t.TempDir(), "no-helm"))
	msg := fatalMessage(func(tb testing.TB) { Binary(tb) })
	if !strings.Contains(msg, "make bin/tools/helm") || !strings.Contains(msg, "no-helm") {
		t.Fatalf("Binary with a missing $%s failed with %q; want the path and how to build helm", EnvHelm, msg)
	}
}

func TestChartUnknown(t *testing.T) {
	msg := fatalMessage(func(tb testing.TB) { Chart(tb, "no-such-chart") })
	if !strings.Contains(msg, `"no-such-chart"`) || !strings.Contains(msg, "podinfo") {
		t.Fatalf("Chart of an unknown name failed with %q; want the name and the charts there are", msg)
	}
}
