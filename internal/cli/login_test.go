package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/cli"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/resource"
	"github.com/cruisegitops/cruise/oauth/store"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// authEnv is a cruise server as far as login is concerned: the real
// authorization server of package oauth under /auth, its RFC 8414
// metadata at the host's well-known path, and /api/v1/authconfig,
// /api/v1/whoami and an empty /api/v1/applications that check the bearer
// token with the real resource verifier.
type authEnv struct {
	url      string // the cruise server
	issuer   string
	srv      *oauth.Server
	client   store.Client
	user     store.User
	password string
	// apiCalls counts the requests to /api/v1/applications.
	apiCalls atomic.Int32
	// credentials is the file cruise login writes, under the test's
	// XDG_CONFIG_HOME.
	credentials string
}

// newAuthEnv starts the server and points the user config directory at a
// directory of the test, so that the real user's logins are never read.
// It sets environment variables: tests that use it cannot be parallel.
func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	ctx := context.Background()
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")

	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := httptest.NewUnstartedServer(nil)
	e := &authEnv{url: "http://" + ts.Listener.Addr().String(), password: "correct horse battery",
		credentials: filepath.Join(cfgHome, "cruise", "credentials.json")}
	e.issuer = e.url + "/auth"
	e.srv, err = oauth.New(ctx, oauth.Options{Issuer: e.issuer, Store: st, Scopes: []string{"cruise:read", "cruise:write"},
		DeviceInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.client, _, err = oauth.NewClient(oauth.ClientSpec{Name: "cruise CLI", Public: true,
		RedirectURIs: []string{"http://127.0.0.1/callback"},
		GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantDeviceCode}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, e.client); err != nil {
		t.Fatal(err)
	}
	e.user, err = oauth.NewUser("alice", e.password, []string{"dev"}, password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	verifier, err := resource.New(resource.Options{Issuer: e.issuer, Audience: e.issuer, Keys: e.srv})
	if err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/", e.srv)
	mux.Handle(e.srv.MetadataPath(), e.srv.MetadataHandler())
	mux.HandleFunc("GET /api/v1/authconfig", func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, http.StatusOK, apiv1.AuthConfig{Issuer: e.issuer, ClientID: e.client.ID, Scopes: []string{"openid", "cruise:read", "cruise:write"}})
	})
	authenticated := func(fn func(w http.ResponseWriter, r *http.Request, sub string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Has("access_token") {
				writeTestJSON(w, http.StatusBadRequest, apiv1.ErrorResponse{Error: apiv1.Error{Code: apiv1.CodeTokenInQuery, Message: "token in URL"}})
				return
			}
			claims, rerr := verifier.Authenticate(r)
			if rerr != nil {
				writeTestJSON(w, http.StatusUnauthorized, apiv1.ErrorResponse{Error: apiv1.Error{Code: apiv1.CodeUnauthenticated, Message: rerr.Error()}})
				return
			}
			fn(w, r, claims.Subject)
		}
	}
	mux.HandleFunc("GET /api/v1/whoami", authenticated(func(w http.ResponseWriter, _ *http.Request, sub string) {
		writeTestJSON(w, http.StatusOK, apiv1.Whoami{User: sub})
	}))
	mux.HandleFunc("GET /api/v1/applications", authenticated(func(w http.ResponseWriter, _ *http.Request, _ string) {
		e.apiCalls.Add(1)
		writeTestJSON(w, http.StatusOK, apiv1.ApplicationList{Items: []apiv1.Application{}})
	}))
	ts.Config.Handler = mux
	ts.Start()
	t.Cleanup(ts.Close)
	return e
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// syncBuffer is a bytes.Buffer that a running command writes while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// background is a cruise command running in a goroutine.
type background struct {
	args           []string
	stdout, stderr *syncBuffer
	done           chan int
}

func startCruise(t *testing.T, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	b := &background{args: args, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1)}
	go func() {
		defer cancel()
		b.done <- cli.Run(ctx, args, b.stdout, b.stderr)
	}()
	return b
}

