package webhook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRouting(t *testing.T) {
	body := fixture(t, "github-push.json")
	valid := hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(githubSecret, body))
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantAllow  string
	}{
		{"GET on a receiver", request{method: http.MethodGet, path: "/hook/" + githubName}, http.StatusMethodNotAllowed, "POST"},
		{"HEAD on a receiver", request{method: http.MethodHead, path: "/hook/" + githubName}, http.StatusMethodNotAllowed, "POST"},
		{"DELETE on a receiver", request{method: http.MethodDelete, path: "/hook/" + githubName}, http.StatusMethodNotAllowed, "POST"},
		{"GET on an unknown receiver says 405 before 404", request{method: http.MethodGet, path: "/hook/nope"}, http.StatusMethodNotAllowed, "POST"},
		{"unknown receiver", request{path: "/hook/r-github-4c1d9f", body: body, header: valid}, http.StatusNotFound, ""},
		{"receiver name in another case", request{path: "/hook/" + strings.ToUpper(githubName), body: body, header: valid}, http.StatusNotFound, ""},
		{"no receiver name", request{path: "/hook/", body: body, header: valid}, http.StatusNotFound, ""},
		{"nested path", request{path: "/hook/" + githubName + "/extra", body: body, header: valid}, http.StatusNotFound, ""},
		{"other path", request{path: "/" + githubName, body: body, header: valid}, http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			srv := newServer(t, testReceivers(), rec, Options{})
			resp := send(t, srv, tc.req)
			if resp.status != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tc.wantStatus)
			}
			if got := resp.header.Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tc.wantAllow)
			}
			if got := rec.got(); len(got) != 0 {
				t.Errorf("triggered %+v", got)
			}
		})
	}
}

func TestUnknownReceiversAllLookTheSame(t *testing.T) {
	srv := newServer(t, testReceivers(), &recorder{}, Options{})
	var first response
	for i, name := range []string{"a", "r-github-4c1d9f", "r-gitlab-8a2f71x", "%2e%2e"} {
		resp := send(t, srv, request{path: "/hook/" + name, body: []byte("{}")})
		resp.header.Del("Date")
		if resp.status != http.StatusNotFound {
			t.Fatalf("%s: status %d, want 404", name, resp.status)
		}
		if i == 0 {
			first = resp
			continue
		}
		if resp.body != first.body || resp.header.Get("Content-Type") != first.header.Get("Content-Type") ||
			resp.header.Get("Content-Length") != first.header.Get("Content-Length") {
			t.Errorf("%s: response %+v differs from %+v", name, resp, first)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	// A generic body padded with spaces to exactly n bytes: still valid JSON.
	padded := func(n int) []byte {
		b := []byte(`{"url": "https://git.example.net/team/config.git"}`)
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
	}
	tests := []struct {
		name       string
		limit      int64
		bodyLen    int
		wantStatus int
	}{
		{"at a small limit", 256, 256, http.StatusAccepted},
		{"one byte over a small limit", 256, 257, http.StatusRequestEntityTooLarge},
		{"at the default 1 MiB", 0, 1 << 20, http.StatusAccepted},
		{"one byte over the default 1 MiB", 0, 1<<20 + 1, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Parallel: after an over-limit body net/http lingers ~500ms
			// before closing the connection, and srv.Close waits for it.
			t.Parallel()
			rec := &recorder{}
			srv := newServer(t, testReceivers(), rec, Options{MaxBodyBytes: tc.limit})
			body := padded(tc.bodyLen)
			resp := send(t, srv, request{path: "/hook/" + genericName, body: body,
				header: hdr("X-Cruise-Signature", hubSignature(genericSecret, body))})
			if resp.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.status, tc.wantStatus, resp.body)
			}
			wantEvents := 0
			if tc.wantStatus == http.StatusAccepted {
				wantEvents = 1
			}
			if got := rec.got(); len(got) != wantEvents {
				t.Errorf("triggered %d times, want %d", len(got), wantEvents)
			}
		})
	}
}

