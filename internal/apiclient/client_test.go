package apiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/apiclient"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

const token = "access-token-value"

func tokenSource() oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"})
}

func newClient(t *testing.T, h http.Handler, opts ...apiclient.Option) (*apiclient.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := apiclient.New(srv.URL+"/", tokenSource(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestNewChecksTheURL(t *testing.T) {
	for _, u := range []string{"https://cruise.example.com", "https://cruise.example.com/prefix/", "http://127.0.0.1:8080",
		"http://localhost:8080", "http://[::1]:8080"} {
		if _, err := apiclient.New(u, nil); err != nil {
			t.Errorf("New(%q): %v", u, err)
		}
	}
	for u, want := range map[string]string{
		"http://cruise.example.com":           "plain http is allowed only to a loopback address",
		"http://10.0.0.1":                     "plain http is allowed only to a loopback address",
		"ftp://cruise.example.com":            "scheme must be https",
		"cruise.example.com":                  "absolute",
		"https://user:secret@cruise.example":  "user info",
		"https://cruise.example.com/#x":       "fragment",
		"https://cruise.example.com/?token=x": "no query",
	} {
		_, err := apiclient.New(u, nil)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("New(%q) = %v, want an error with %q and no password", u, err, want)
		}
	}
}

// The token goes in the Authorization header only, and not to the
// unauthenticated authconfig route; paths and queries are escaped.
func TestRequests(t *testing.T) {
	type seen struct{ method, path, query, auth, contentType, body string }
	var got []seen
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		switch {
		case strings.HasSuffix(r.URL.Path, "/rollback"):
			writeJSON(w, http.StatusOK, apiv1.RollbackResult{Commit: "abc", Branch: "main", Changed: []string{"a.yaml"}})
		case r.URL.Path == "/api/v1/authconfig":
			writeJSON(w, http.StatusOK, apiv1.AuthConfig{Issuer: "https://auth", ClientID: "cli"})
		default:
			w.Write([]byte("{}"))
		}
	}))
	ctx := context.Background()
	if ac, err := c.AuthConfig(ctx); err != nil || ac.ClientID != "cli" {
		t.Fatalf("AuthConfig = %+v, %v", ac, err)
	}
	if _, err := c.ListApplications(ctx, apiclient.ListOptions{Namespace: "apps", Health: apiv1.HealthDegraded, Query: "a b&c", Limit: 50, Continue: "tok"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetApplication(ctx, "apps", "we b"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx, "apps", "web"); err != nil {
		t.Fatal(err)
	}
	res, err := c.Rollback(ctx, "apps", "web", "0123456")
	if err != nil || res.Commit != "abc" || len(res.Changed) != 1 {
		t.Fatalf("Rollback = %+v, %v", res, err)
	}
	if _, err := c.ListSources(ctx, ""); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"GET", "/api/v1/authconfig", "", "", "", ""},
		{"GET", "/api/v1/applications", "continue=tok&health=Degraded&limit=50&namespace=apps&q=a+b%26c", "Bearer " + token, "", ""},
		{"GET", "/api/v1/namespaces/apps/applications/we%20b", "", "Bearer " + token, "", ""},
		{"POST", "/api/v1/namespaces/apps/applications/web/sync", "", "Bearer " + token, "application/json", "{}"},
		{"POST", "/api/v1/namespaces/apps/applications/web/rollback", "", "Bearer " + token, "application/json", `{"revision":"0123456"}`},
		{"GET", "/api/v1/sources", "", "Bearer " + token, "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("requests %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestErrors(t *testing.T) {
	c, srv := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/rollback"):
			writeJSON(w, http.StatusConflict, apiv1.ErrorResponse{Error: apiv1.Error{Code: apiv1.CodeConflict,
				Message: "the revert conflicts\nwith later commits", Files: []string{"deploy/a.yaml", "deploy/b.yaml"}}})
		case strings.HasSuffix(r.URL.Path, "/missing"):
			writeJSON(w, http.StatusNotFound, apiv1.ErrorResponse{Error: apiv1.Error{Code: apiv1.CodeNotFound, Message: "application apps/missing not found"}})
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>\n<body>Bad gateway</body></html>"))
		}
	}))
	ctx := context.Background()
	_, err := c.Rollback(ctx, "apps", "web", "0123456")
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.API.Code != apiv1.CodeConflict || len(ae.API.Files) != 2 {
		t.Fatalf("conflict: %#v", err)
	}
	want := srv.URL + ": rollback apps/web: the revert conflicts with later commits (409 conflict; files: deploy/a.yaml, deploy/b.yaml)"
	if err.Error() != want {
		t.Errorf("conflict error\n%s\nwant\n%s", err, want)
	}
	if _, err := c.GetApplication(ctx, "apps", "missing"); !apiclient.HasCode(err, apiv1.CodeNotFound) ||
		err.Error() != srv.URL+": get application apps/missing: application apps/missing not found (404 not_found)" {
		t.Errorf("not found: %v", err)
	}
	_, err = c.ListSources(ctx, "apps")
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.API.Code != "" ||
		err.Error() != srv.URL+": list sources: <html> <body>Bad gateway</body></html> (502)" {
		t.Errorf("non-API error: %v", err)
	}
}

func TestLimits(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var redirected atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirected.Add(1) }))
	defer target.Close()
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/applications":
			w.Write([]byte(`{"items":[` + strings.Repeat(`{"name":"x"},`, 100) + `{}]}`))
		case "/api/v1/sources":
			select { // hold the answer until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
		default:
			http.Redirect(w, r, target.URL+"/api/v1/whoami", http.StatusFound)
		}
	}), apiclient.WithMaxResponseBytes(1000), apiclient.WithTimeout(200*time.Millisecond))
	ctx := context.Background()
	if _, err := c.ListApplications(ctx, apiclient.ListOptions{}); err == nil || !strings.Contains(err.Error(), "larger than 1000 bytes") {
		t.Errorf("oversized response: %v", err)
	}
	start := time.Now()
	if _, err := c.ListSources(ctx, ""); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("slow response: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timeout took %s", d)
	}
	if _, err := c.Whoami(ctx); err == nil || !strings.Contains(err.Error(), "redirects are not followed") {
		t.Errorf("redirect: %v", err)
	}
	if n := redirected.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// A token source error is the call's error, and nothing is sent.
func TestTokenSourceError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer srv.Close()
	c, err := apiclient.New(srv.URL, failingSource{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Whoami(context.Background()); err == nil || !strings.Contains(err.Error(), srv.URL+": whoami: run cruise login") {
		t.Errorf("Whoami = %v", err)
	}
	if calls.Load() != 0 {
		t.Error("a request was sent without a token")
	}
}

type failingSource struct{}

func (failingSource) Token() (*oauth2.Token, error) { return nil, errors.New("run cruise login") }
