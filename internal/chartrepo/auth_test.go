package chartrepo_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

func TestAuthFromSecret(t *testing.T) {
	tlsRepo := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{TLS: true, MutualTLS: true})
	crt, key := tlsRepo.ClientCertificate()
	ca := tlsRepo.CA()
	good := []struct {
		name string
		data map[string][]byte
		want string
	}{
		{"basic", map[string][]byte{"username": []byte("u"), "password": []byte("s3cret")}, "Auth{basic}"},
		{"bearer", map[string][]byte{"bearerToken": []byte("t0k")}, "Auth{bearer}"},
		{"tls", map[string][]byte{"tls.crt": crt, "tls.key": key, "ca.crt": ca}, "Auth{client-certificate,custom-ca}"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			a, err := chartrepo.AuthFromSecret(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{a.String(), fmt.Sprintf("%v", a), fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a)} {
				if s != tc.want {
					t.Errorf("printed as %q, want %q", s, tc.want)
				}
			}
		})
	}
	bad := []struct {
		name string
		data map[string][]byte
		want string
	}{
		{"empty", map[string][]byte{}, "none of the keys"},
		{"username only", map[string][]byte{"username": []byte("u")}, `"password" is missing`},
		{"password only", map[string][]byte{"password": []byte("s3cret")}, `"username" is missing`},
		{"colon in username", map[string][]byte{"username": []byte("a:s3cret"), "password": []byte("s3cret")}, `"username" holds a colon`},
		{"basic and bearer", map[string][]byte{"username": []byte("u"), "password": []byte("s3cret"), "bearerToken": []byte("s3cret")}, "both set"},
		{"empty token", map[string][]byte{"bearerToken": {}}, `"bearerToken" is empty`},
		{"cert without key", map[string][]byte{"tls.crt": crt}, `"tls.key" is missing`},
		{"key without cert", map[string][]byte{"tls.key": key}, `"tls.crt" is missing`},
		{"key not matching", map[string][]byte{"tls.crt": crt, "tls.key": []byte("s3cret")}, `"tls.crt" and "tls.key" do not hold`},
		{"ca not PEM", map[string][]byte{"ca.crt": []byte("s3cret")}, `"ca.crt" holds no PEM certificate`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := chartrepo.AuthFromSecret(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a value", err)
			}
		})
	}
}
