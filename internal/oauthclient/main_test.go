package oauthclient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/oauthclient"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// issuer is the real authorization server of package oauth, with an
// issuer path (/auth) so that discovery must find the RFC 8414 location,
// a public client like cruise's CLI and one user.
type issuer struct {
	url      string // the issuer identifier
	clientID string
	user     string
	password string
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := httptest.NewUnstartedServer(nil)
	is := &issuer{url: "http://" + ts.Listener.Addr().String() + "/auth", user: "alice", password: "correct horse battery"}
	srv, err := oauth.New(ctx, oauth.Options{Issuer: is.url, Store: st, Scopes: []string{"cruise:read"}})
	if err != nil {
		t.Fatal(err)
	}
	client, _, err := oauth.NewClient(oauth.ClientSpec{Name: "cruise CLI", Public: true, RedirectURIs: []string{"http://127.0.0.1/callback"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	is.clientID = client.ID
	u, err := oauth.NewUser(is.user, is.password, nil, password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", srv)
	mux.Handle(srv.MetadataPath(), srv.MetadataHandler())
	ts.Config.Handler = mux
	ts.Start()
	t.Cleanup(ts.Close)
	return is
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// approve is the user in a browser: it opens authURL, logs in, approves
// the consent page and returns where the server redirects to.
func (is *issuer) approve(t *testing.T, authURL string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := b.Get(authURL)
	for range 3 {
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusSeeOther {
			resp.Body.Close()
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			return loc
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		form := url.Values{}
		unescape := strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">")
		for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
			form.Set(m[1], unescape.Replace(m[2]))
		}
		switch {
		case strings.Contains(string(body), `name="password"`):
			form.Set("username", is.user)
			form.Set("password", is.password)
			resp, err = b.PostForm(is.url+oauth.PathLogin, form)
		case strings.Contains(string(body), `value="approve"`):
			form.Set("decision", "approve")
			resp, err = b.PostForm(is.url+oauth.PathConsent, form)
		default:
			t.Fatalf("%s answered %d: %s", resp.Request.URL, resp.StatusCode, body)
		}
	}
	t.Fatal("the authorization did not end in three steps")
	return nil
}

// deliver gets the callback URL, as the browser does on the redirect.
func deliver(t *testing.T, loc *url.URL) (int, string) {
	t.Helper()
	resp, err := http.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// login logs in with the browser flow and returns the tokens.
func (is *issuer) login(t *testing.T) *oauth2.Token {
	t.Helper()
	md, err := oauthclient.Discover(t.Context(), is.url)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oauthclient.BrowserLogin(t.Context(), oauth2.Config{ClientID: is.clientID, Scopes: []string{"cruise:read"}}, md,
		oauthclient.BrowserOptions{Timeout: time.Minute, Show: func(authURL string) {
			if status, body := deliver(t, is.approve(t, authURL)); status != http.StatusOK {
				t.Errorf("callback answered %d: %s", status, body)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// refresh spends refreshToken at the token endpoint, as a second client
// would.
func (is *issuer) refresh(t *testing.T, refreshToken string) (*oauth2.Token, error) {
	t.Helper()
	md, err := oauthclient.Discover(t.Context(), is.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: is.clientID, Endpoint: md.Endpoint()}
	return cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// store holds a fresh login of server, kept in a file of the test.
func (is *issuer) store(t *testing.T, server string) *oauthclient.Store {
	t.Helper()
	s := oauthclient.OpenStore(filepath.Join(t.TempDir(), "cruise", "credentials.json"))
	if err := s.Keep(t.Context(), server, oauthclient.NewLogin(is.url, is.clientID, is.login(t))); err != nil {
		t.Fatal(err)
	}
	return s
}

// expire makes the access token of server look expired.
func expire(t *testing.T, s *oauthclient.Store, server string) {
	t.Helper()
	err := s.Update(func(c *oauthclient.Credentials) (bool, error) {
		c.Servers[server].Expiry = time.Now().Add(-time.Minute)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// loginOf reads the login of server from s.
func loginOf(t *testing.T, s *oauthclient.Store, server string) *oauthclient.Login {
	t.Helper()
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	l := c.Servers[server]
	if l == nil {
		t.Fatalf("no login of %s in %s", server, s.Path())
	}
	return l
}
