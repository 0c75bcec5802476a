package notify_test

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/notify/notifytest"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func failedEvent(name string) notify.Event {
	return notify.Event{
		Version: notify.PayloadVersion, ID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", Time: time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC),
		Type: notify.Failed, Severity: notify.SeverityError,
		Object:   notify.ObjectRef{Kind: "Application", Namespace: "team-a", Name: name, UID: "5c0f4d2e-1b7a-4c59-9f0e-3f1c2b4a5d6e"},
		Revision: "main@sha1:" + sha, Reason: "RenderFailed",
		Message: "render app at main@sha1:" + sha + ": render: app/a.yaml:3: yaml: did not find expected key",
		Commit:  &notify.Commit{SHA: sha, Subject: "Break it", Author: "Ann <ann@example.com>"},
		Objects: []string{"app/a.yaml"}, URL: "https://cruise.example.com/apps/team-a/" + name,
		Labels: map[string]string{"tier": "prod"},
	}
}

func webhook(t *testing.T, cfg notify.ProviderConfig) notify.Sender {
	t.Helper()
	cfg.Type = notify.TypeWebhook
	s, err := notify.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWebhookPayload: the body is exactly the v1 payload (labels are not
// sent), signed with the Provider's hmacKey as cruise's own push
// webhooks verify it; the event id is in the body and X-Cruise-Delivery.
func TestWebhookPayload(t *testing.T) {
	key := []byte("hmac-key")
	sink := notifytest.NewSink(t, key)
	ev := failedEvent("web")
	if err := webhook(t, notify.ProviderConfig{Address: sink.URL + "/hook", HMACKey: key}).Send(t.Context(), notify.Message{Event: ev}); err != nil {
		t.Fatal(err)
	}
	reqs := sink.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s with Content-Type %q, want POST application/json", r.Method, r.Header.Get("Content-Type"))
	}
	if !r.SignatureOK {
		t.Errorf("X-Cruise-Signature %q does not verify", r.Header.Get(notify.HeaderSignature))
	}
	if sig := r.Header.Get(notify.HeaderSignature); sig != notify.Sign(key, r.Body) || sig != strings.ToLower(sig) {
		t.Errorf("signature %q, want lowercase sha256=<hex>", sig)
	}
	if r.Header.Get(notify.HeaderDelivery) != ev.ID || r.Header.Get(notify.HeaderEvent) != "Failed" {
		t.Errorf("headers %v", r.Header)
	}
	var keys []string
	for k := range r.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"commit", "id", "message", "object", "objects", "reason", "revision", "severity", "time", "type", "url", "version"}
	if !slices.Equal(keys, want) {
		t.Errorf("payload fields %v, want %v", keys, want)
	}
	var obj, commit map[string]string
	_ = json.Unmarshal(r.Fields["object"], &obj)
	_ = json.Unmarshal(r.Fields["commit"], &commit)
	if obj["kind"] != "Application" || obj["namespace"] != "team-a" || obj["name"] != "web" || obj["uid"] == "" {
		t.Errorf("object %v", obj)
	}
	if commit["sha"] != sha || commit["subject"] != "Break it" || commit["author"] == "" {
		t.Errorf("commit %v", commit)
	}
	var tm string
	_ = json.Unmarshal(r.Fields["time"], &tm)
	if _, err := time.Parse(time.RFC3339, tm); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", tm, err)
	}
	if string(r.Fields["version"]) != `"v1"` || string(r.Fields["revision"]) != `"main@sha1:`+sha+`"` {
		t.Errorf("version %s revision %s", r.Fields["version"], r.Fields["revision"])
	}

	// Without an hmacKey there is no signature header.
	if err := webhook(t, notify.ProviderConfig{Address: sink.URL}).Send(t.Context(), notify.Message{Event: ev}); err != nil {
		t.Fatal(err)
	}
	if h := sink.Requests()[1].Header.Get(notify.HeaderSignature); h != "" {
		t.Errorf("unsigned webhook sent X-Cruise-Signature %q", h)
	}
}

