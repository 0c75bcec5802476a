package keys

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

func TestManagerRotation(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			m := NewManager(st, Options{Algorithm: alg, Now: func() time.Time { return now }})
			if err := m.Load(ctx); err != nil {
				t.Fatal(err)
			}
			s1, err := m.Signer(ctx, "at+jwt")
			if err != nil {
				t.Fatal(err)
			}
			tok1, err := jwt.Signed(s1).Claims(map[string]any{"a": 1}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Rotate(ctx, st, alg, now.Add(time.Second), time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := m.Load(ctx); err != nil {
				t.Fatal(err)
			}
			set, err := m.KeySet(ctx)
			if err != nil || len(set.Keys) != 2 {
				t.Fatalf("key set after rotation has %d keys (%v), want 2", len(set.Keys), err)
			}
			for _, k := range set.Keys {
				if !k.IsPublic() {
					t.Fatalf("key set publishes a private key %s", k.KeyID)
				}
			}
			s2, _ := m.Signer(ctx, "at+jwt")
			tok2, _ := jwt.Signed(s2).Claims(map[string]any{"a": 2}).Serialize()
			for i, tok := range []string{tok1, tok2} {
				parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
				if err != nil {
					t.Fatal(err)
				}
				var out map[string]any
				if err := parsed.Claims(set, &out); err != nil {
					t.Errorf("token %d does not verify against the key set: %v", i+1, err)
				}
				if typ := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
					t.Errorf("token %d typ = %v", i+1, typ)
				}
			}
			if p1, _ := jwt.ParseSigned(tok1, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}); p1.Headers[0].KeyID == set.Keys[0].KeyID {
				t.Errorf("the newest key is still the old one")
			}
		})
	}
}
