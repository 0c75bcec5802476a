package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Secrets the HTTP types are configured with: a webhook path and query
// (chat URLs are credentials) and a token (git hosts).
const (
	secretHookPath  = "/hooks/T0SECRET/B0SECRET/xoxSECRETwebhook"
	secretHookQuery = "sig=SIGSECRETvalue"
	secretToken     = "tok-SECRET-0123456789"
)

// httpType is one HTTP provider type under test: how to build it against
// a base URL, and what it must send.
type httpType struct {
	typ  string
	new  func(ProviderConfig) (Sender, error)
	addr func(base string) string
	// path is the request target the type must POST to.
	path string
	// auth is the header that must carry the token, "" for chat types.
	auth, authValue string
}

var httpTypes = []httpType{
	{typ: TypeSlack, new: NewSlackSender, addr: chatAddr, path: secretHookPath + "?" + secretHookQuery},
	{typ: TypeMSTeams, new: NewMSTeamsSender, addr: chatAddr, path: secretHookPath + "?" + secretHookQuery},
	{typ: TypeDiscord, new: NewDiscordSender, addr: chatAddr, path: secretHookPath + "?" + secretHookQuery},
	{typ: TypeGoogleChat, new: NewGoogleChatSender, addr: chatAddr, path: secretHookPath + "?" + secretHookQuery},
	{typ: TypeMattermost, new: NewMattermostSender, addr: chatAddr, path: secretHookPath + "?" + secretHookQuery},
	{typ: TypeGitHub, new: NewGitHubSender, addr: func(b string) string { return b + "/org/repo" },
		path: "/api/v3/repos/org/repo/statuses/" + testSHA, auth: "Authorization", authValue: "Bearer " + secretToken},
	{typ: TypeGitLab, new: NewGitLabSender, addr: func(b string) string { return b + "/group/sub/project.git" },
		path: "/api/v4/projects/group%2Fsub%2Fproject/statuses/" + testSHA, auth: "Private-Token", authValue: secretToken},
	{typ: TypeGitea, new: NewGiteaSender, addr: func(b string) string { return b + "/owner/repo" },
		path: "/api/v1/repos/owner/repo/statuses/" + testSHA, auth: "Authorization", authValue: "token " + secretToken},
}

// hang never answers: when the client gives up, it drops the connection
// without a response (answering then could race the client's close and
// be read as a success).
func hang(_ http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
	panic(http.ErrAbortHandler)
}

func chatAddr(base string) string { return base + secretHookPath + "?" + secretHookQuery }

// config is a working configuration of the type against the sink.
func (h httpType) config(s *tlsSink) ProviderConfig {
	cfg := ProviderConfig{Type: h.typ, Address: h.addr(s.URL()), CA: s.pki.caPEM, Timeout: 5 * time.Second}
	if h.auth != "" {
		cfg.Token = secretToken
	}
	return cfg
}

func (h httpType) sender(t *testing.T, cfg ProviderConfig) Sender {
	t.Helper()
	snd, err := h.new(cfg)
	if err != nil {
		t.Fatalf("New%sSender: %v", h.typ, err)
	}
	return snd
}