// wait returns the command's outcome, failing the test after a minute.
func (b *background) wait(t *testing.T) result {
	t.Helper()
	select {
	case code := <-b.done:
		r := result{code, b.stdout.String(), b.stderr.String()}
		t.Logf("cruise %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(b.args, " "), code, r.stdout, r.stderr)
		return r
	case <-time.After(time.Minute):
		t.Fatalf("cruise %s did not finish\nstderr: %s", strings.Join(b.args, " "), b.stderr.String())
		return result{}
	}
}

// awaitStderr polls the command's stderr until re matches, and returns the
// submatches.
func (b *background) awaitStderr(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(b.stderr.String()); m != nil {
			return m
		}
		select {
		case code := <-b.done:
			t.Fatalf("cruise %s exited with %d before printing %s\nstderr: %s", strings.Join(b.args, " "), code, re, b.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cruise %s did not print %s\nstderr: %s", strings.Join(b.args, " "), re, b.stderr.String())
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}

var loginURLLine = regexp.MustCompile(`Open this URL to log in: (\S+)\n`)

// browser is a user agent with cookies that does not follow redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

func hiddenFields(body string) url.Values {
	v := url.Values{}
	unescape := strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">")
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], unescape.Replace(m[2]))
	}
	return v
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logInAndApprove is the user in the browser: from the page at start it
// logs in with the login form (hidden interaction and CSRF fields) and
// approves the consent page. It returns the last response: for the code
// flow the redirect to the CLI's callback, for the device flow the final
// page.
func (e *authEnv) logInAndApprove(t *testing.T, b *http.Client, start string) *http.Response {
	t.Helper()
	return logInAndApprove(t, b, start, e.issuer, e.user.Name, e.password)
}

func logInAndApprove(t *testing.T, b *http.Client, start, issuer, user, pw string) *http.Response {
	t.Helper()
	resp, err := b.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
			return resp
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s answered %d: %s", resp.Request.URL, resp.StatusCode, body)
		}
		form := hiddenFields(body)
		switch {
		case strings.Contains(body, `name="password"`):
			form.Set("username", user)
			form.Set("password", pw)
			resp, err = b.PostForm(issuer+oauth.PathLogin, form)
		case strings.Contains(body, `value="approve"`):
			form.Set("decision", "approve")
			resp, err = b.PostForm(issuer+oauth.PathConsent, form)
		default:
			return &http.Response{StatusCode: resp.StatusCode, Body: io.NopCloser(strings.NewReader(body)), Request: resp.Request}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return resp
}

// authorize follows the login URL the CLI printed through login and
// consent, and returns the redirect to the CLI's loopback callback.
func (e *authEnv) authorize(t *testing.T, loginURL string) *url.URL {
	t.Helper()
	return authorizeCLI(t, e.logInAndApprove(t, browser(), loginURL))
}

// authorizeCLI checks that the browser was sent to the CLI's callback.
func authorizeCLI(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("authorization ended with %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Scheme != "http" || loc.Hostname() != "127.0.0.1" || loc.Path != "/callback" {
		t.Fatalf("redirected to %s, want the CLI's loopback callback", loc)
	}
	return loc
}

// callback delivers the redirect to the CLI, as the browser would.
func callback(t *testing.T, loc *url.URL) (int, string) {
	t.Helper()
	resp, err := http.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(t, resp)
}

// credentialsFile is the file as the tests read it.
type credentialsFile struct {
	Current string `json:"current"`
	Servers map[string]struct {
		Issuer       string    `json:"issuer"`
		ClientID     string    `json:"clientID"`
		AccessToken  string    `json:"accessToken"`
		RefreshToken string    `json:"refreshToken"`
		Expiry       time.Time `json:"expiry"`
	} `json:"servers"`
}

