package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/resource"
)

// signWithServerKey signs claims with the server's current private key,
// to forge tokens that differ from real ones in exactly one way.
func signWithServerKey(t testing.TB, e *env, typ string, claims map[string]any) string {
	t.Helper()
	ks, err := e.store.ListSigningKeys(context.Background(), time.Now())
	if err != nil || len(ks) == 0 {
		t.Fatalf("signing keys: %v", err)
	}
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(ks[0].PrivateJWK, &jwk); err != nil {
		t.Fatal(err)
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(ks[0].Algorithm), Key: jwk}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestResourceMiddleware covers rule 10 over real HTTP: an API protected by
// resource.Verifier with the JWKS fetched from the server.
func TestResourceMiddleware(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		v, err := resource.New(resource.Options{Issuer: e.issuer, Audience: e.issuer, Keys: resource.RemoteKeys(e.url(oauth.PathJWKS), nil)})
		if err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(v.Require("cruise:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := resource.ClaimsFromContext(r.Context())
			w.Write([]byte("hello " + c.Subject))
		})))
		defer api.Close()

		good := e.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"cruise:read"}}, basicAuth(e.confidential.ID, e.secret)).str("access_token")
		narrow := e.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"cruise:write"}}, basicAuth(e.confidential.ID, e.secret)).str("access_token")
		now := time.Now()
		claims := func(mod func(map[string]any)) map[string]any {
			c := map[string]any{"iss": e.issuer, "sub": "s", "aud": e.issuer, "client_id": "c", "jti": "j", "scope": "cruise:read",
				"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
			if mod != nil {
				mod(c)
			}
			return c
		}
		parts := strings.Split(good, ".")
		tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

		for _, tc := range []struct {
			name   string
			header string
			query  string
			status int
			code   string
		}{
			{"valid Bearer", "Bearer " + good, "", 200, ""},
			{"scheme in lower case", "bearer " + good, "", 200, ""},
			{"scheme in upper case", "BEARER " + good, "", 200, ""},
			{"forged token, right key", "Bearer " + signWithServerKey(t, e, "at+jwt", claims(nil)), "", 200, ""},
			{"no token", "", "", 401, ""},
			{"token in the query string only", "", "access_token=" + good, 401, ""},
			{"unknown scheme", "Token " + good, "", 401, ""},
			{"typ JWT (an ID token)", "Bearer " + signWithServerKey(t, e, "JWT", claims(nil)), "", 401, "invalid_token"},
			{"no typ", "Bearer " + signWithServerKey(t, e, "", claims(nil)), "", 401, "invalid_token"},
			{"wrong issuer", "Bearer " + signWithServerKey(t, e, "at+jwt", claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), "", 401, "invalid_token"},
			{"wrong audience", "Bearer " + signWithServerKey(t, e, "at+jwt", claims(func(c map[string]any) { c["aud"] = "https://other-api.example" })), "", 401, "invalid_token"},
			{"expired", "Bearer " + signWithServerKey(t, e, "at+jwt", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })), "", 401, "invalid_token"},
			{"bad signature", "Bearer " + tampered, "", 401, "invalid_token"},
			{"garbage", "Bearer not.a.jwt", "", 401, "invalid_token"},
			{"DPoP scheme for a Bearer token", "DPoP " + good, "", 401, "invalid_token"},
			{"too little scope", "Bearer " + narrow, "", 403, "insufficient_scope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u := api.URL + "/things"
				if tc.query != "" {
					u += "?" + tc.query
				}
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body := readBody(t, resp)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
				}
				challenge := resp.Header.Get("WWW-Authenticate")
				switch {
				case tc.status == 200:
					if !strings.HasPrefix(body, "hello ") {
						t.Errorf("body %q", body)
					}
				case tc.code == "":
					if !strings.HasPrefix(challenge, "Bearer realm=") || strings.Contains(challenge, "error=") {
						t.Errorf("WWW-Authenticate %q, want a bare Bearer challenge", challenge)
					}
				default:
					if !strings.Contains(challenge, `error="`+tc.code+`"`) {
						t.Errorf("WWW-Authenticate %q, want error=%q", challenge, tc.code)
					}
				}
			})
		}
	})
}

// TestUserinfoRequiresHeaderToken: the userinfo endpoint reads the token
// from the Authorization header only and needs the openid scope.
func TestUserinfoRequiresHeaderToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid", "email", "groups")
		at := e.redeem(e.public, code, verifier, loopbackRedirect).str("access_token")
		get := func(u, auth string) (int, string) {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, readBody(t, resp)
		}
		if st, _ := get(e.url(oauth.PathUserinfo)+"?access_token="+at, ""); st != http.StatusUnauthorized {
			t.Fatalf("query token: %d, want 401", st)
		}
		st, body := get(e.url(oauth.PathUserinfo), "Bearer "+at)
		if st != http.StatusOK || !strings.Contains(body, e.user.ID) || !strings.Contains(body, `"groups":["dev","ops"]`) {
			t.Fatalf("userinfo: %d %s", st, body)
		}
		cc := e.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, basicAuth(e.confidential.ID, e.secret)).str("access_token")
		if st, _ := get(e.url(oauth.PathUserinfo), "Bearer "+cc); st != http.StatusForbidden {
			t.Fatalf("token without openid: %d, want 403", st)
		}
	})
}
