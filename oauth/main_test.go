package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/internal/testpg"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// pg is this package's private PostgreSQL server.
var pg *testpg.Instance

func TestMain(m *testing.M) {
	var err error
	if pg, err = testpg.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "start PostgreSQL:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop PostgreSQL:", err)
	}
	os.Exit(code)
}

// backends are the databases every server test runs on.
var backends = []string{"sqlite", "postgres"}

func openStore(t testing.TB, backend string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "auth.db")
	if backend == "postgres" {
		var err error
		if dsn, err = pg.CreateDatabase(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s store: %v", backend, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable test clock.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is a running authorization server with registered clients and a user.
type env struct {
	t       testing.TB
	backend string
	srv     *oauth.Server
	ts      *httptest.Server
	store   *sqlstore.Store
	clock   *clock
	issuer  string

	public       store.Client // code + refresh + device; loopback redirect
	confidential store.Client // code + refresh + client credentials
	secret       string
	user         store.User
	password     string
}

const (
	loopbackRedirect = "http://127.0.0.1/callback"
	webRedirect      = "https://app.example/cb"
)

// newEnv starts a server on backend; mutate adjusts its options.
func newEnv(t testing.TB, backend string, mutate ...func(*oauth.Options)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, backend: backend, store: openStore(t, backend), clock: &clock{}, password: "correct horse battery"}
	e.ts = httptest.NewUnstartedServer(nil)
	e.issuer = "http://" + e.ts.Listener.Addr().String()
	opts := oauth.Options{
		Issuer: e.issuer, Store: e.store, Now: e.clock.Now,
		Scopes:         []string{"cruise:read", "cruise:write"},
		DeviceInterval: time.Second,
	}
	for _, m := range mutate {
		m(&opts)
	}
	srv, err := oauth.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts.Config.Handler = srv
	e.ts.Start()
	t.Cleanup(e.ts.Close)

	e.public = e.register(oauth.ClientSpec{Name: "cruise CLI", Public: true, RedirectURIs: []string{loopbackRedirect, "http://[::1]/callback"}})
	var sec string
	e.confidential, sec = e.registerWithSecret(oauth.ClientSpec{Name: "cruise UI", RedirectURIs: []string{webRedirect}})
	e.secret = sec
	u, err := oauth.NewUser("alice", e.password, []string{"dev", "ops"}, password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	e.user = u
	return e
}

func (e *env) register(spec oauth.ClientSpec) store.Client {
	c, _ := e.registerWithSecret(spec)
	return c
}

func (e *env) registerWithSecret(spec oauth.ClientSpec) (store.Client, string) {
	e.t.Helper()
	c, secret, err := oauth.NewClient(spec, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateClient(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c, secret
}

func (e *env) url(path string) string { return e.issuer + path }

// forEachBackend runs fn against a fresh server on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, e *env), mutate ...func(*oauth.Options)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { fn(t, newEnv(t, b, mutate...)) })
	}
}

// browser is a user agent with cookies that does not follow redirects, so
// tests see every Location.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// formFields returns the hidden inputs of an HTML page.
func formFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// authorizeVia drives the browser through the authorization endpoint,
// logging in and approving consent as needed, and returns the final
// redirect to the client.
func (e *env) authorizeVia(b *http.Client, query url.Values) *url.URL {
	e.t.Helper()
	resp, err := b.Get(e.url(oauth.PathAuthorize) + "?" + query.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	for range 3 {
		if resp.StatusCode == http.StatusSeeOther {
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				e.t.Fatal(err)
			}
			resp.Body.Close()
			return loc
		}
		body := readBody(e.t, resp)
		if resp.StatusCode != http.StatusOK {
			e.t.Fatalf("authorization step answered %d: %s", resp.StatusCode, body)
		}
		form := formFields(body)
		switch {
		case strings.Contains(body, `name="password"`):
			form.Set("username", e.user.Name)
			form.Set("password", e.password)
			resp, err = b.PostForm(e.url(oauth.PathLogin), form)
		case strings.Contains(body, `value="approve"`):
			form.Set("decision", "approve")
			resp, err = b.PostForm(e.url(oauth.PathConsent), form)
		default:
			e.t.Fatalf("unexpected page: %s", body)
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
	e.t.Fatal("authorization did not finish in three steps")
	return nil
}

// authQuery is a valid authorization request of client c.
func authQuery(c store.Client, redirect, challenge string, scopes ...string) url.Values {
	return url.Values{
		"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"scope": {strings.Join(scopes, " ")}, "state": {"st-" + c.ID[:4]},
	}
}

// codeFor runs the authorization for the public client and returns a code
// with its verifier.
func (e *env) codeFor(c store.Client, redirect string, scopes ...string) (code, verifier string) {
	e.t.Helper()
	verifier = oauth2.GenerateVerifier()
	loc := e.authorizeVia(e.browser(), authQuery(c, redirect, oauth2.S256ChallengeFromVerifier(verifier), scopes...))
	code = loc.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", loc)
	}
	return code, verifier
}

// tokenResponse is a decoded token endpoint answer.
type tokenResponse struct {
	Status  int
	Header  http.Header
	Body    map[string]any
	RawBody string
}

func (r tokenResponse) str(k string) string { s, _ := r.Body[k].(string); return s }

// post sends a form to path with optional extra headers.
func (e *env) post(path string, form url.Values, header http.Header) tokenResponse {
	e.t.Helper()
	return e.postFrom(http.DefaultClient, path, form, header)
}

// postFrom is post through hc, for example a client of fromAddress.
func (e *env) postFrom(hc *http.Client, path string, form url.Values, header http.Header) tokenResponse {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	raw := readBody(e.t, resp)
	out := tokenResponse{Status: resp.StatusCode, Header: resp.Header, RawBody: raw}
	json.Unmarshal([]byte(raw), &out.Body)
	return out
}

// redeem exchanges a code as the public client.
func (e *env) redeem(c store.Client, code, verifier, redirect string) tokenResponse {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {c.ID}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return e.post(oauth.PathToken, form, nil)
}

func (e *env) refresh(c store.Client, token string, extra url.Values) tokenResponse {
	e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {c.ID}, "refresh_token": {token}}
	for k, v := range extra {
		form[k] = v
	}
	return e.post(oauth.PathToken, form, nil)
}

// introspect asks whether token is active, as the confidential client.
func (e *env) introspect(token string) bool {
	e.t.Helper()
	r := e.post(oauth.PathIntrospect, url.Values{"token": {token}}, basicAuth(e.confidential.ID, e.secret))
	if r.Status != http.StatusOK {
		e.t.Fatalf("introspect: %d %s", r.Status, r.RawBody)
	}
	active, _ := r.Body["active"].(bool)
	return active
}

func basicAuth(id, secret string) http.Header {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return http.Header{"Authorization": req.Header["Authorization"]}
}

// wantError checks a JSON error response.
func wantError(t testing.TB, r tokenResponse, status int, code string) {
	t.Helper()
	if r.Status != status || r.str("error") != code {
		t.Fatalf("got %d %s, want %d error %q", r.Status, r.RawBody, status, code)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("error response Cache-Control = %q, want no-store", cc)
	}
}

func wantTokens(t testing.TB, r tokenResponse) {
	t.Helper()
	if r.Status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("token request failed: %d %s", r.Status, r.RawBody)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token response Cache-Control = %q, want no-store", cc)
	}
}