// TestWebhookAnswers: 429, 408 and 5xx are retryable, with the receiver's
// Retry-After; other statuses are final.
func TestWebhookAnswers(t *testing.T) {
	sink := notifytest.NewSink(t, nil)
	s := webhook(t, notify.ProviderConfig{Address: sink.URL})
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		resp       notifytest.Response
		ok         bool
		retryable  bool
		retryAfter time.Duration // 0: none; else at least this
	}{
		{notifytest.Response{Status: 200}, true, false, 0},
		{notifytest.Response{Status: 204}, true, false, 0},
		{notifytest.Response{Status: 429, RetryAfter: "7"}, false, true, 7 * time.Second},
		{notifytest.Response{Status: 503, RetryAfter: date}, false, true, 25 * time.Second},
		{notifytest.Response{Status: 500, Body: "boom"}, false, true, 0},
		{notifytest.Response{Status: 408}, false, true, 0},
		{notifytest.Response{Status: 400, Body: "bad payload"}, false, false, 0},
		{notifytest.Response{Status: 401}, false, false, 0},
		{notifytest.Response{Status: 404}, false, false, 0},
		{notifytest.Response{Status: 301}, false, false, 0},
	} {
		sink.Respond(tc.resp)
		err := s.Send(t.Context(), notify.Message{Event: failedEvent("web")})
		if (err == nil) != tc.ok || errors.Is(err, notify.ErrRetryable) != tc.retryable {
			t.Errorf("HTTP %d: error %v; want ok %v, retryable %v", tc.resp.Status, err, tc.ok, tc.retryable)
			continue
		}
		var ra *notify.RetryAfterError
		got := errors.As(err, &ra)
		if got != (tc.retryAfter > 0) || (got && ra.After < tc.retryAfter) {
			t.Errorf("HTTP %d: %v; want Retry-After of at least %s", tc.resp.Status, err, tc.retryAfter)
		}
		if tc.resp.Body != "" && !strings.Contains(err.Error(), tc.resp.Body) {
			t.Errorf("HTTP %d: %v does not quote the answer %q", tc.resp.Status, err, tc.resp.Body)
		}
	}
}

// TestWebhookNeverShowsTheURL: a chat-style URL carries its token in the
// path; errors show the scheme and host only.
func TestWebhookNeverShowsTheURL(t *testing.T) {
	const token = "T0KEN-in-the-path"
	dead := notifytest.Dead(t)
	for _, tc := range []struct {
		name    string
		address string
		timeout time.Duration
	}{
		{"refused", "http://127.0.0.1:1/services/" + token + "?k=" + token, time.Second},
		{"never answers", dead + "/" + token, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := webhook(t, notify.ProviderConfig{Address: tc.address, Timeout: tc.timeout}).Send(t.Context(), notify.Message{Event: failedEvent("web")})
			if err == nil || !errors.Is(err, notify.ErrRetryable) {
				t.Fatalf("error %v, want a retryable one", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error shows the URL's secret part: %v", err)
			}
			if d := time.Since(start); d > tc.timeout+5*time.Second {
				t.Errorf("the attempt took %s with a timeout of %s", d, tc.timeout)
			}
		})
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	const secret = "xoxb-secret"
	for _, tc := range []struct {
		name string
		cfg  notify.ProviderConfig
		want string
	}{
		{"no address", notify.ProviderConfig{}, "no address"},
		{"not http", notify.ProviderConfig{Address: "ftp://example.com/" + secret}, "not an http or https URL"},
		{"no host", notify.ProviderConfig{Address: "https:///" + secret}, "not an http or https URL"},
		{"unparsable", notify.ProviderConfig{Address: "http://exa mple.com/" + secret}, "not an http or https URL"},
		{"bad ca.crt", notify.ProviderConfig{Address: "https://example.com/", CA: []byte("not PEM " + secret)}, "ca.crt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Type = notify.TypeWebhook
			_, err := notify.NewSender(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
	if _, err := notify.NewSender(notify.ProviderConfig{Type: "carrier-pigeon"}); !errors.Is(err, notify.ErrUnsupported) {
		t.Errorf("an unknown type: error %v, want ErrUnsupported", err)
	}
}

// TestNewSenderKnowsEveryType: every type the Provider kind allows has a
// constructor (whatever it thinks of an empty configuration).
func TestNewSenderKnowsEveryType(t *testing.T) {
	for _, typ := range []string{notify.TypeSMTP, notify.TypeWebhook, notify.TypeSlack, notify.TypeMSTeams, notify.TypeDiscord,
		notify.TypeGoogleChat, notify.TypeMattermost, notify.TypeGitHub, notify.TypeGitLab, notify.TypeGitea} {
		if _, err := notify.NewSender(notify.ProviderConfig{Type: typ}); errors.Is(err, notify.ErrUnsupported) {
			t.Errorf("type %s: %v", typ, err)
		}
	}
}

// TestWebhookCA: the Secret's ca.crt is trusted for HTTPS; without it the
// same server's certificate is refused, finally (retrying cannot help).
func TestWebhookCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := webhook(t, notify.ProviderConfig{Address: srv.URL, CA: ca}).Send(t.Context(), notify.Message{Event: failedEvent("web")}); err != nil {
		t.Errorf("with ca.crt: %v", err)
	}
	err := webhook(t, notify.ProviderConfig{Address: srv.URL}).Send(t.Context(), notify.Message{Event: failedEvent("web")})
	if err == nil || errors.Is(err, notify.ErrRetryable) {
		t.Errorf("without ca.crt: %v, want a final certificate error", err)
	}
}
