package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/oauth"
)

// TestRefreshRotationAndFamilyRevocation covers rule 5: A→B, replay A,
// then B is dead too, and so are the access tokens of the family.
func TestRefreshRotationAndFamilyRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid", "cruise:read")
		first := e.redeem(e.public, code, verifier, loopbackRedirect)
		wantTokens(t, first)
		a := first.str("refresh_token")
		second := e.refresh(e.public, a, nil)
		wantTokens(t, second)
		b := second.str("refresh_token")
		if b == "" || b == a {
			t.Fatalf("refresh did not rotate: A=%q B=%q", a, b)
		}
		wantError(t, e.refresh(e.public, a, nil), http.StatusBadRequest, "invalid_grant")
		wantError(t, e.refresh(e.public, b, nil), http.StatusBadRequest, "invalid_grant")
		if e.introspect(second.str("access_token")) {
			t.Error("access token of the revoked family is still active")
		}
	})
}

// TestRefreshBindingsAndScope: bound to the client; no widening
// (invalid_scope); narrowing allowed.
func TestRefreshBindingsAndScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		other := e.register(oauth.ClientSpec{Name: "other", Public: true, RedirectURIs: []string{loopbackRedirect}})
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid", "cruise:read")
		rt := e.redeem(e.public, code, verifier, loopbackRedirect).str("refresh_token")

		wantError(t, e.refresh(other, rt, nil), http.StatusBadRequest, "invalid_grant")
		wantError(t, e.refresh(e.public, rt, url.Values{"scope": {"openid cruise:read cruise:write"}}), http.StatusBadRequest, "invalid_scope")
		// Neither failure used the token.
		narrowed := e.refresh(e.public, rt, url.Values{"scope": {"cruise:read"}})
		wantTokens(t, narrowed)
		if narrowed.str("scope") != "cruise:read" || parseAccessToken(t, narrowed.str("access_token"))["scope"] != "cruise:read" {
			t.Fatalf("narrowed scope = %q", narrowed.str("scope"))
		}
		// The grant keeps its original scope: the next refresh may ask for
		// all of it again.
		full := e.refresh(e.public, narrowed.str("refresh_token"), url.Values{"scope": {"openid cruise:read"}})
		wantTokens(t, full)
	})
}

// TestRefreshExpiry: idle and absolute lifetimes.
func TestRefreshExpiry(t *testing.T) {
	opts := func(o *oauth.Options) { o.RefreshIdleTTL, o.RefreshAbsoluteTTL = time.Hour, 90*time.Minute }
	forEachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
		rt := e.redeem(e.public, code, verifier, loopbackRedirect).str("refresh_token")
		e.clock.Advance(50 * time.Minute)
		r := e.refresh(e.public, rt, nil)
		wantTokens(t, r) // within the idle lifetime
		e.clock.Advance(50 * time.Minute)
		// 100 minutes in: the new token is 50 minutes idle, but the
		// family's absolute lifetime (90) has passed.
		wantError(t, e.refresh(e.public, r.str("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")

		code, verifier = e.codeFor(e.public, loopbackRedirect, "openid")
		rt = e.redeem(e.public, code, verifier, loopbackRedirect).str("refresh_token")
		e.clock.Advance(61 * time.Minute)
		wantError(t, e.refresh(e.public, rt, nil), http.StatusBadRequest, "invalid_grant")
	}, opts)
}

// TestRevocationEndpoint (RFC 7009): revoking a refresh token kills its
// family; revoking an access token makes it inactive; another client's
// token is left alone; the answer is always 200.
func TestRevocationEndpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
		tok := e.redeem(e.public, code, verifier, loopbackRedirect)
		other := e.register(oauth.ClientSpec{Name: "other", Public: true, RedirectURIs: []string{loopbackRedirect}})

		r := e.post(oauth.PathRevoke, url.Values{"token": {tok.str("refresh_token")}, "client_id": {other.ID}}, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("revoke by other client: %d", r.Status)
		}
		if !e.introspect(tok.str("access_token")) {
			t.Fatal("another client revoked the token")
		}
		r = e.post(oauth.PathRevoke, url.Values{"token": {"unknown"}, "client_id": {e.public.ID}}, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("revoke unknown token: %d", r.Status)
		}
		r = e.post(oauth.PathRevoke, url.Values{"token": {tok.str("refresh_token")}, "client_id": {e.public.ID}, "token_type_hint": {"refresh_token"}}, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.RawBody)
		}
		wantError(t, e.refresh(e.public, tok.str("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
		if e.introspect(tok.str("access_token")) {
			t.Error("access token active after its refresh token was revoked")
		}

		cc := e.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, basicAuth(e.confidential.ID, e.secret))
		if !e.introspect(cc.str("access_token")) {
			t.Fatal("client credentials token inactive")
		}
		e.post(oauth.PathRevoke, url.Values{"token": {cc.str("access_token")}}, basicAuth(e.confidential.ID, e.secret))
		if e.introspect(cc.str("access_token")) {
			t.Error("revoked access token still active")
		}

		// Deleting a client deactivates its tokens.
		ci, ciSecret := e.registerWithSecret(oauth.ClientSpec{Name: "ci"})
		ciToken := e.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, basicAuth(ci.ID, ciSecret)).str("access_token")
		if !e.introspect(ciToken) {
			t.Fatal("fresh token of the ci client inactive")
		}
		if err := e.store.DeleteClient(context.Background(), ci.ID); err != nil {
			t.Fatal(err)
		}
		if e.introspect(ciToken) {
			t.Error("token of a deleted client still active")
		}
	})
}