func readCredentials(t *testing.T, path string) credentialsFile {
	t.Helper()
	var c credentialsFile
	if err := json.Unmarshal([]byte(readFile(t, path)), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// assertNoSecrets fails when a token of the file appears in the output.
func assertNoSecrets(t *testing.T, path string, outputs ...string) {
	t.Helper()
	c := readCredentials(t, path)
	for _, s := range c.Servers {
		for _, tok := range []string{s.AccessToken, s.RefreshToken} {
			for _, out := range outputs {
				if tok != "" && strings.Contains(out, tok) {
					t.Errorf("a token appears in the output:\n%s", out)
				}
			}
		}
	}
}

// login runs the browser flow to the end and returns the outcome.
func (e *authEnv) login(t *testing.T) result {
	t.Helper()
	b := startCruise(t, "login", e.url, "--no-browser")
	loginURL := b.awaitStderr(t, loginURLLine)[1]
	if status, body := callback(t, e.authorize(t, loginURL)); status != http.StatusOK || !strings.Contains(body, "logged in") {
		t.Fatalf("callback answered %d: %s", status, body)
	}
	return b.wait(t)
}

// refresh exchanges a refresh token at the token endpoint as the CLI
// would; the server rotates it.
func (e *authEnv) refresh(refreshToken string) (*oauth2.Token, error) {
	cfg := oauth2.Config{ClientID: e.client.ID, Endpoint: oauth2.Endpoint{TokenURL: e.issuer + oauth.PathToken, AuthStyle: oauth2.AuthStyleInParams}}
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// TestLoginBrowserFlow: cruise login with the authorization code flow
// against the real authorization server keeps the tokens in a 0600 file
// (the file itself: package oauthclient's TestStoreFile), makes the
// server current, greets the user by the API's whoami, and prints no
// token.
func TestLoginBrowserFlow(t *testing.T) {
	e := newAuthEnv(t)
	r := e.login(t)
	if r.code != 0 || r.stdout != "Logged in to "+e.url+" as "+e.user.ID+"\n" {
		t.Fatalf("login: exit %d, stdout %q", r.code, r.stdout)
	}
	fi, err := os.Stat(e.credentials)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	c := readCredentials(t, e.credentials)
	s, ok := c.Servers[e.url]
	if c.Current != e.url || !ok || s.Issuer != e.issuer || s.ClientID != e.client.ID || s.AccessToken == "" ||
		s.RefreshToken == "" || time.Until(s.Expiry) < time.Minute {
		t.Errorf("credentials = %+v, want the server current with issuer, client, tokens and expiry", c)
	}
	assertNoSecrets(t, e.credentials, r.stdout, r.stderr)

	// Logging in again replaces the login and ends the old one.
	if r := e.login(t); r.code != 0 {
		t.Fatalf("second login: exit %d", r.code)
	}
	if next := readCredentials(t, e.credentials).Servers[e.url]; next.RefreshToken == s.RefreshToken {
		t.Error("the second login kept the first one's refresh token")
	}
	if _, err := e.refresh(s.RefreshToken); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("refresh with the replaced login's token: %v, want it revoked", err)
	}
}

// TestLoginDeviceFlow: with --device the CLI prints the verification URI
// and the user code; the user approves on the device page and the CLI,
// polling, gets the tokens.
func TestLoginDeviceFlow(t *testing.T) {
	e := newAuthEnv(t)
	b := startCruise(t, "login", e.url, "--device")
	m := b.awaitStderr(t, regexp.MustCompile(`To log in, open (\S+) and enter the code (\S+)\n`))
	if m[1] != e.issuer+oauth.PathDevice {
		t.Errorf("verification URI %q, want %q", m[1], e.issuer+oauth.PathDevice)
	}
	resp := e.logInAndApprove(t, browser(), m[1]+"?user_code="+url.QueryEscape(m[2]))
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("device approval answered %d: %s", resp.StatusCode, body)
	}
	r := b.wait(t)
	if r.code != 0 || r.stdout != "Logged in to "+e.url+" as "+e.user.ID+"\n" {
		t.Fatalf("device login: exit %d, stdout %q", r.code, r.stdout)
	}
	if c := readCredentials(t, e.credentials); c.Servers[e.url].RefreshToken == "" {
		t.Errorf("device login kept no refresh token: %+v", c)
	}
	assertNoSecrets(t, e.credentials, r.stdout, r.stderr)
}

// TestLoginTimeout: nobody logs in; the command gives up after --timeout.
func TestLoginTimeout(t *testing.T) {
	e := newAuthEnv(t)
	r := startCruise(t, "login", e.url, "--no-browser", "--timeout", "200ms").wait(t)
	if r.code != 1 || !strings.Contains(r.stderr, "not logged in within 200ms") {
		t.Fatalf("exit %d, stderr %q; want 1 and the timeout", r.code, r.stderr)
	}
	if _, err := os.Stat(e.credentials); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a login that timed out wrote the credentials file (%v)", err)
	}
}

// TestLoginBadUsage: usage errors exit 2 before anything is contacted.
func TestLoginBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"login"}, "the SERVER URL is missing"},
		{[]string{"login", "http://cruise.example.com"}, "plain http is allowed only to a loopback address"},
		{[]string{"login", "ftp://cruise.example.com"}, "scheme must be https"},
		{[]string{"login", "https://user:pw@cruise.example.com"}, "user info"},
		{[]string{"login", "https://cruise.example.com", "--timeout", "0s"}, "invalid --timeout"},
		{[]string{"logout", "a", "b"}, "at most one SERVER"},
	} {
		r := mustCruise(t, 2, c.args...)
		if !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "pw@") {
			t.Errorf("cruise %s: stderr %q, want %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
	}
}
