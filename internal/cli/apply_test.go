package cli_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// One application through its history, from Git over HTTP: created,
// configured, unchanged, pruned.
func TestApplyLifecycle(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	srv := serveGit(t, gittest.HTTPOptions{})
	repo, url := srv.repo(t, "app.git")
	cache := gitFlags(t)
	apply := func(want int, extra ...string) result {
		t.Helper()
		return mustCruise(t, want, args([]string{"apply", "--source", url}, target(ns, "app"), cache, extra)...)
	}
	short := func(sha string) string { return "main@sha1:" + sha[:12] }

	c1 := repo.CommitDir("v1", "testdata/app-v1")
	r := apply(0)
	wantLines(t, r.stdout,
		"ConfigMap/"+ns+"/app-config created",
		"ConfigMap/"+ns+"/extra created",
		"Secret/"+ns+"/app-secret created",
		"applied revision "+short(c1)+": 3 created, 0 configured, 0 unchanged, 0 pruned",
	)
	if got := configMapData(t, ns, "app-config")["color"]; got != "blue" {
		t.Errorf("app-config color = %q, want blue", got)
	}

	c2 := repo.CommitDir("v2", "testdata/app-v2")
	r = apply(0)
	wantLines(t, r.stdout,
		"ConfigMap/"+ns+"/app-config configured",
		"ConfigMap/"+ns+"/extra unchanged",
		"Secret/"+ns+"/app-secret unchanged",
		"applied revision "+short(c2)+": 0 created, 1 configured, 2 unchanged, 0 pruned",
	)
	if got := configMapData(t, ns, "app-config")["color"]; got != "green" {
		t.Errorf("app-config color = %q, want green", got)
	}

	r = apply(0)
	wantLines(t, r.stdout, "applied revision "+short(c2)+": 0 created, 0 configured, 3 unchanged, 0 pruned")

	c3 := repo.CommitDir("v3 drops extra", "testdata/app-v3")
	r = apply(0, "--prune")
	wantLines(t, r.stdout,
		"ConfigMap/"+ns+"/extra pruned",
		"applied revision "+short(c3)+": 0 created, 0 configured, 2 unchanged, 1 pruned",
	)
	if configMapData(t, ns, "extra") != nil {
		t.Error("ConfigMap extra still exists after prune")
	}
}

// --dry-run reports what would happen and changes nothing, not even the
// inventory.
func TestApplyDryRun(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	r := mustCruise(t, 0, args([]string{"apply", "--source", "testdata/app-v1", "--dry-run"}, target(ns, "app"))...)
	wantLines(t, r.stdout,
		"ConfigMap/"+ns+"/app-config created (dry run)",
		"dry run (nothing changed) of testdata/app-v1: 3 created, 0 configured, 0 unchanged, 0 pruned",
	)
	wantNothingIn(t, ns)
}

// --namespace fills in the namespace of objects that name none;
// --target-namespace moves every namespaced object.
func TestApplyNamespaces(t *testing.T) {
	t.Parallel()
	ns, other, moved := env.Namespace(t), env.Namespace(t), env.Namespace(t)
	dir := writeDir(t, map[string]string{
		"unnamed.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unnamed\n",
		"named.yaml":   fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: named\n  namespace: %s\n", other),
	})

	mustCruise(t, 0, args([]string{"apply", "--source", dir}, target(ns, "by-default"))...)
	if configMapData(t, ns, "unnamed") == nil {
		t.Errorf("ConfigMap unnamed not in --namespace %s", ns)
	}
	if configMapData(t, other, "named") == nil {
		t.Errorf("ConfigMap named not in its own namespace %s", other)
	}

	mustCruise(t, 0, args([]string{"apply", "--source", dir, "--target-namespace", moved}, target(ns, "by-target"))...)
	for _, name := range []string{"unnamed", "named"} {
		if configMapData(t, moved, name) == nil {
			t.Errorf("ConfigMap %s not in --target-namespace %s", name, moved)
		}
	}
}

