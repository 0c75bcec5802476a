package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
	"github.com/cruisegitops/cruise/internal/webhook"
)

// webhookReplica is a `cruise controller` with leader election, a push
// webhook server and a health endpoint.
type webhookReplica struct {
	*controllerProcess
	hook   string // base URL of the webhook server
	health string // base URL of /healthz and /readyz
}

// startWebhookReplica runs a replica electing its leader in ns, verifying
// webhooks with the secret in secretFile.
func startWebhookReplica(t *testing.T, ns, secretFile string) *webhookReplica {
	t.Helper()
	hook, health := fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// The last --health-addr wins over startController's "0".
	p := startController(t, "--leader-elect", "--leader-election-namespace", ns,
		"--webhook-addr", hook, "--webhook-secret-file", secretFile, "--health-addr", health)
	return &webhookReplica{controllerProcess: p, hook: "http://" + hook, health: "http://" + health}
}

// ready reports whether the replica's /readyz answers 200.
func (r *webhookReplica) ready() (bool, error) {
	resp, err := http.Get(r.health + "/readyz")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK, fmt.Errorf("/readyz: %d %s", resp.StatusCode, body)
}

// TestWebhookAnsweredByStandby: of two replicas, the standby answers a
// signed push. It annotates the GitRepository through the API server, and
// the leader fetches the new commit at once (the repository's interval is
// an hour, so nothing else would fetch it during the test).
func TestWebhookAnsweredByStandby(t *testing.T) {
	ns := env.Namespace(t)
	// Matching ignores the port, so the repository is named after the
	// namespace: other tests' servers on 127.0.0.1 serve env.git too.
	root, name := t.TempDir(), ns+".git"
	repo := gittest.NewRepo(t, filepath.Join(root, name), true)
	git := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	first := repo.Commit("first", configMaps(1, "one"))
	src := &cruisev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: ns},
		Spec: cruisev1.GitRepositorySpec{
			URL: git.RepoURL(name), Ref: &cruisev1.GitRef{Branch: "main"}, Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	if err := k8s.Create(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	secret := []byte("e2e-push-secret")
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}

	// The first replica is alone, so it leads; the second stays standby
	// for as long as the first renews its Lease.
	leader := startWebhookReplica(t, ns, secretFile)
	waitFetched(t, ns, "env", first)
	standby := startWebhookReplica(t, ns, secretFile)
	clustertest.Eventually(t, time.Minute, standby.ready)

	second := repo.Commit("second", configMaps(1, "two"))
	body, err := json.Marshal(map[string]any{
		"ref":        "refs/heads/main",
		"repository": map[string]any{"clone_url": src.Spec.URL, "html_url": src.Spec.URL},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, standby.hook+"/hook/github", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+webhook.SignBody(secret, body))
	// A replica that never answers must fail the test, not hang it.
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("push to the standby: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := fmt.Sprintf(`{"triggered":1,"repositories":["%s/env"]}`+"\n", ns)
	if resp.StatusCode != http.StatusAccepted || string(answer) != want {
		t.Fatalf("standby answered %d %s, want 202 %s", resp.StatusCode, answer, want)
	}

	got := waitFetched(t, ns, "env", second)
	at := got.Annotations[cruisev1.ReconcileRequestAnnotation]
	if at == "" || got.Status.LastHandledReconcileAt != at {
		t.Errorf("%s = %q, status.lastHandledReconcileAt = %q: want the push's request, handled",
			cruisev1.ReconcileRequestAnnotation, at, got.Status.LastHandledReconcileAt)
	}
	if n := standby.reconcilesOf("gitrepository"); n != 0 {
		t.Errorf("the standby reconciled GitRepositories %v times; the fetch should be the leader's", n)
	}
	if n := leader.reconcilesOf("gitrepository"); n < 2 {
		t.Errorf("the leader reports %v GitRepository reconciles, want at least 2", n)
	}
}

// waitFetched waits until GitRepository name's artifact is commit.
func waitFetched(t *testing.T, ns, name, commit string) *cruisev1.GitRepository {
	t.Helper()
	repo := &cruisev1.GitRepository{}
	clustertest.Eventually(t, 2*time.Minute, func() (bool, error) {
		if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, repo); err != nil {
			return false, err
		}
		if repo.Status.Artifact == nil {
			return false, fmt.Errorf("no artifact yet")
		}
		return repo.Status.Artifact.Commit == commit, fmt.Errorf("artifact at %s, want %s", repo.Status.Artifact.Commit, commit)
	})
	return repo
}
