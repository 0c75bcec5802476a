package server_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/server"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/resource"
	"github.com/cruisegitops/cruise/oauth/store"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// TestExternalIssuer: with an external provider (here another instance of
// cruise's authorization server, reached over HTTP: keys from its JWKS),
// the server accepts its tokens for the configured audience only, and
// impersonates the user named by the configured claim.
func TestExternalIssuer(t *testing.T) {
	ns := env.Namespace(t)
	createApp(t, ns, "web")
	bindRole(t, ns, "carol@example.com", "cruise-viewer")
	ctx := t.Context()

	// The provider issues tokens for the audience "cruise".
	idp := func(audience string) (*testServer, *oauth.Server) {
		st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "idp.db"))
		must(t, err)
		t.Cleanup(func() { st.Close() })
		var h atomic.Value
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(w, r) }))
		t.Cleanup(hs.Close)
		hash, err := password.Hash(testPassword, password.Params{MemoryKiB: 1024, Time: 1, Threads: 1})
		must(t, err)
		must(t, st.CreateUser(ctx, store.User{ID: "carol-id", Name: "carol", Email: "carol@example.com", PasswordHash: hash, CreatedAt: time.Now()}))
		must(t, server.RegisterClients(ctx, st, "http://127.0.0.1:1"))
		as, err := oauth.New(ctx, oauth.Options{Issuer: hs.URL + "/auth", Store: st, Audience: audience, Scopes: server.APIScopes()})
		must(t, err)
		m := http.NewServeMux()
		m.Handle("/auth/", as)
		h.Store(http.Handler(m))
		return &testServer{t: t, URL: hs.URL, st: st, users: map[string]string{"carol": testPassword}}, as
	}
	provider, as := idp("cruise")
	other, _ := idp("something-else")

	var h atomic.Value
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	iss := as.Issuer()
	srv, err := server.New(ctx, server.Options{Kube: serverIdentity(t), PublicURL: hs.URL, CacheDir: t.TempDir(),
		Auth: server.AuthOptions{Issuer: iss, Audience: "cruise", Keys: resource.RemoteKeys(iss+oauth.PathJWKS, http.DefaultClient),
			AuthorizeURL: iss + oauth.PathAuthorize, TokenURL: iss + oauth.PathToken, UsernameClaim: "email"}})
	must(t, err)
	h.Store(http.Handler(srv))
	cruise := &testServer{t: t, URL: hs.URL}

	var who apiv1.Whoami
	if code := cruise.call("GET", "/api/v1/whoami", provider.token("carol"), nil, &who); code != 200 || who.User != "carol@example.com" {
		t.Fatalf("whoami with the provider's token = %d %+v, want carol@example.com", code, who)
	}
	if code := cruise.call("GET", "/api/v1/namespaces/"+ns+"/applications/web", provider.token("carol"), nil, nil); code != 200 {
		t.Errorf("get as carol = %d, want 200", code)
	}
	var e apiv1.ErrorResponse
	if code := cruise.call("GET", "/api/v1/whoami", other.token("carol"), nil, &e); code != 401 || e.Error.Code != apiv1.CodeUnauthenticated {
		t.Errorf("token of another issuer = %d %+v, want 401", code, e.Error)
	}

	// The same provider's token, for a server that wants another audience.
	strict, err := server.New(ctx, server.Options{Kube: serverIdentity(t), PublicURL: hs.URL, CacheDir: t.TempDir(),
		Auth: server.AuthOptions{Issuer: iss, Audience: "cruise-prod", Keys: resource.RemoteKeys(iss+oauth.PathJWKS, http.DefaultClient),
			AuthorizeURL: iss + oauth.PathAuthorize, TokenURL: iss + oauth.PathToken, UsernameClaim: "email"}})
	must(t, err)
	h.Store(http.Handler(strict))
	e = apiv1.ErrorResponse{}
	if code := cruise.call("GET", "/api/v1/whoami", provider.token("carol"), nil, &e); code != 401 || e.Error.Code != apiv1.CodeUnauthenticated {
		t.Errorf("token for audience cruise at a server of cruise-prod = %d %+v, want 401", code, e.Error)
	}
}