// TestHTTPTypesPostWhereAndHowTheyShould: each type POSTs JSON to its
// path, with its token in its header, trusting the CA of the Provider.
func TestHTTPTypesPostWhereAndHowTheyShould(t *testing.T) {
	for _, h := range httpTypes {
		t.Run(h.typ, func(t *testing.T) {
			s := newTLSSink(t, nil)
			if err := h.sender(t, h.config(s)).Send(context.Background(), sampleFailedMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := s.only(t)
			if req.Method != http.MethodPost {
				t.Errorf("method %s, want POST", req.Method)
			}
			if req.URI != h.path {
				t.Errorf("request target %s, want %s", req.URI, h.path)
			}
			if ct := req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if h.auth != "" && req.Header.Get(h.auth) != h.authValue {
				t.Errorf("%s header %q, want %q", h.auth, req.Header.Get(h.auth), h.authValue)
			}
			for _, name := range []string{"Authorization", "Private-Token"} {
				if name != h.auth && req.Header.Get(name) != "" {
					t.Errorf("unexpected %s header", name)
				}
			}
			req.JSON(t)
		})
	}
}

// TestHTTPErrorClassification: 429 and 5xx are retryable, with the
// receiver's Retry-After when given (seconds or an HTTP date); other 4xx
// and redirects are final; no error shows the token or the webhook path,
// even when the receiver echoes them.
func TestHTTPErrorClassification(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		status     int
		retryAfter string
		retryable  bool
		// after is the RetryAfterError's delay; 0 means none expected.
		after, slack time.Duration
	}{
		{name: "429 with seconds", status: 429, retryAfter: "7", retryable: true, after: 7 * time.Second},
		{name: "429 with a date", status: 429, retryAfter: date, retryable: true, after: 90 * time.Second, slack: 2 * time.Second},
		{name: "429 without Retry-After", status: 429, retryable: true},
		{name: "500", status: 500, retryable: true},
		{name: "502", status: 502, retryable: true},
		{name: "503 with seconds", status: 503, retryAfter: "2", retryable: true, after: 2 * time.Second},
		{name: "400", status: 400},
		{name: "401", status: 401},
		{name: "404", status: 404},
		{name: "410", status: 410},
		{name: "302 not followed", status: 302},
	}
	for _, h := range httpTypes {
		for _, c := range cases {
			t.Run(h.typ+"/"+c.name, func(t *testing.T) {
				s := newTLSSink(t, func(w http.ResponseWriter, r *http.Request) {
					if c.retryAfter != "" {
						w.Header().Set("Retry-After", c.retryAfter)
					}
					if c.status == 302 {
						w.Header().Set("Location", "/elsewhere")
					}
					w.WriteHeader(c.status)
					// A receiver echoing what it got must not leak it.
					fmt.Fprintf(w, `{"message":"no: %s %s %s"}`, r.URL.String(), r.Header.Get("Authorization"), r.Header.Get("Private-Token"))
				})
				err := h.sender(t, h.config(s)).Send(context.Background(), sampleFailedMessage())
				if err == nil {
					t.Fatal("Send succeeded")
				}
				if got := errors.Is(err, ErrRetryable); got != c.retryable {
					t.Errorf("retryable %v, want %v: %v", got, c.retryable, err)
				}
				var ra *RetryAfterError
				switch {
				case c.after == 0 && errors.As(err, &ra):
					t.Errorf("RetryAfterError %s, want none: %v", ra.After, err)
				case c.after != 0 && !errors.As(err, &ra):
					t.Errorf("no RetryAfterError: %v", err)
				case c.after != 0 && (ra.After > c.after || ra.After < c.after-c.slack):
					t.Errorf("retry after %s, want %s", ra.After, c.after)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(c.status)) {
					t.Errorf("error does not name the status: %v", err)
				}
				assertNoSecret(t, "error", err.Error(), secretToken, "T0SECRET", "xoxSECRETwebhook", "SIGSECRETvalue")
				if n := len(s.requests()); n != 1 {
					t.Errorf("%d requests, want 1 (no redirect followed, no retry inside Send)", n)
				}
			})
		}
	}
}

// TestHTTPTransportFailures: a receiver that never answers times out
// within the Provider's timeout and is retryable, as is a refused
// connection; an untrusted certificate is final. None shows a secret.
func TestHTTPTransportFailures(t *testing.T) {
	for _, h := range httpTypes {
		t.Run(h.typ, func(t *testing.T) {
			t.Run("no answer", func(t *testing.T) {
				s := newTLSSink(t, hang)
				cfg := h.config(s)
				cfg.Timeout = 300 * time.Millisecond
				start := time.Now()
				err := h.sender(t, cfg).Send(context.Background(), sampleFailedMessage())
				elapsed := time.Since(start)
				if !errors.Is(err, ErrRetryable) {
					t.Fatalf("want a retryable error, got %v", err)
				}
				if elapsed > 3*time.Second {
					t.Errorf("took %s with a timeout of 300ms", elapsed)
				}
				if !strings.Contains(err.Error(), "no answer within 300ms") {
					t.Errorf("error does not say it timed out: %v", err)
				}
				assertNoSecret(t, "error", err.Error(), secretToken, "T0SECRET", "SIGSECRETvalue")
			})
			t.Run("connection refused", func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close()
				cfg := ProviderConfig{Type: h.typ, Address: h.addr("https://" + addr), Token: secretToken, Timeout: 2 * time.Second}
				err = h.sender(t, cfg).Send(context.Background(), sampleFailedMessage())
				if !errors.Is(err, ErrRetryable) {
					t.Fatalf("want a retryable error, got %v", err)
				}
				assertNoSecret(t, "error", err.Error(), secretToken, "T0SECRET", "SIGSECRETvalue")
			})
			t.Run("untrusted certificate", func(t *testing.T) {
				s := newTLSSink(t, nil)
				cfg := h.config(s)
				cfg.CA = newTestPKI(t).caPEM // another CA
				err := h.sender(t, cfg).Send(context.Background(), sampleFailedMessage())
				if err == nil || errors.Is(err, ErrRetryable) {
					t.Fatalf("want a final error, got %v", err)
				}
				if !strings.Contains(err.Error(), "certificate") {
					t.Errorf("error does not say what is wrong: %v", err)
				}
				assertNoSecret(t, "error", err.Error(), secretToken, "T0SECRET", "SIGSECRETvalue")
				if n := len(s.requests()); n != 0 {
					t.Errorf("the sink got %d requests over an untrusted connection", n)
				}
			})
		})
	}
}

