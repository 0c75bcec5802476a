package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/oauth"
)

var challenge = oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())

// TestAuthorizeErrorsRedirectWithIss covers rules 1, 3 and 6 at the
// authorization endpoint: once client and redirect URI are known good,
// every error goes back to the client with the spec's code, the state
// verbatim and iss (RFC 9207), and no code.
func TestAuthorizeErrorsRedirectWithIss(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name   string
			mutate func(q url.Values)
			want   string
		}{
			{"no code_challenge (PKCE required)", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
			{"plain method", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
			{"challenge without method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
			{"lowercase s256", func(q url.Values) { q.Set("code_challenge_method", "s256") }, "invalid_request"},
			{"challenge not a digest", func(q url.Values) { q.Set("code_challenge", "too-short") }, "invalid_request"},
			{"implicit grant", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
			{"hybrid", func(q url.Values) { q.Set("response_type", "code id_token") }, "unsupported_response_type"},
			{"missing response_type", func(q url.Values) { q.Del("response_type") }, "invalid_request"},
			{"repeated scope", func(q url.Values) { q["scope"] = []string{"openid", "openid"} }, "invalid_request"},
			{"unknown scope", func(q url.Values) { q.Set("scope", "openid admin:everything") }, "invalid_scope"},
			{"response_mode fragment", func(q url.Values) { q.Set("response_mode", "fragment") }, "invalid_request"},
			{"request object", func(q url.Values) { q.Set("request", "eyJhbGciOiJub25lIn0.e30.") }, "request_not_supported"},
			{"prompt none without session", func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := authQuery(e.public, loopbackRedirect, challenge, "openid")
				q.Set("state", "a b&c=d/é")
				tc.mutate(q)
				resp, err := e.browser().Get(e.url(oauth.PathAuthorize) + "?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("status %d, want 303 redirect", resp.StatusCode)
				}
				loc, _ := url.Parse(resp.Header.Get("Location"))
				got := loc.Query()
				if !strings.HasPrefix(loc.String(), loopbackRedirect) {
					t.Errorf("redirected to %s", loc)
				}
				if got.Get("error") != tc.want || got.Get("state") != "a b&c=d/é" || got.Get("iss") != e.issuer || got.Has("code") {
					t.Errorf("redirect query %v; want error %q, state verbatim, iss %q, no code", got, tc.want, e.issuer)
				}
			})
		}
	})
}

// TestAuthorizeBadClientOrRedirectNeverRedirects covers rule 2: an unknown
// client or an unregistered redirect URI shows an error page (with
// anti-framing headers) and never redirects; the only tolerance is the
// port of a loopback IP literal.
func TestAuthorizeBadClientOrRedirectNeverRedirects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		two := e.register(oauth.ClientSpec{Name: "two", Public: true, RedirectURIs: []string{"https://a.example/cb", "https://b.example/cb"}})
		for _, tc := range []struct {
			name     string
			mutate   func(q url.Values)
			redirect bool
		}{
			{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, false},
			{"no client", func(q url.Values) { q.Del("client_id") }, false},
			{"repeated client_id", func(q url.Values) { q["client_id"] = []string{e.public.ID, e.public.ID} }, false},
			{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, false},
			{"extra path segment", func(q url.Values) { q.Set("redirect_uri", loopbackRedirect+"/x") }, false},
			{"extra query", func(q url.Values) { q.Set("redirect_uri", loopbackRedirect+"?a=1") }, false},
			{"trailing slash", func(q url.Values) { q.Set("redirect_uri", loopbackRedirect+"/") }, false},
			{"localhost instead of IP literal", func(q url.Values) { q.Set("redirect_uri", "http://localhost/callback") }, false},
			{"https instead of http", func(q url.Values) { q.Set("redirect_uri", "https://127.0.0.1/callback") }, false},
			{"userinfo trick", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:80@evil.example/callback") }, false},
			{"case differs", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1/Callback") }, false},
			{"repeated redirect_uri", func(q url.Values) { q["redirect_uri"] = []string{loopbackRedirect, loopbackRedirect} }, false},
			{"loopback v4 any port", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:49152/callback") }, true},
			{"loopback v6 any port", func(q url.Values) { q.Set("redirect_uri", "http://[::1]:61000/callback") }, true},
			{"omitted with two registered", func(q url.Values) { q.Set("client_id", two.ID); q.Del("redirect_uri") }, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := authQuery(e.public, loopbackRedirect, challenge)
				q.Set("response_type", "token") // would be an error redirect if the redirect were trusted
				tc.mutate(q)
				resp, err := e.browser().Get(e.url(oauth.PathAuthorize) + "?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				readBody(t, resp)
				if tc.redirect {
					if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "error=unsupported_response_type") {
						t.Fatalf("status %d Location %q; want an error redirect to the loopback URI", resp.StatusCode, resp.Header.Get("Location"))
					}
					return
				}
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("status %d Location %q; want 400 page without redirect", resp.StatusCode, resp.Header.Get("Location"))
				}
				wantPageHeaders(t, resp.Header)
			})
		}
	})
}