func TestServerSideFailures(t *testing.T) {
	body := fixture(t, "github-push.json")
	signed := func(secret string) http.Header {
		return hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(secret, body))
	}
	lookupFailed := receiversFunc(func(context.Context, string) (Receiver, bool, error) {
		return Receiver{}, false, errors.New("informer not synced")
	})
	tests := []struct {
		name       string
		receivers  Receivers
		triggerErr error
		header     http.Header
		wantStatus int
		wantCalls  int
	}{
		{
			name:       "trigger error is a 500 with a generic message",
			receivers:  testReceivers(),
			triggerErr: errors.New("listing GitRepositories: connection refused"),
			header:     signed(githubSecret),
			wantStatus: http.StatusInternalServerError,
			wantCalls:  1,
		},
		{
			name:       "receiver lookup error is a 500",
			receivers:  lookupFailed,
			header:     signed(githubSecret),
			wantStatus: http.StatusInternalServerError,
		},
		{
			name:       "receiver without a secret refuses even an empty-key signature",
			receivers:  NewStaticReceivers(Receiver{Name: githubName, Provider: ProviderGitHub}),
			header:     signed(""),
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "receiver with an unknown provider is a 500",
			receivers:  NewStaticReceivers(Receiver{Name: githubName, Provider: "bitbucket", Secret: []byte(githubSecret)}),
			header:     signed(githubSecret),
			wantStatus: http.StatusInternalServerError,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{err: tc.triggerErr}
			srv := newServer(t, tc.receivers, rec, Options{})
			resp := send(t, srv, request{path: "/hook/" + githubName, body: body, header: tc.header})
			if resp.status != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tc.wantStatus)
			}
			if strings.Contains(resp.body, "refused") || strings.Contains(resp.body, "informer") {
				t.Errorf("response leaks the internal error: %q", resp.body)
			}
			if got := len(rec.got()); got != tc.wantCalls {
				t.Errorf("trigger called %d times, want %d", got, tc.wantCalls)
			}
		})
	}
}

// receiversFunc adapts a function to Receivers, for failure injection.
type receiversFunc func(ctx context.Context, name string) (Receiver, bool, error)

func (f receiversFunc) Receiver(ctx context.Context, name string) (Receiver, bool, error) {
	return f(ctx, name)
}

