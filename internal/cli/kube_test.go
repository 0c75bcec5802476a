package cli_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// crds installs cruise's CustomResourceDefinitions into the shared control
// plane once per test binary.
var crds struct {
	once sync.Once
	err  error
}

// kubeTest is a test of the resource commands: its own namespace in the
// shared control plane, with cruise's CRDs installed, and a client.
type kubeTest struct {
	ns string
	c  client.Client
}

func newKubeTest(t *testing.T) *kubeTest {
	t.Helper()
	crds.once.Do(func() { crds.err = installCRDs() })
	if crds.err != nil {
		t.Fatalf("install CRDs: %v", crds.err)
	}
	scheme, err := clustertest.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &kubeTest{ns: env.Namespace(t), c: c}
}

// installCRDs installs cruise's CRDs into the shared control plane.
func installCRDs() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return clustertest.InstallCRDs(ctx, env.Config)
}

// run runs cruise with args and the flags that point it at the test's
// namespace, and fails the test unless it exits with want.
func (k *kubeTest) run(t *testing.T, want int, args ...string) result {
	t.Helper()
	return mustCruise(t, want, append(args, "--kubeconfig", env.Cluster.Kubeconfig, "-n", k.ns)...)
}

// createSourceAndApp creates the GitRepository and the Application name
// with the CLI.
func (k *kubeTest) createSourceAndApp(t *testing.T, name string) {
	t.Helper()
	k.run(t, 0, "create", "source", "git", name, "--url", "https://git.example.com/"+name+".git", "--branch", "main")
	k.run(t, 0, "create", "app", name, "--source", name, "--path", "deploy")
}

func (k *kubeTest) app(t *testing.T, name string) *v1alpha1.Application {
	t.Helper()
	app := &v1alpha1.Application{}
	if err := k.c.Get(t.Context(), client.ObjectKey{Namespace: k.ns, Name: name}, app); err != nil {
		t.Fatal(err)
	}
	return app
}

func (k *kubeTest) source(t *testing.T, name string) *v1alpha1.GitRepository {
	t.Helper()
	repo := &v1alpha1.GitRepository{}
	if err := k.c.Get(t.Context(), client.ObjectKey{Namespace: k.ns, Name: name}, repo); err != nil {
		t.Fatal(err)
	}
	return repo
}

// setAppStatus writes status through the status subresource, as the
// controller would.
func (k *kubeTest) setAppStatus(t *testing.T, name string, status v1alpha1.ApplicationStatus) {
	t.Helper()
	app := k.app(t, name)
	app.Status = status
	if err := k.c.Status().Update(t.Context(), app); err != nil {
		t.Fatal(err)
	}
}

// readyCondition is a Ready condition as the controller writes it.
func readyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: message,
		LastTransitionTime: metav1.Now()}
}

// Every command names the missing object and exits with 2.
func TestResourceCommandsNotFound(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	for _, args := range [][]string{
		{"get", "app", "missing"},
		{"get", "source", "missing"},
		{"reconcile", "app", "missing"},
		{"reconcile", "source", "git", "missing"},
		{"suspend", "app", "missing"},
		{"resume", "source", "missing"},
		{"tree", "app", "missing"},
		{"events", "app", "missing"},
		{"delete", "app", "missing"},
		{"delete", "source", "missing"},
	} {
		r := k.run(t, 2, args...)
		kind := "Application"
		if args[1] == "source" {
			kind = "GitRepository"
		}
		want := fmt.Sprintf("Error: %s/%s/missing not found\n", kind, k.ns)
		if r.stderr != want {
			t.Errorf("cruise %s: stderr %q, want %q", strings.Join(args, " "), r.stderr, want)
		}
	}
}

// Usage errors exit with 2 and say what is wrong, before any cluster is
// contacted.
func TestResourceCommandsBadUsage(t *testing.T) {
	t.Parallel()
	noCluster := []string{"--kubeconfig", "/nonexistent/kubeconfig"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get"}, "cruise get: say what to work on: apps or image or images or sources"},
		{[]string{"get", "widgets"}, `cruise get: unknown kind "widgets"`},
		{[]string{"get", "apps", "a", "b"}, "at most one NAME expected"},
		{[]string{"reconcile", "app"}, "the NAME of the Application is missing"},
		{[]string{"delete", "app", "a", "b"}, "one NAME expected, got 2 arguments"},
		{[]string{"suspend", "app", "web", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"create", "source", "web", "--url", "https://x"}, "say which kind of source: git"},
		{[]string{"create", "source", "git", "web", "--url", "https://x", "--branch", "main", "--tag", "v1"},
			"--branch and --tag cannot be combined"},
		{[]string{"create", "source", "git", "web", "--url", "https://x", "--commit", "abc"}, `invalid --commit "abc"`},
		{[]string{"create", "source", "git", "web", "--url", "https://x", "--semver", "not a range"}, `invalid --semver "not a range"`},
		{[]string{"create", "source", "git", "web"}, "--url is required"},
		{[]string{"create", "source", "git", "web", "--url", "ftp://x"}, `invalid --url "ftp://x"`},
		{[]string{"create", "source", "git", "Web", "--url", "https://x"}, `invalid NAME "Web"`},
		{[]string{"create", "app", "web"}, "--source is required"},
		{[]string{"create", "app", "web", "--source", "a/b/c"}, `invalid --source "a/b/c"`},
		{[]string{"create", "app", "web", "--source", "web", "--interval", "0s"}, "invalid --interval 0s"},
		{[]string{"create", "app", "web", "--source", "web", "-n", "Not_A_Namespace"}, `invalid --namespace "Not_A_Namespace"`},
		{[]string{"reconcile", "app", "web", "--wait", "--timeout", "0s"}, "invalid --timeout 0s"},
		{[]string{"get", "apps", "web", "-A"}, "a NAME cannot be combined with --all-namespaces"},
		{[]string{"get", "apps", "-o", "xml"}, `unknown output format "xml"`},
		{[]string{"controller", "--server-url", "ftp://cruise.example.com"}, `invalid --server-url "ftp://cruise.example.com"`},
		{[]string{"controller", "--server-url", "https://cruise.example.com/?a=b"}, `invalid --server-url`},
	} {
		r := mustCruise(t, 2, append(c.args, noCluster...)...)
		if !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("cruise %s: stderr %q, want one Error line with %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
	}
}
