package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// env is the control plane the cluster tests share; each test works in
// its own namespace (env.Namespace).
var env *clustertest.Env

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env))
}

// result is the outcome of one in-process cruise run.
type result struct {
	code           int
	stdout, stderr string
}

// cruise runs the command line in-process.
func cruise(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	code, stdout, stderr := run(ctx, args...)
	t.Logf("cruise %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	return result{code, stdout, stderr}
}

// mustCruise runs the command line and fails the test unless it exits
// with want.
func mustCruise(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := cruise(t, args...)
	if r.code != want {
		t.Fatalf("cruise %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), r.code, want, r.stderr)
	}
	return r
}

// target returns the flags that point diff and apply at the test cluster,
// namespace ns and inventory name.
func target(ns, name string) []string {
	return []string{"--kubeconfig", env.Cluster.Kubeconfig, "--namespace", ns, "--inventory-namespace", ns, "--name", name}
}

// gitFlags are the flags every Git test passes: a cache of its own.
func gitFlags(t *testing.T) []string {
	return []string{"--cache-dir", t.TempDir()}
}

// args joins flag lists.
func args(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// gitServer is a directory of bare repositories served over HTTP.
type gitServer struct {
	root string
	http *gittest.HTTPServer
}

func serveGit(t *testing.T, opts gittest.HTTPOptions) *gitServer {
	root := t.TempDir()
	return &gitServer{root: root, http: gittest.ServeHTTP(t, root, opts)}
}

// repo creates the bare repository name and returns it with its URL.
func (s *gitServer) repo(t *testing.T, name string) (*gittest.Repo, string) {
	return gittest.NewRepo(t, filepath.Join(s.root, name), true), s.http.RepoURL(name)
}

// writeFile writes content to a file of its own and returns the path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeDir writes files (slash path -> content) into a new directory.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// objectsIn lists what cruise could have created in ns, as
// "Kind/name", leaving out what the API server makes by itself.
func objectsIn(t *testing.T, ns string) []string {
	t.Helper()
	ctx := t.Context()
	var out []string
	cms, err := env.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range cms.Items {
		if o.Name != "kube-root-ca.crt" {
			out = append(out, "ConfigMap/"+o.Name)
		}
	}
	secrets, err := env.Client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range secrets.Items {
		out = append(out, "Secret/"+o.Name)
	}
	svcs, err := env.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range svcs.Items {
		out = append(out, "Service/"+o.Name)
	}
	deps, err := env.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range deps.Items {
		out = append(out, "Deployment/"+o.Name)
	}
	return out
}

// wantNothingIn fails the test when cruise left anything in ns.
func wantNothingIn(t *testing.T, ns string) {
	t.Helper()
	if objs := objectsIn(t, ns); len(objs) > 0 {
		t.Errorf("namespace %s should be empty, holds %v", ns, objs)
	}
}

// configMapData returns the data of ConfigMap ns/name, nil when it does
// not exist.
func configMapData(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	cm, err := env.Client.CoreV1().ConfigMaps(ns).Get(t.Context(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data == nil {
		return map[string]string{}
	}
	return cm.Data
}

// wantLines checks that text contains every line of want, in any order.
func wantLines(t *testing.T, text string, want ...string) {
	t.Helper()
	lines := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		lines[l] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("output lacks the line %q:\n%s", w, text)
		}
	}
}

// wantContains checks that text contains every string of want.
func wantContains(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}
