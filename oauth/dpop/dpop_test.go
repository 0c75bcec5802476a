package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func sign(t testing.TB, typ string, embed bool, claims map[string]any) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{EmbedJWK: embed}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerify(t *testing.T) {
	now := time.Now()
	opts := Options{Method: "POST", URL: "https://as.example/token", Now: now}
	good := map[string]any{"jti": "1", "htm": "POST", "htu": "https://as.example/token", "iat": now.Unix()}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		proof string
		ok    bool
	}{
		{"valid", sign(t, Type, true, good), true},
		{"htu case-insensitive host, query ignored", sign(t, Type, true, with("htu", "https://AS.example/token?x=1")), true},
		{"wrong typ", sign(t, "JWT", true, good), false},
		{"no embedded key", sign(t, Type, false, good), false},
		{"wrong method", sign(t, Type, true, with("htm", "GET")), false},
		{"wrong url", sign(t, Type, true, with("htu", "https://as.example/other")), false},
		{"old", sign(t, Type, true, with("iat", now.Add(-time.Hour).Unix())), false},
		{"future", sign(t, Type, true, with("iat", now.Add(time.Hour).Unix())), false},
		{"no jti", sign(t, Type, true, with("jti", nil)), false},
		{"not a JWS", "abc", false},
	} {
		_, err := Verify(tc.proof, opts)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add(strings.Repeat(".", 2))
	f.Fuzz(func(t *testing.T, proof string) {
		// Without a private key nothing random can verify; it must not panic.
		if p, err := Verify(proof, Options{Method: "POST", URL: "https://as.example/token", Now: time.Now()}); err == nil {
			t.Fatalf("random proof %q verified as %+v", proof, p)
		}
	})
}
