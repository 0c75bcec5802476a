package oauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/resource"
)

// dpopKey makes DPoP proofs (RFC 9449 section 4.2) with one key.
type dpopKey struct {
	t      testing.TB
	signer jose.Signer
	jkt    string
}

func newDPoPKey(t testing.TB) *dpopKey {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &k.PublicKey}
	jkt, _ := dpop.Thumbprint(&jwk)
	return &dpopKey{t: t, signer: s, jkt: jkt}
}

func (k *dpopKey) proof(method, u, accessToken string) string {
	c := map[string]any{"jti": base64.RawURLEncoding.EncodeToString([]byte(time.Now().String() + u + method)), "htm": method, "htu": u, "iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	p, err := jwt.Signed(k.signer).Claims(c).Serialize()
	if err != nil {
		k.t.Fatal(err)
	}
	return p
}

// TestDPoPBoundTokens covers rule 5's DPoP part: a public client that sends
// proofs gets DPoP-bound tokens; its refresh token needs a proof by the
// same key; proofs cannot be replayed or aimed at another URL.
func TestDPoPBoundTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		key, other := newDPoPKey(t), newDPoPKey(t)
		tokenURL := e.url(oauth.PathToken)
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid", "cruise:read")
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {e.public.ID}, "code": {code}, "redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}}
		wantError(t, e.post(oauth.PathToken, form, http.Header{"Dpop": {key.proof("POST", "https://elsewhere.example/token", "")}}), http.StatusBadRequest, "invalid_dpop_proof")
		wantError(t, e.post(oauth.PathToken, form, http.Header{"Dpop": {key.proof("GET", tokenURL, "")}}), http.StatusBadRequest, "invalid_dpop_proof")
		proof := key.proof("POST", tokenURL, "")
		tok := e.post(oauth.PathToken, form, http.Header{"Dpop": {proof}})
		wantTokens(t, tok)
		if tok.str("token_type") != "DPoP" {
			t.Fatalf("token_type %q, want DPoP", tok.str("token_type"))
		}
		cnf, _ := parseAccessToken(t, tok.str("access_token"))["cnf"].(map[string]any)
		if cnf["jkt"] != key.jkt {
			t.Fatalf("cnf %v, want jkt %s", cnf, key.jkt)
		}
		rt := tok.str("refresh_token")
		refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {e.public.ID}, "refresh_token": {rt}}
		wantError(t, e.post(oauth.PathToken, refresh, nil), http.StatusBadRequest, "invalid_grant")
		wantError(t, e.post(oauth.PathToken, refresh, http.Header{"Dpop": {other.proof("POST", tokenURL, "")}}), http.StatusBadRequest, "invalid_grant")
		wantError(t, e.post(oauth.PathToken, refresh, http.Header{"Dpop": {proof}}), http.StatusBadRequest, "invalid_dpop_proof") // replayed jti
		next := e.post(oauth.PathToken, refresh, http.Header{"Dpop": {key.proof("POST", tokenURL, "")}})
		wantTokens(t, next)

		// At a resource server: the DPoP scheme with a fresh proof by the
		// same key, never the Bearer scheme.
		v, _ := resource.New(resource.Options{Issuer: e.issuer, Audience: e.issuer, Keys: e.srv})
		api := httptest.NewServer(v.Require("cruise:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
		defer api.Close()
		at := next.str("access_token")
		call := func(auth, proof string) int {
			req, _ := http.NewRequest(http.MethodGet, api.URL+"/x", nil)
			req.Header.Set("Authorization", auth)
			if proof != "" {
				req.Header.Set("DPoP", proof)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		p := key.proof("GET", api.URL+"/x", at)
		for _, tc := range []struct {
			name, auth, proof string
			want              int
		}{
			{"Bearer scheme", "Bearer " + at, "", 401},
			{"no proof", "DPoP " + at, "", 401},
			{"proof by another key", "DPoP " + at, other.proof("GET", api.URL+"/x", at), 401},
			{"proof without ath", "DPoP " + at, key.proof("GET", api.URL+"/x", ""), 401},
			{"valid", "dpop " + at, p, 200},
			{"replayed proof", "DPoP " + at, p, 401},
		} {
			if got := call(tc.auth, tc.proof); got != tc.want {
				t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
			}
		}
	})
}

// TestIntrospectionAccess: only authenticated confidential clients, within
// their rate.
func TestIntrospectionAccess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		wantError(t, e.post(oauth.PathIntrospect, url.Values{"token": {"x"}}, nil), http.StatusUnauthorized, "invalid_client")
		wantError(t, e.post(oauth.PathIntrospect, url.Values{"token": {"x"}, "client_id": {e.public.ID}}, nil), http.StatusUnauthorized, "invalid_client")
		auth := basicAuth(e.confidential.ID, e.secret)
		for i := range 2 {
			if r := e.post(oauth.PathIntrospect, url.Values{"token": {"x"}}, auth); r.Status != http.StatusOK || r.Body["active"] != false {
				t.Fatalf("request %d: %d %s", i, r.Status, r.RawBody)
			}
		}
		r := e.post(oauth.PathIntrospect, url.Values{"token": {"x"}}, auth)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("over the rate: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}
	}, func(o *oauth.Options) { o.IntrospectionRate = 1 })
}
