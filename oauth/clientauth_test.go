package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/store"
)

// TestClientAuthenticationMethods covers rule 8: basic and post with the
// secret, private_key_jwt with a registered key (and its jti single use),
// public clients without credentials.
func TestClientAuthenticationMethods(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		cc := url.Values{"grant_type": {"client_credentials"}}
		wantTokens(t, e.post(oauth.PathToken, cc, basicAuth(e.confidential.ID, e.secret)))
		post := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.confidential.ID}, "client_secret": {e.secret}}
		wantTokens(t, e.post(oauth.PathToken, post, nil))

		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		jwk := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}
		set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
		jwtClient := e.register(oauth.ClientSpec{Name: "jwt client", JWKS: string(set)})
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
		assertion := func(aud string) string {
			a, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: jwtClient.ID, Subject: jwtClient.ID, Audience: jwt.Audience{aud},
				Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute)), IssuedAt: jwt.NewNumericDate(time.Now()),
				ID: base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		form := func(a string) url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
		}
		a := assertion(e.issuer)
		wantTokens(t, e.post(oauth.PathToken, form(a), nil))
		wantError(t, e.post(oauth.PathToken, form(a), nil), http.StatusUnauthorized, "invalid_client") // replayed jti
		wantError(t, e.post(oauth.PathToken, form(assertion("https://elsewhere.example")), nil), http.StatusUnauthorized, "invalid_client")
		// A secret is no way in for a key-authenticated client.
		wantError(t, e.post(oauth.PathToken, cc, basicAuth(jwtClient.ID, "guess")), http.StatusUnauthorized, "invalid_client")

		// Public clients have no credentials: sending a secret fails.
		r := e.post(oauth.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {e.public.ID}, "client_secret": {"x"}}, nil)
		wantError(t, r, http.StatusUnauthorized, "invalid_client")
	})
}

// TestClientSecretsAreStrongAndHashed: secrets carry 256 random bits and
// only their hash is stored.
func TestClientSecretsAreStrongAndHashed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		raw, err := base64.RawURLEncoding.DecodeString(e.secret)
		if err != nil || len(raw) < 32 {
			t.Fatalf("secret %d bytes (%v), want at least 32 random bytes", len(raw), err)
		}
		c, err := e.store.GetClient(context.Background(), e.confidential.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.SecretHash == "" || strings.Contains(c.SecretHash, e.secret) || c.SecretHash != store.HashToken(e.secret) {
			t.Fatalf("stored secret hash %q", c.SecretHash)
		}
	})
}

// TestClientAuthenticationThrottled: after MaxFailures wrong secrets the
// client is locked out at that address with 429 and Retry-After, even with
// the right secret, until the lockout passes (other addresses:
// TestConfidentialClientThrottledPerSource).
func TestClientAuthenticationThrottled(t *testing.T) {
	opts := func(o *oauth.Options) {
		o.Throttle = oauth.ThrottleOptions{MaxFailures: 3, Lockout: time.Minute, MaxLockout: time.Hour}
	}
	forEachBackend(t, func(t *testing.T, e *env) {
		cc := url.Values{"grant_type": {"client_credentials"}}
		for range 3 {
			wantError(t, e.post(oauth.PathToken, cc, basicAuth(e.confidential.ID, "wrong")), http.StatusUnauthorized, "invalid_client")
		}
		r := e.post(oauth.PathToken, cc, basicAuth(e.confidential.ID, e.secret))
		wantError(t, r, http.StatusTooManyRequests, "invalid_client")
		if r.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After on a throttled request")
		}
		e.clock.Advance(61 * time.Second)
		wantTokens(t, e.post(oauth.PathToken, cc, basicAuth(e.confidential.ID, e.secret)))
	}, opts)
}

// TestLoginThrottled: wrong passwords lock the account out of the login
// form at that address (other addresses:
// TestLoginThrottledPerAccountAndSource).
func TestLoginThrottled(t *testing.T) {
	opts := func(o *oauth.Options) {
		o.Throttle = oauth.ThrottleOptions{MaxFailures: 2, Lockout: time.Minute, MaxLockout: time.Hour}
	}
	forEachBackend(t, func(t *testing.T, e *env) {
		b := e.browser()
		resp, _ := b.Get(e.url(oauth.PathAuthorize) + "?" + authQuery(e.public, loopbackRedirect, challenge).Encode())
		form := formFields(readBody(t, resp))
		form.Set("username", "alice")
		for _, tc := range []struct {
			password string
			status   int
		}{{"nope-nope", 401}, {"nope-nope", 401}, {e.password, 429}} {
			form.Set("password", tc.password)
			resp, _ = b.PostForm(e.url(oauth.PathLogin), form)
			if readBody(t, resp); resp.StatusCode != tc.status {
				t.Fatalf("login with %q: %d, want %d", tc.password, resp.StatusCode, tc.status)
			}
		}
		e.clock.Advance(2 * time.Minute)
		form.Set("password", e.password)
		resp, _ = b.PostForm(e.url(oauth.PathLogin), form)
		if readBody(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("login after lockout: %d", resp.StatusCode)
		}
	}, opts)
}
