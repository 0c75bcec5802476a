package accesstoken

import (
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func FuzzVerify(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsifQ.e30.AAAA")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Verify(tok, VerifyOptions{Issuer: "https://as.example", Audience: "api", Keys: &jose.JSONWebKeySet{}, Now: time.Now()})
		if err == nil {
			t.Fatalf("token %q verified against an empty key set: %+v", tok, c)
		}
	})
}
