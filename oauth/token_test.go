package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/store"
)

// TestPKCEAtTokenEndpoint covers rule 1 at the token endpoint: a wrong or
// missing verifier is invalid_grant, a malformed one invalid_request, and
// none of these consumes the code, which the right verifier then redeems.
func TestPKCEAtTokenEndpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
		for _, tc := range []struct {
			name, verifier, want string
		}{
			{"missing verifier", "", "invalid_grant"},
			{"wrong verifier", oauth2.GenerateVerifier(), "invalid_grant"},
			{"challenge sent as verifier", oauth2.S256ChallengeFromVerifier(verifier), "invalid_grant"},
			{"too short", "abc", "invalid_request"},
			{"too long", strings.Repeat("a", 129), "invalid_request"},
			{"bad charset", strings.Repeat("a", 42) + "+", "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.redeem(e.public, code, tc.verifier, loopbackRedirect), http.StatusBadRequest, tc.want)
			})
		}
		wantTokens(t, e.redeem(e.public, code, verifier, loopbackRedirect))
	})
}

// TestPKCEDowngradeRefused: a code stored without a challenge (as another
// server might have issued) is refused when a verifier comes with it.
func TestPKCEDowngradeRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		now := e.clock.Now()
		code := "downgrade-code-0123456789abcdefghijklmnopqrstuv"
		if err := e.store.CreateCode(context.Background(), store.AuthCode{Hash: store.HashToken(code), ClientID: e.public.ID,
			UserID: e.user.ID, RedirectURI: loopbackRedirect, RedirectURISent: true, FamilyID: "fam-downgrade",
			CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		r := e.redeem(e.public, code, oauth2.GenerateVerifier(), loopbackRedirect)
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(r.str("error_description"), "without code_challenge") {
			t.Errorf("description %q does not name the downgrade", r.str("error_description"))
		}
	})
}

// TestCodeBindingAndLifetime covers rule 4's bindings: another client, a
// different redirect URI and an expired code are invalid_grant.
func TestCodeBindingAndLifetime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		other := e.register(oauth.ClientSpec{Name: "other", Public: true, RedirectURIs: []string{loopbackRedirect}})
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
		wantError(t, e.redeem(other, code, verifier, loopbackRedirect), http.StatusBadRequest, "invalid_grant")
		wantError(t, e.redeem(e.public, code, verifier, "http://127.0.0.1:8080/callback"), http.StatusBadRequest, "invalid_grant")
		wantError(t, e.redeem(e.public, code, verifier, ""), http.StatusBadRequest, "invalid_grant")
		// Still unconsumed: the bindings failed before redemption.
		wantTokens(t, e.redeem(e.public, code, verifier, loopbackRedirect))

		code, verifier = e.codeFor(e.public, loopbackRedirect, "openid")
		e.clock.Advance(61 * time.Second)
		r := e.redeem(e.public, code, verifier, loopbackRedirect)
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(r.str("error_description"), "expired") {
			t.Errorf("description %q, want expiry", r.str("error_description"))
		}
	})
}

// TestCodeReplay covers rule 4: a second valid redemption is refused and
// revokes the refresh and access tokens of the first; an invalid replay
// (wrong verifier) revokes nothing.
func TestCodeReplay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		t.Run("invalid replay revokes nothing", func(t *testing.T) {
			code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
			first := e.redeem(e.public, code, verifier, loopbackRedirect)
			wantTokens(t, first)
			wantError(t, e.redeem(e.public, code, oauth2.GenerateVerifier(), loopbackRedirect), http.StatusBadRequest, "invalid_grant")
			if !e.introspect(first.str("access_token")) {
				t.Fatal("an invalid replay revoked the access token")
			}
			wantTokens(t, e.refresh(e.public, first.str("refresh_token"), nil))
		})
		t.Run("valid replay revokes the grant", func(t *testing.T) {
			code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
			first := e.redeem(e.public, code, verifier, loopbackRedirect)
			wantTokens(t, first)
			if !e.introspect(first.str("access_token")) {
				t.Fatal("fresh access token inactive")
			}
			wantError(t, e.redeem(e.public, code, verifier, loopbackRedirect), http.StatusBadRequest, "invalid_grant")
			if e.introspect(first.str("access_token")) {
				t.Error("access token from the replayed code is still active")
			}
			wantError(t, e.refresh(e.public, first.str("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
		})
	})
}