// A kustomize overlay from a Git URL: generated ConfigMap, patched
// Deployment; a later commit drops the Service and --prune deletes it.
func TestApplyKustomizeOverlayFromGit(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	srv := serveGit(t, gittest.HTTPOptions{})
	repo, url := srv.repo(t, "platform.git")
	flags := args([]string{"apply", "--source", url, "--path", "overlays/test", "--prune"}, target(ns, "web"), gitFlags(t))

	repo.CommitDir("v1", "testdata/overlay-v1")
	r := mustCruise(t, 0, flags...)
	wantLines(t, r.stdout,
		"Deployment/"+ns+"/web created",
		"Service/"+ns+"/web created",
	)
	wantContains(t, r.stdout, ": 3 created, 0 configured, 0 unchanged, 0 pruned")
	dep, err := env.Client.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *dep.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, want the overlay's patch (3)", *dep.Spec.Replicas)
	}
	generated := dep.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name
	if !strings.HasPrefix(generated, "web-config-") || configMapData(t, ns, generated)["LOG_LEVEL"] != "debug" {
		t.Errorf("Deployment refers to ConfigMap %q, want the generated web-config-<hash> with LOG_LEVEL=debug", generated)
	}

	repo.CommitDir("v2 drops the Service", "testdata/overlay-v2")
	r = mustCruise(t, 0, flags...)
	wantLines(t, r.stdout, "Service/"+ns+"/web pruned")
	wantContains(t, r.stdout, ": 0 created, 0 configured, 2 unchanged, 1 pruned")
	if _, err := env.Client.CoreV1().Services(ns).Get(t.Context(), "web", metav1.GetOptions{}); err == nil {
		t.Error("Service web still exists after prune")
	}
}

// -o json prints one document a machine can read.
func TestApplyJSON(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	var rep struct {
		Source   string
		Revision string
		Changes  []struct {
			Ref    struct{ Kind, Namespace, Name string }
			Action string
		}
		Health []struct {
			Ref    struct{ Kind, Name string }
			Status string
		}
		Error string
	}
	r := mustCruise(t, 0, args([]string{"apply", "--source", "testdata/app-v1", "-o", "json", "--wait"}, target(ns, "app"))...)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
	got := map[string]string{}
	for _, c := range rep.Changes {
		got[c.Ref.Kind+"/"+c.Ref.Namespace+"/"+c.Ref.Name] = c.Action
	}
	want := map[string]string{
		"ConfigMap/" + ns + "/app-config": "created",
		"ConfigMap/" + ns + "/extra":      "created",
		"Secret/" + ns + "/app-secret":    "created",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	if len(rep.Health) != 3 || rep.Error != "" || rep.Source != "testdata/app-v1" {
		t.Errorf("report = %+v, want 3 health entries, no error, the source", rep)
	}

	// A failure is a document too, with the error.
	r = mustCruise(t, 2, args([]string{"apply", "--source", "testdata/bad/malformed-yaml", "-o", "json"}, target(ns, "app"))...)
	rep.Error = ""
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !strings.Contains(rep.Error, "config.yaml") {
		t.Errorf("error report: %v, error %q", err, rep.Error)
	}
}

// --wait: ConfigMaps are Current at once; a Deployment never is on a
// control plane without controllers, so the wait times out with exit 1
// and names the object and its status.
func TestApplyWait(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	r := mustCruise(t, 0, args([]string{"apply", "--source", "testdata/app-v1", "--wait"}, target(ns, "app"))...)
	wantLines(t, r.stdout, "ConfigMap/"+ns+"/app-config Current")
	wantContains(t, r.stdout, "0 pruned; all 3 objects Current")

	r = mustCruise(t, 1, args([]string{"apply", "--source", "testdata/deployment", "--wait", "--timeout", "1s"}, target(ns, "web"))...)
	wantLines(t, r.stdout,
		"Deployment/"+ns+"/web created",
		"Not healthy (waited up to 1s):",
	)
	wantContains(t, r.stdout, "  Deployment/"+ns+"/web InProgress: ")
	if !strings.HasPrefix(r.stderr, "Error: not healthy within 1s: Deployment/"+ns+"/web is InProgress") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line naming the Deployment", r.stderr)
	}
}

// Without --kubeconfig, $KUBECONFIG is used, as by kubectl; a context that
// is not in it is an error.
func TestApplyKubeconfigFromEnvironment(t *testing.T) {
	ns := env.Namespace(t)
	t.Setenv("KUBECONFIG", env.Cluster.Kubeconfig)
	flags := []string{"apply", "--source", "testdata/app-v1", "--name", "app", "-n", ns, "--inventory-namespace", ns}
	r := mustCruise(t, 0, flags...)
	wantLines(t, r.stdout, "ConfigMap/"+ns+"/app-config created")

	r = mustCruise(t, 2, append(flags, "--context", "no-such-context")...)
	wantContains(t, r.stderr, "Error: kubeconfig: ", "no-such-context")
}
