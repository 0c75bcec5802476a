package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/server"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// testServer is a cruise server with the built-in authorization server,
// on loopback, running as the cruise-server ServiceAccount of
// config/server (a real token from the TokenRequest API).
type testServer struct {
	t     testing.TB
	URL   string
	st    store.Store
	users map[string]string // name -> password
	// cacheDir is the server's Git cache.
	cacheDir string
}

const testPassword = "correct horse battery staple"

// newTestServer starts a server for users (name -> groups); mutate
// adjusts the authorization server's options.
func newTestServer(t testing.TB, users map[string][]string, mutate ...func(*oauth.Options)) *testServer {
	t.Helper()
	return newTestServerWith(t, users, func(*server.Options) {}, mutate...)
}

// newTestServerWith is newTestServer with server options adjusted by
// sopts.
func newTestServerWith(t testing.TB, users map[string][]string, sopts func(*server.Options), mutate ...func(*oauth.Options)) *testServer {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var h atomic.Value
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	ts := &testServer{t: t, URL: hs.URL, st: st, users: map[string]string{}, cacheDir: t.TempDir()}
	hash, err := password.Hash(testPassword, password.Params{MemoryKiB: 1024, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, groups := range users {
		if err := st.CreateUser(ctx, store.User{ID: name + "-id", Name: name, PasswordHash: hash, Groups: groups, Email: name + "@example.com", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		ts.users[name] = testPassword
	}
	if err := server.RegisterClients(ctx, st, hs.URL); err != nil {
		t.Fatal(err)
	}
	aopts := oauth.Options{Issuer: hs.URL + "/auth", Store: st, Scopes: server.APIScopes(),
		FirstPartyClients: []string{server.UIClientID, server.CLIClientID}}
	for _, m := range mutate {
		m(&aopts)
	}
	as, err := oauth.New(ctx, aopts)
	if err != nil {
		t.Fatal(err)
	}
	so := server.Options{Kube: serverIdentity(t), PublicURL: hs.URL, CacheDir: ts.cacheDir,
		CollectInterval: 200 * time.Millisecond, Auth: server.AuthOptions{Builtin: as}}
	sopts(&so)
	srv, err := server.New(ctx, so)
	if err != nil {
		t.Fatal(err)
	}
	h.Store(http.Handler(srv))
	return ts
}

// serverIdentity is a rest.Config with a token of the cruise-server
// ServiceAccount: the server's own rights are exactly config/server's.
func serverIdentity(t testing.TB) *rest.Config {
	t.Helper()
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cruise-server", Namespace: "cruise-system"}}
	if err := k8s.SubResource("token").Create(t.Context(), sa, tr); err != nil {
		t.Fatalf("token for cruise-server: %v", err)
	}
	cfg := rest.AnonymousClientConfig(env.Config)
	cfg.BearerToken = tr.Status.Token
	return cfg
}

func ptr[T any](v T) *T { return &v }

// browser is an HTTP client with cookies that does not follow redirects,
// so each step of a login can be checked.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// authorize walks the authorization server's login and consent pages
// from an authorization URL and returns the final redirect.
func (ts *testServer) authorize(b *http.Client, authURL, user string) *url.URL {
	ts.t.Helper()
	resp, err := b.Get(authURL)
	for range 4 {
		if err != nil {
			ts.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
			loc, lerr := resp.Location()
			if lerr != nil {
				ts.t.Fatal(lerr)
			}
			if strings.HasPrefix(loc.Path, "/auth/") {
				resp, err = b.Get(loc.String())
				continue
			}
			return loc
		}
		form := url.Values{}
		for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
			form.Set(m[1], unescapeHTML(m[2]))
		}
		switch {
		case bytes.Contains(body, []byte(`name="password"`)):
			form.Set("username", user)
			form.Set("password", ts.users[user])
			resp, err = b.PostForm(ts.URL+"/auth"+oauth.PathLogin, form)
		case bytes.Contains(body, []byte(`value="approve"`)):
			form.Set("decision", "approve")
			resp, err = b.PostForm(ts.URL+"/auth"+oauth.PathConsent, form)
		default:
			ts.t.Fatalf("unexpected page (%d): %s", resp.StatusCode, body)
		}
	}
	ts.t.Fatal("authorization did not finish")
	return nil
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#43;", "+").Replace(s)
}

// token logs user in as the CLI does (code + PKCE, loopback redirect) and
// returns the access token.
func (ts *testServer) token(user string) string {
	ts.t.Helper()
	return ts.tokenScopes(user, "openid", "profile", "groups", "cruise:read", "cruise:write")
}

// tokenScopes is token asking for scopes.
func (ts *testServer) tokenScopes(user string, scopes ...string) string {
	ts.t.Helper()
	cfg := &oauth2.Config{ClientID: server.CLIClientID, RedirectURL: "http://127.0.0.1:9/callback",
		Scopes:   scopes,
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/auth/authorize", TokenURL: ts.URL + "/auth/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	loc := ts.authorize(browser(), cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), user)
	if loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		ts.t.Fatalf("authorization ended at %s", loc)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		ts.t.Fatal(err)
	}
	return tok.AccessToken
}

// login logs user in to the web UI and returns the browser holding the
// session cookie.
func (ts *testServer) login(user string) *http.Client {
	ts.t.Helper()
	b := browser()
	loc := ts.authorize(b, ts.URL+"/login?next=/", user)
	if loc.Path != "/callback" {
		ts.t.Fatalf("login ended at %s, want /callback", loc)
	}
	resp, err := b.Get(ts.URL + loc.RequestURI())
	if err != nil {
		ts.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		ts.t.Fatalf("callback answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return b
}

// call sends an API request with a bearer token (empty: none) and decodes
// the JSON answer into out (when not nil); it returns the status.
func (ts *testServer) call(method, path, token string, body, out any) int {
	ts.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, ts.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			ts.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// bindRole lets user (or group, with "group:" prefix) use cruise-operator
// in namespace ns.
func bindRole(t testing.TB, ns, subject, role string) {
	t.Helper()
	s := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: subject}
	if g, ok := strings.CutPrefix(subject, "group:"); ok {
		s = rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g}
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{GenerateName: "cruise-", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{s}}
	if err := k8s.Create(t.Context(), rb); err != nil {
		t.Fatal(err)
	}
}

func decode(t testing.TB, resp *http.Response, out any) {
	t.Helper()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode %d %s: %v", resp.StatusCode, raw, err)
	}
}

func objKey(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// clustertestEventually polls cond until it holds, failing with its last
// message after a deadline.
func clustertestEventually(t testing.TB, cond func() (bool, string)) {
	t.Helper()
	clustertest.Eventually(t, 60*time.Second, func() (bool, error) {
		ok, m := cond()
		return ok, errors.New(m)
	})
}

// uniqueUser names a user for one test: RoleBindings outlive their test
// (namespaces of the api profile never finish deleting), so a name shared
// between tests would see other tests' applications.
func uniqueUser(base string) string { return base + "-" + strings.ToLower(rand.Text()[:6]) }