// TestHTTPResponseBodyIsBounded: a receiver answering an error with
// megabytes gets a short error, read in bounded memory.
func TestHTTPResponseBodyIsBounded(t *testing.T) {
	s := newTLSSink(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		chunk := []byte(strings.Repeat("x", 1<<10))
		for range 8 << 10 { // 8 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	h := httpTypes[0]
	err := h.sender(t, h.config(s)).Send(context.Background(), sampleFailedMessage())
	if err == nil || errors.Is(err, ErrRetryable) {
		t.Fatalf("want a final error, got %v", err)
	}
	if n := len(err.Error()); n > 400 {
		t.Errorf("error of %d bytes", n)
	}
}

// TestContextCancellationStopsAnAttempt: the queue stopping ends an
// attempt at once, as retryable.
func TestContextCancellationStopsAnAttempt(t *testing.T) {
	arrived := make(chan struct{}, 1)
	s := newTLSSink(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		hang(w, r)
	})
	h := httpTypes[0]
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.sender(t, h.config(s)).Send(ctx, sampleFailedMessage()) }()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never arrived")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrRetryable) || !errors.Is(err, context.Canceled) {
			t.Errorf("want a retryable cancellation, got %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Send did not return after its context was cancelled")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in    string
		want  time.Duration
		valid bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"-3", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999", maxRetryAfter, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
		{"Wednesday, 02-Dec-26 10:01:00 GMT", time.Minute, true}, // RFC 850, still valid
	}
	for _, c := range cases {
		got, ok := parseRetryAfter(c.in, now)
		if got != c.want || ok != c.valid {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", c.in, got, ok, c.want, c.valid)
		}
	}
}

// TestChatAddressValidation: a chat type refuses a missing or malformed
// address up front, naming the field and never echoing the URL.
func TestChatAddressValidation(t *testing.T) {
	for _, h := range httpTypes[:5] {
		for _, c := range []struct{ name, addr, want string }{
			{"missing", "", "address is required"},
			{"not a URL", "hooks.example.com" + secretHookPath, "not an http(s) URL"},
			{"bad scheme", "ftp://hooks.example.com" + secretHookPath, "not an http(s) URL"},
			{"no host", "https://" + secretHookPath, "not an http(s) URL"},
			{"unparsable", "https://hooks.example.com/%zz" + secretHookPath, "not an http(s) URL"},
			{"user info", "https://user:SIGSECRETvalue@hooks.example.com" + secretHookPath, "user information"},
		} {
			t.Run(h.typ+"/"+c.name, func(t *testing.T) {
				_, err := h.new(ProviderConfig{Type: h.typ, Address: c.addr})
				if err == nil {
					t.Fatal("accepted")
				}
				if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), h.typ+":") {
					t.Errorf("error %q, want %q", err, c.want)
				}
				assertNoSecret(t, "error", err.Error(), "T0SECRET", "SIGSECRETvalue")
			})
		}
		t.Run(h.typ+"/bad CA", func(t *testing.T) {
			_, err := h.new(ProviderConfig{Type: h.typ, Address: chatAddr("https://hooks.example.com"), CA: []byte("not PEM")})
			if err == nil || !strings.Contains(err.Error(), "ca.crt") {
				t.Errorf("want an error naming ca.crt, got %v", err)
			}
		})
	}
}
