package oauthclient_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/oauthclient"
)

// TestDiscover: the real server's metadata is found at the RFC 8414
// location of an issuer with a path; metadata that names another issuer,
// lacks S256 or has a plain-http endpoint elsewhere than on loopback is
// refused (served by a stub: what is checked is the client's reading).
func TestDiscover(t *testing.T) {
	is := newIssuer(t)
	md, err := oauthclient.Discover(t.Context(), is.url)
	if err != nil {
		t.Fatal(err)
	}
	if md.Issuer != is.url || md.TokenEndpoint != is.url+"/token" || md.DeviceAuthorizationEndpoint == "" || !md.IssParameter {
		t.Errorf("metadata %+v", md)
	}

	var doc map[string]any
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(stub.Close)
	good := func() map[string]any {
		return map[string]any{"issuer": stub.URL, "authorization_endpoint": stub.URL + "/authorize", "token_endpoint": stub.URL + "/token",
			"code_challenge_methods_supported": []string{"S256"}}
	}
	for _, c := range []struct {
		name   string
		change func(map[string]any)
		want   string
	}{
		{"another issuer", func(d map[string]any) { d["issuer"] = "https://evil.example" }, `names issuer "https://evil.example"`},
		{"no S256", func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }, "S256 is not supported"},
		{"plain http endpoint", func(d map[string]any) { d["token_endpoint"] = "http://auth.example/token" }, "plain http is allowed only to a loopback address"},
		{"no token endpoint", func(d map[string]any) { delete(d, "token_endpoint") }, "no authorization or token endpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc = good()
			if _, err := oauthclient.Discover(t.Context(), stub.URL); err != nil {
				t.Fatalf("unchanged metadata: %v", err)
			}
			c.change(doc)
			if _, err := oauthclient.Discover(t.Context(), stub.URL); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Discover: %v, want %q", err, c.want)
			}
		})
	}
}