// TestTokenEndpointRequestRules covers rules 3 and 7: POST only, form body
// only, no repeated parameters, one authentication method, unknown grants
// refused, failed Basic authentication challenged, no-store on every
// response.
func TestTokenEndpointRequestRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		cc := url.Values{"grant_type": {"client_credentials"}}
		for _, tc := range []struct {
			name     string
			form     url.Values
			header   http.Header
			status   int
			code     string
			wwwAuthn bool
		}{
			{"password grant", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {e.password}, "client_id": {e.public.ID}}, nil, 400, "unsupported_grant_type", false},
			{"implicit as grant", url.Values{"grant_type": {"implicit"}, "client_id": {e.public.ID}}, nil, 400, "unsupported_grant_type", false},
			{"jwt bearer grant", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}}, basicAuth(e.confidential.ID, e.secret), 400, "unsupported_grant_type", false},
			{"no grant type", url.Values{"client_id": {e.public.ID}}, nil, 400, "invalid_request", false},
			{"repeated grant_type", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, basicAuth(e.confidential.ID, e.secret), 400, "invalid_request", false},
			{"repeated scope", url.Values{"grant_type": {"client_credentials"}, "scope": {"cruise:read", "cruise:read"}}, basicAuth(e.confidential.ID, e.secret), 400, "invalid_request", false},
			{"basic and post", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.confidential.ID}, "client_secret": {e.secret}}, basicAuth(e.confidential.ID, e.secret), 400, "invalid_request", false},
			{"post and assertion", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.confidential.ID}, "client_secret": {e.secret},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"a.b.c"}}, nil, 400, "invalid_request", false},
			{"wrong basic secret", cc, basicAuth(e.confidential.ID, "wrong"), 401, "invalid_client", true},
			{"unknown basic client", cc, basicAuth("nobody", "x"), 401, "invalid_client", true},
			{"no authentication", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.confidential.ID}}, nil, 401, "invalid_client", false},
			{"public client credentials", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.public.ID}}, nil, 400, "unauthorized_client", false},
			{"openid scope without user", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, basicAuth(e.confidential.ID, e.secret), 400, "invalid_scope", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.post(oauth.PathToken, tc.form, tc.header)
				wantError(t, r, tc.status, tc.code)
				if got := r.Header.Get("WWW-Authenticate"); tc.wwwAuthn && !strings.HasPrefix(got, "Basic") {
					t.Errorf("WWW-Authenticate = %q, want a Basic challenge", got)
				}
				if r.str("access_token") != "" {
					t.Error("an access token was issued")
				}
			})
		}
		t.Run("GET refused", func(t *testing.T) {
			resp, err := http.Get(e.url(oauth.PathToken) + "?grant_type=client_credentials")
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
				t.Fatalf("GET /token: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
			}
		})
		t.Run("parameters in the query string refused", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url(oauth.PathToken)+"?client_secret="+e.secret, strings.NewReader("grant_type=client_credentials&client_id="+e.confidential.ID))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_request") {
				t.Fatalf("query parameters: %d %s", resp.StatusCode, body)
			}
		})
		t.Run("JSON body refused", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url(oauth.PathToken), strings.NewReader(`{"grant_type":"client_credentials"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header["Authorization"] = basicAuth(e.confidential.ID, e.secret)["Authorization"]
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_request") {
				t.Fatalf("JSON body: %d %s", resp.StatusCode, body)
			}
		})
		t.Run("success is no-store", func(t *testing.T) {
			wantTokens(t, e.post(oauth.PathToken, cc, basicAuth(e.confidential.ID, e.secret)))
		})
	})
}