func TestFailedVerificationsAreThrottledPerReceiver(t *testing.T) {
	clock := &fixedClock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	rec := &recorder{}
	opts := Options{FailureBurst: 2, FailureInterval: 10 * time.Second}
	srv := httptest.NewServer(newHandler(testReceivers(), rec, opts, clock.Now))
	t.Cleanup(srv.Close)

	body := fixture(t, "gitlab-push.json")
	good := request{path: "/hook/" + gitlabName, body: body, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", gitlabSecret)}
	bad := request{path: "/hook/" + gitlabName, body: body, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", "guess")}
	other := request{path: "/hook/" + genericName, header: hdr("X-Cruise-Signature", hubSignature(genericSecret, nil))}

	steps := []struct {
		name       string
		advance    time.Duration
		req        request
		wantStatus int
	}{
		{"valid requests spend no budget", 0, good, http.StatusAccepted},
		{"", 0, good, http.StatusAccepted},
		{"", 0, good, http.StatusAccepted},
		{"first failure", 0, bad, http.StatusUnauthorized},
		{"second failure", 0, bad, http.StatusUnauthorized},
		{"budget spent: refused unchecked", 0, bad, http.StatusTooManyRequests},
		{"even a valid request waits", 0, good, http.StatusTooManyRequests},
		{"other receivers are not affected", 0, other, http.StatusAccepted},
		{"not yet refilled", 9 * time.Second, good, http.StatusTooManyRequests},
		{"one attempt refilled", time.Second, good, http.StatusAccepted},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		resp := send(t, srv, s.req)
		if resp.status != s.wantStatus {
			t.Fatalf("step %d (%s): status = %d, want %d", i, s.name, resp.status, s.wantStatus)
		}
		if resp.status == http.StatusTooManyRequests && resp.header.Get("Retry-After") == "" {
			t.Errorf("step %d (%s): 429 without Retry-After", i, s.name)
		}
	}
	if got := len(rec.got()); got != 5 {
		t.Errorf("triggered %d times, want 5", got)
	}
}

func TestNegativeFailureBurstDisablesThrottling(t *testing.T) {
	srv := newServer(t, testReceivers(), &recorder{}, Options{FailureBurst: -1})
	bad := request{path: "/hook/" + gitlabName, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", "guess")}
	for i := range DefaultFailureBurst + 5 {
		if resp := send(t, srv, bad); resp.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i, resp.status)
		}
	}
}

// TestLogsNeverContainSecrets sends every kind of request, good and bad,
// with debug logging on, and looks for any secret or signature in the log.
func TestLogsNeverContainSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	failing := &recorder{err: errors.New("queue full")}
	srv := newServer(t, testReceivers(), failing, Options{Logger: logger, FailureBurst: 3})

	gh, gl, gt := fixture(t, "github-push.json"), fixture(t, "gitlab-push.json"), fixture(t, "gitea-push.json")
	gn := fixture(t, "generic-push.json")
	var signatures []string
	sign := func(secret string, body []byte) string {
		s := SignBody([]byte(secret), body)
		signatures = append(signatures, s)
		return s
	}
	reqs := []request{
		{path: "/hook/" + githubName, body: gh, header: hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(githubSecret, gh))},
		{path: "/hook/" + githubName, body: gh, header: hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(gitlabSecret, gh))},
		{path: "/hook/" + githubName, body: []byte("{"), header: hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(githubSecret, []byte("{")))},
		{path: "/hook/" + gitlabName, body: gl, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", gitlabSecret)},
		{path: "/hook/" + gitlabName, body: gl, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", githubSecret)},
		{path: "/hook/" + gitlabName, body: gl, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", giteaSecret)},
		{path: "/hook/" + gitlabName, body: gl, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", forgejoSecret)},
		{path: "/hook/" + gitlabName, body: gl, header: hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", gitlabSecret)}, // throttled
		{path: "/hook/" + giteaName, body: gt, header: hdr("X-Gitea-Event", "push", "X-Gitea-Signature", sign(giteaSecret, gt))},
		{path: "/hook/" + giteaName, body: gt, header: hdr("X-Gitea-Event", "push", "X-Gitea-Signature", sign(forgejoSecret, gt))},
		{path: "/hook/" + genericName, body: gn, header: hdr("X-Cruise-Signature", "sha256="+sign(genericSecret, gn))},
		{path: "/hook/" + genericName, body: gn, header: hdr("X-Cruise-Signature", "sha256="+sign(genericSecret, nil))},
		{path: "/hook/" + genericName, header: hdr("X-Cruise-Signature", "sha256="+sign(genericSecret, nil))},
		{path: "/hook/" + genericName, body: make([]byte, DefaultMaxBodyBytes+1), header: hdr("X-Cruise-Signature", "sha256="+sign(genericSecret, gn))},
	}
	for _, r := range reqs {
		send(t, srv, r)
	}

	log := buf.String()
	for _, want := range []string{"webhook verification failed", "webhook trigger failed", "webhook payload rejected", "throttled", "too large"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q; the test no longer exercises that path:\n%s", want, log)
		}
	}
	for _, s := range append(allSecrets, signatures...) {
		if strings.Contains(log, s) {
			t.Errorf("log contains secret or signature %q:\n%s", s, log)
		}
	}
}

// TestAnswerSaysWhatWasTriggered: the answer to a verified request counts
// and names the GitRepositories asked to fetch, and says why when there
// are none.
func TestAnswerSaysWhatWasTriggered(t *testing.T) {
	push := fixture(t, "github-push.json")
	ping := fixture(t, "github-ping.json")
	signed := func(event string, body []byte) request {
		return request{path: "/hook/" + githubName, body: body,
			header: hdr("X-GitHub-Event", event, "X-Hub-Signature-256", hubSignature(githubSecret, body))}
	}
	tests := []struct {
		name       string
		repos      []string
		req        request
		wantStatus int
		wantBody   string
	}{
		{
			name:       "two repositories",
			repos:      []string{"apps/config", "team/config"},
			req:        signed("push", push),
			wantStatus: http.StatusAccepted,
			wantBody:   `{"triggered":2,"repositories":["apps/config","team/config"]}`,
		},
		{
			name:       "no repository matches: 200 naming the pushed URL",
			repos:      []string{},
			req:        signed("push", push),
			wantStatus: http.StatusOK,
			wantBody:   `{"triggered":0,"repositories":[],"message":"no GitRepository matches https://github.com/octo-org/deploy-config.git"}`,
		},
		{
			name:       "ping",
			req:        signed("ping", ping),
			wantStatus: http.StatusOK,
			wantBody:   `{"triggered":0,"repositories":[],"message":"ping received"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, testReceivers(), &recorder{repos: tc.repos}, Options{})
			resp := send(t, srv, tc.req)
			if resp.status != tc.wantStatus || resp.body != tc.wantBody+"\n" {
				t.Errorf("answer %d %s\nwant   %d %s", resp.status, resp.body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}
