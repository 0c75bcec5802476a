package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cruisegitops/cruise/internal/webhook"
)

// TestPushWebhookTriggersFetch: a signed GitHub push fetches the repository
// at once (its interval is an hour) and the Application deploys the commit;
// a bad signature is refused and fetches nothing.
func TestPushWebhookTriggersFetch(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", first)

	secret := []byte("push-secret")
	var triggered atomic.Int32
	trigger := webhook.TriggerFunc(func(ctx context.Context, ev webhook.Event) error {
		triggered.Add(1)
		return repos.Trigger(ctx, ev)
	})
	srv := httptest.NewServer(webhook.NewHandler(
		webhook.NewStaticReceivers(webhook.Receiver{Name: "github", Provider: webhook.ProviderGitHub, Secret: secret}),
		trigger, webhook.Options{}))
	t.Cleanup(srv.Close)

	second := f.commit("second", map[string]string{"app/a.yaml": cmYAML("a", "two")})
	body, _ := json.Marshal(map[string]any{
		"ref":        "refs/heads/main",
		"repository": map[string]any{"clone_url": f.url, "html_url": f.url},
	})
	send := func(signature string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hook/github", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", "sha256="+signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if code := send(webhook.SignBody([]byte("wrong"), body)); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d, want 401", code)
	}
	if n := triggered.Load(); n != 0 {
		t.Fatalf("a request with a bad signature triggered %d fetches", n)
	}
	if code := send(webhook.SignBody(secret, body)); code != http.StatusAccepted {
		t.Fatalf("good signature: status %d, want 202", code)
	}
	f.waitReady("web", second)
	if got := f.configMap("a").Data["value"]; got != "two" {
		t.Errorf("a = %q after the push, want two", got)
	}
	if n := triggered.Load(); n != 1 {
		t.Errorf("triggered %d times, want 1", n)
	}
}