func wantPageHeaders(t testing.TB, h http.Header) {
	t.Helper()
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("page headers X-Frame-Options %q CSP %q; want DENY and frame-ancestors 'none'",
			h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || h.Get("Cache-Control") != "no-store" {
		t.Errorf("page Content-Type %q Cache-Control %q", h.Get("Content-Type"), h.Get("Cache-Control"))
	}
}

// TestLoginAndConsentPages covers rules 7 and 11 for the pages: the login
// and consent pages refuse framing, the consent page names the client and
// scopes, the consent POST answers 303, and a wrong CSRF token is refused.
func TestLoginAndConsentPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		b := e.browser()
		q := authQuery(e.public, loopbackRedirect, challenge, "openid", "cruise:write")
		resp, err := b.Get(e.url(oauth.PathAuthorize) + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		wantPageHeaders(t, resp.Header)
		if !strings.Contains(body, `name="password"`) || !strings.Contains(body, "cruise CLI") {
			t.Fatalf("login page: %s", body)
		}
		form := formFields(body)
		form.Set("username", "alice")
		form.Set("password", "wrong password")
		resp, _ = b.PostForm(e.url(oauth.PathLogin), form)
		if readBody(t, resp); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: status %d, want 401", resp.StatusCode)
		}
		form.Set("password", e.password)
		resp, _ = b.PostForm(e.url(oauth.PathLogin), form)
		body = readBody(t, resp)
		wantPageHeaders(t, resp.Header)
		if !strings.Contains(body, "cruise CLI") || !strings.Contains(body, "cruise:write") || !strings.Contains(body, "openid") {
			t.Fatalf("consent page lacks client name or scopes: %s", body)
		}
		form = formFields(body)
		bad := url.Values{"interaction": {form.Get("interaction")}, "csrf": {"forged"}, "decision": {"approve"}}
		resp, _ = b.PostForm(e.url(oauth.PathConsent), bad)
		if readBody(t, resp); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("forged CSRF: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		form.Set("decision", "approve")
		resp, _ = b.PostForm(e.url(oauth.PathConsent), form)
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "code=") {
			t.Fatalf("consent approval: status %d Location %q; want 303 with a code", resp.StatusCode, resp.Header.Get("Location"))
		}
		// The second authorization skips both pages.
		loc := e.authorizeVia(b, q)
		if loc.Query().Get("code") == "" {
			t.Fatalf("second authorization: %s", loc)
		}
	})
}

// TestConsentDenied sends access_denied with iss and state.
func TestConsentDenied(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		b := e.browser()
		resp, _ := b.Get(e.url(oauth.PathAuthorize) + "?" + authQuery(e.public, loopbackRedirect, challenge, "openid").Encode())
		form := formFields(readBody(t, resp))
		form.Set("username", "alice")
		form.Set("password", e.password)
		resp, _ = b.PostForm(e.url(oauth.PathLogin), form)
		form = formFields(readBody(t, resp))
		form.Set("decision", "deny")
		resp, _ = b.PostForm(e.url(oauth.PathConsent), form)
		readBody(t, resp)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" || loc.Query().Get("iss") != e.issuer {
			t.Fatalf("deny: %d %s", resp.StatusCode, loc)
		}
	})
}

func TestValidateRedirectURI(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://app.example/cb":      true,
		"http://127.0.0.1/cb":         true,
		"http://[::1]/cb":             true,
		"com.example.app:/oauth":      true,
		"http://localhost/cb":         false,
		"http://app.example/cb":       false,
		"https://app.example/cb#frag": false,
		"/relative":                   false,
		"javascript:alert(1)":         false,
	} {
		if err := oauth.ValidateRedirectURI(uri); (err == nil) != ok {
			t.Errorf("ValidateRedirectURI(%q) = %v, want ok=%v", uri, err, ok)
		}
	}
}

// TestFirstPartyClientSkipsConsent: a client named in FirstPartyClients
// gets its code right after login, without a consent page, unless it asks
// with prompt=consent.
func TestFirstPartyClientSkipsConsent(t *testing.T) {
	const id = "first-party-cli"
	forEachBackend(t, func(t *testing.T, e *env) {
		c, _, err := oauth.NewClient(oauth.ClientSpec{Name: "own CLI", Public: true, RedirectURIs: []string{loopbackRedirect}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c.ID = id
		if err := e.store.CreateClient(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		get := func(b *http.Client, q url.Values) *http.Response {
			t.Helper()
			resp, err := b.Get(e.url(oauth.PathAuthorize) + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		// Logging in finishes the authorization: no consent page.
		b := e.browser()
		form := formFields(readBody(t, get(b, authQuery(c, loopbackRedirect, challenge, "openid", "cruise:write"))))
		form.Set("username", "alice")
		form.Set("password", e.password)
		resp, err := b.PostForm(e.url(oauth.PathLogin), form)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "code=") {
			t.Fatalf("after login: status %d Location %q; want 303 with a code, no consent page", resp.StatusCode, resp.Header.Get("Location"))
		}
		// Logged in, prompt=consent still asks.
		q := authQuery(c, loopbackRedirect, challenge, "openid")
		q.Set("prompt", "consent")
		resp = get(b, q)
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="approve"`) {
			t.Fatalf("prompt=consent: status %d, want the consent page", resp.StatusCode)
		}
		// So does a client that is not first-party, for the same user.
		resp = get(b, authQuery(e.public, loopbackRedirect, challenge, "openid"))
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="approve"`) {
			t.Fatalf("third-party client: status %d, want the consent page", resp.StatusCode)
		}
	}, func(o *oauth.Options) { o.FirstPartyClients = []string{id} })
}
