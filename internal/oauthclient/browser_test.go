package oauthclient_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/oauthclient"
)

// TestBrowserLogin: the code flow against the real authorization server
// gives an access and a refresh token. A callback with another state is
// refused and does not end the login (it may come from a stale tab); the
// right one then completes it, so the refused request spent no code.
func TestBrowserLogin(t *testing.T) {
	is := newIssuer(t)
	md, err := oauthclient.Discover(t.Context(), is.url)
	if err != nil {
		t.Fatal(err)
	}
	var redirect *url.URL
	tok, err := oauthclient.BrowserLogin(t.Context(), oauth2.Config{ClientID: is.clientID, Scopes: []string{"cruise:read"}}, md,
		oauthclient.BrowserOptions{Timeout: time.Minute, Show: func(authURL string) {
			redirect = is.approve(t, authURL)
			if redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" {
				t.Fatalf("redirected to %s, want the loopback callback", redirect)
			}
			forged := *redirect
			q := forged.Query()
			q.Set("state", "forged")
			forged.RawQuery = q.Encode()
			if status, body := deliver(t, &forged); status != http.StatusBadRequest || !strings.Contains(body, "wrong state") {
				t.Errorf("callback with a wrong state answered %d: %s", status, body)
			}
			if status, body := deliver(t, redirect); status != http.StatusOK || !strings.Contains(body, "logged in") {
				t.Errorf("callback answered %d: %s", status, body)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !tok.Valid() {
		t.Fatalf("token %+v, want valid access and refresh tokens", tok)
	}
	// The callback listens for this login only.
	if resp, err := http.Get(redirect.String()); err == nil {
		resp.Body.Close()
		t.Errorf("the callback still answers after the login: %s", resp.Status)
	}
}

// TestBrowserLoginRefusals: an answer naming another issuer (RFC 9207
// mix-up), or an error from the server, ends the login with an error;
// nobody logging in ends it with a *TimeoutError.
func TestBrowserLoginRefusals(t *testing.T) {
	is := newIssuer(t)
	md, err := oauthclient.Discover(t.Context(), is.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: is.clientID}
	for _, c := range []struct {
		name  string
		query func(state string) url.Values
		want  string
	}{
		{"another issuer", func(state string) url.Values {
			return url.Values{"state": {state}, "code": {"c"}, "iss": {"https://evil.example"}}
		}, `came from issuer "https://evil.example"`},
		{"no issuer", func(state string) url.Values { return url.Values{"state": {state}, "code": {"c"}} }, "came from issuer"},
		{"server error", func(state string) url.Values {
			return url.Values{"state": {state}, "iss": {is.url}, "error": {"access_denied"}, "error_description": {"the user said no"}}
		}, "refused the login: access_denied: the user said no"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := oauthclient.BrowserLogin(t.Context(), cfg, md, oauthclient.BrowserOptions{Timeout: time.Minute, Show: func(authURL string) {
				u, _ := url.Parse(authURL)
				q := u.Query()
				cb, err := url.Parse(q.Get("redirect_uri"))
				if err != nil {
					t.Fatal(err)
				}
				cb.RawQuery = c.query(q.Get("state")).Encode()
				deliver(t, cb)
			}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("login: %v, want %q", err, c.want)
			}
		})
	}

	_, err = oauthclient.BrowserLogin(t.Context(), cfg, md, oauthclient.BrowserOptions{Timeout: 50 * time.Millisecond, Show: func(string) {}})
	var te *oauthclient.TimeoutError
	if !errors.As(err, &te) || err.Error() != "not logged in within 50ms" {
		t.Fatalf("nobody logging in: %v, want a *TimeoutError", err)
	}
}
