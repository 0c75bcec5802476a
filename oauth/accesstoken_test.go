package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/keys"
)

func fetchJWKS(t testing.TB, e *env) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(e.url(oauth.PathJWKS))
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(readBody(t, resp)), &set); err != nil {
		t.Fatal(err)
	}
	return set
}

// TestAccessTokensAreRFC9068JWTs covers rule 9 for both algorithms, and
// key rotation: new tokens use the new key, old ones still verify.
func TestAccessTokensAreRFC9068JWTs(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, e *env) {
				code, verifier := e.codeFor(e.public, loopbackRedirect, "openid", "cruise:read")
				at := e.redeem(e.public, code, verifier, loopbackRedirect).str("access_token")
				h := jwtHeader(t, at)
				if h["typ"] != "at+jwt" || h["alg"] != alg || h["kid"] == nil {
					t.Fatalf("header %v, want typ at+jwt, alg %s, kid", h, alg)
				}
				tok, err := jwt.ParseSigned(at, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
				if err != nil {
					t.Fatal(err)
				}
				var c map[string]any
				if err := tok.Claims(fetchJWKS(t, e), &c); err != nil {
					t.Fatalf("access token does not verify with the published JWKS: %v", err)
				}
				for _, k := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
					if c[k] == nil {
						t.Errorf("claim %s missing", k)
					}
				}
				if c["iss"] != e.issuer || c["sub"] != e.user.ID || c["client_id"] != e.public.ID || c["scope"] != "openid cruise:read" {
					t.Errorf("claims %v", c)
				}
				if life := c["exp"].(float64) - c["iat"].(float64); life <= 0 || life > 15*60 {
					t.Errorf("lifetime %vs, want at most 15 minutes", life)
				}
				if g, _ := c["groups"].([]any); len(g) != 2 {
					t.Errorf("groups %v, want the user's groups", c["groups"])
				}
				jti, _ := base64.RawURLEncoding.DecodeString(c["jti"].(string))
				if len(jti) < 16 {
					t.Errorf("jti has %d bytes, want 128 bits", len(jti))
				}

				// Rotate as `cruise auth keys rotate` would, from outside.
				if _, err := keys.Rotate(context.Background(), e.store, alg, time.Now(), 24*time.Hour); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(time.Minute) // past the key reload interval
				cc := e.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, basicAuth(e.confidential.ID, e.secret)).str("access_token")
				if jwtHeader(t, cc)["kid"] == h["kid"] {
					t.Fatal("tokens are still signed with the old key after rotation")
				}
				set := fetchJWKS(t, e)
				if len(set.Keys) != 2 {
					t.Fatalf("JWKS has %d keys after rotation, want 2", len(set.Keys))
				}
				for _, k := range set.Keys {
					if !k.IsPublic() {
						t.Fatal("JWKS publishes a private key")
					}
				}
				if err := tok.Claims(set, &c); err != nil {
					t.Fatalf("token of the old key no longer verifies: %v", err)
				}
			}, func(o *oauth.Options) { o.SigningAlgorithm = alg })
		})
	}
}

// TestMetadata covers rule 6's metadata and the discovery documents.
func TestMetadata(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, path := range []string{oauth.PathOAuthMetadata, oauth.PathOpenIDConfiguration} {
			resp, err := http.Get(e.url(path))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(readBody(t, resp)), &m); err != nil {
				t.Fatal(err)
			}
			if m["issuer"] != e.issuer || m["authorization_response_iss_parameter_supported"] != true {
				t.Errorf("%s: issuer %v, iss parameter %v", path, m["issuer"], m["authorization_response_iss_parameter_supported"])
			}
			if got := toStrings(m["code_challenge_methods_supported"]); !slices.Equal(got, []string{"S256"}) {
				t.Errorf("%s: code_challenge_methods_supported %v", path, got)
			}
			if got := toStrings(m["response_types_supported"]); !slices.Equal(got, []string{"code"}) {
				t.Errorf("%s: response_types_supported %v", path, got)
			}
			grants := toStrings(m["grant_types_supported"])
			if slices.Contains(grants, "password") || slices.Contains(grants, "implicit") || len(grants) != 4 {
				t.Errorf("%s: grant_types_supported %v", path, grants)
			}
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestTokenEntropy covers rule 11: codes and refresh tokens carry 256
// random bits.
func TestTokenEntropy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
		rt := e.redeem(e.public, code, verifier, loopbackRedirect).str("refresh_token")
		for name, v := range map[string]string{"code": code, "refresh token": rt} {
			b, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil || len(b) < 16 {
				t.Errorf("%s %q: %d bytes, want at least 128 bits", name, v, len(b))
			}
		}
	})
}

// TestConsentRevocationByUser covers rule 11: the user lists consents and
// revokes one, which revokes the client's tokens and brings the consent
// page back.
func TestConsentRevocationByUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		b := e.browser()
		verifier := "v-" + strings.Repeat("x", 50)
		loc := e.authorizeVia(b, authQuery(e.public, loopbackRedirect, challengeOf(verifier), "openid"))
		tok := e.redeem(e.public, loc.Query().Get("code"), verifier, loopbackRedirect)
		wantTokens(t, tok)

		resp, _ := b.Get(e.url(oauth.PathConsents))
		body := readBody(t, resp)
		wantPageHeaders(t, resp.Header)
		if !strings.Contains(body, "cruise CLI") {
			t.Fatalf("consents page lacks the client: %s", body)
		}
		form := url.Values{"csrf": {formFields(body).Get("csrf")}, "client_id": {e.public.ID}}
		resp, _ = b.PostForm(e.url(oauth.PathConsents), form)
		if readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke consent: %d", resp.StatusCode)
		}
		wantError(t, e.refresh(e.public, tok.str("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
		resp, _ = b.Get(e.url(oauth.PathAuthorize) + "?" + authQuery(e.public, loopbackRedirect, challenge, "openid").Encode())
		if body := readBody(t, resp); !strings.Contains(body, `value="approve"`) {
			t.Fatalf("consent not asked again after revocation: %d %s", resp.StatusCode, body)
		}
	})
}
