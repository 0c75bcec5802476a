package oauth_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/oauth"
)

// jsDir holds the npm fixtures (hack/oauth-js); npmOnce installs them.
var (
	jsDir   = filepath.Join("..", "hack", "oauth-js")
	npmOnce sync.Once
	npmErr  error
)

// requireNode makes sure node and the npm fixtures are there, running
// `npm ci` once when node_modules is missing.
func requireNode(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: run `make test-deps`")
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(jsDir, "node_modules")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = jsDir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = fmt.Errorf("npm ci in %s: %v\n%s", jsDir, err, out)
		}
	})
	if npmErr != nil {
		t.Fatal(npmErr)
	}
}

// startNode runs a fixture script and returns its stdout lines.
func startNode(t testing.TB, script string, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = jsDir
	cmd.Stderr = &testWriter{t: t, prefix: script + ": "}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	return cmd, stdin, bufio.NewScanner(stdout)
}

type testWriter struct {
	t      testing.TB
	prefix string
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(w.prefix + strings.TrimSpace(string(p)))
	return len(p), nil
}

// follow GETs u and follows redirects across hosts with b's cookies until
// a page answers, or a redirect leaves for stop.
func follow(t testing.TB, b *http.Client, u, stop string) (*http.Response, string) {
	t.Helper()
	for range 20 {
		resp, err := b.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			return resp, readBody(t, resp)
		}
		resp.Body.Close()
		next, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if stop != "" && strings.HasPrefix(next.String(), stop) {
			return resp, next.String()
		}
		u = next.String()
	}
	t.Fatal("too many redirects")
	return nil, ""
}

// TestFederationWithOIDCProvider logs in through a real upstream OpenID
// provider (panva's oidc-provider): cruise redirects there, verifies the
// ID token, and maps its groups claim into the access token.
func TestFederationWithOIDCProvider(t *testing.T) {
	requireNode(t)
	forEachBackend(t, func(t *testing.T, e *env) {
		b := e.browser()
		resp, _ := b.Get(e.url(oauth.PathAuthorize) + "?" + authQuery(e.public, loopbackRedirect, challengeOf(strings.Repeat("f", 43)), "openid", "groups").Encode())
		body := readBody(t, resp)
		if !strings.Contains(body, "Log in with test provider") {
			t.Fatalf("login page has no upstream link: %s", body)
		}
		link := htmlUnescape(body[strings.Index(body, e.url(oauth.PathUpstreamLogin)):])
		link = link[:strings.IndexByte(link, '"')]
		_, body = follow(t, b, link, loopbackRedirect)
		form := formFields(body)
		form.Set("decision", "approve")
		resp, err := b.PostForm(e.url(oauth.PathConsent), form)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		tok := e.redeem(e.public, loc.Query().Get("code"), strings.Repeat("f", 43), loopbackRedirect)
		wantTokens(t, tok)
		c := parseAccessToken(t, tok.str("access_token"))
		groups, _ := json.Marshal(c["groups"])
		if string(groups) != `["platform","admins"]` {
			t.Fatalf("access token groups %s, want the upstream groups", groups)
		}
		u, err := e.store.GetUser(context.Background(), c["sub"].(string))
		if err != nil || u.Name != "fed-user" || !strings.HasSuffix(u.Upstream, " upstream-user-1") {
			t.Fatalf("federated user %+v, %v", u, err)
		}
	}, withUpstream(t))
}

// withUpstream starts oidc-provider for the server about to be built.
func withUpstream(t *testing.T) func(*oauth.Options) {
	return func(o *oauth.Options) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		_, _, out := startNode(t, "upstream-provider.mjs", port, o.Issuer+oauth.PathUpstreamCallback)
		ready := make(chan string, 1)
		go func() {
			for out.Scan() {
				if line := out.Text(); strings.HasPrefix(line, "READY ") {
					ready <- strings.TrimPrefix(line, "READY ")
				}
			}
		}()
		select {
		case issuer := <-ready:
			o.Upstream = &oauth.UpstreamOptions{Issuer: issuer, ClientID: "cruise", ClientSecret: "cruise-upstream-secret", Name: "test provider"}
		case <-time.After(30 * time.Second):
			t.Fatal("oidc-provider did not start within 30s")
		}
	}
}

// TestStrictClientOAuth4WebAPI runs panva's oauth4webapi, a client that
// enforces OAuth 2.1 and OpenID Connect strictly (iss parameter, PKCE, ID
// token validation), through code + PKCE + refresh against cruise.
func TestStrictClientOAuth4WebAPI(t *testing.T) {
	requireNode(t)
	forEachBackend(t, func(t *testing.T, e *env) {
		redirect := "http://127.0.0.1:53682/callback"
		_, stdin, out := startNode(t, "strict-client.mjs", e.issuer, e.public.ID, redirect)
		var first struct {
			AuthorizationURL string `json:"authorization_url"`
		}
		if !out.Scan() || json.Unmarshal(out.Bytes(), &first) != nil {
			t.Fatalf("strict client printed %q", out.Text())
		}
		u, _ := url.Parse(first.AuthorizationURL)
		loc := e.authorizeVia(e.browser(), u.Query())
		fmt.Fprintln(stdin, loc.String())
		if !out.Scan() {
			t.Fatal("strict client exited without a result (see its stderr above)")
		}
		var res struct {
			Sub                string   `json:"sub"`
			Groups             []string `json:"groups"`
			Rotated            bool     `json:"rotated"`
			AccessTokenChanged bool     `json:"access_token_changed"`
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("strict client result %q: %v", out.Text(), err)
		}
		if res.Sub != e.user.ID || !res.Rotated || !res.AccessTokenChanged || len(res.Groups) != 2 {
			t.Fatalf("strict client result %+v", res)
		}
	})
}
