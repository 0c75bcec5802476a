package oauth_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/oauth"
)

// The throttle keeps state in memory, whatever the store: these tests run
// on SQLite only.

// fromAddress returns an HTTP client whose connections leave from ip, an
// address of the loopback network (Linux answers on all of 127.0.0.0/8),
// so that the server sees another source address than 127.0.0.1. It does
// not follow redirects and keeps cookies, like browser.
func fromAddress(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

const (
	attackerAddr = "127.0.0.2"
	userAddr     = "127.0.0.3"
)

// strictThrottle locks a key out after three failures for a minute.
func strictThrottle(o *oauth.Options) {
	o.Throttle = oauth.ThrottleOptions{MaxFailures: 3, Lockout: time.Minute, MaxLockout: time.Hour}
}

// TestPublicClientCannotBeLockedOut: wrong client secrets sent for a
// public client (which has none to guess) are refused, and the sender is
// slowed down, but the client's users are not: a refresh and a code
// exchange succeed from another address and from the attacker's own
// (users behind the same NAT), since requests that carry no credential
// have nothing to guess and are never throttled.
func TestPublicClientCannotBeLockedOut(t *testing.T) {
	e := newEnv(t, "sqlite", strictThrottle)
	attacker := fromAddress(t, attackerAddr)
	// A refresh token and a code obtained before the attack.
	code, verifier := e.codeFor(e.public, loopbackRedirect, "openid", "cruise:read")
	rt := e.redeem(e.public, code, verifier, loopbackRedirect).str("refresh_token")
	code, verifier = e.codeFor(e.public, loopbackRedirect, "openid", "cruise:read")
	code2, verifier2 := e.codeFor(e.public, loopbackRedirect, "openid", "cruise:read")

	guess := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {e.public.ID}, "client_secret": {"guess"}}
	for range 3 {
		wantError(t, e.postFrom(attacker, oauth.PathToken, guess, nil), http.StatusUnauthorized, "invalid_client")
	}
	// The attacker is slowed down...
	r := e.postFrom(attacker, oauth.PathToken, guess, nil)
	wantError(t, r, http.StatusTooManyRequests, "invalid_client")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on a throttled request")
	}

	// ...the client's users are not, from elsewhere...
	user := fromAddress(t, userAddr)
	refresh := func(hc *http.Client, token string) tokenResponse {
		return e.postFrom(hc, oauth.PathToken, url.Values{"grant_type": {"refresh_token"}, "client_id": {e.public.ID}, "refresh_token": {token}}, nil)
	}
	redeem := func(hc *http.Client, code, verifier string) tokenResponse {
		return e.postFrom(hc, oauth.PathToken, url.Values{"grant_type": {"authorization_code"}, "client_id": {e.public.ID},
			"code": {code}, "redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}}, nil)
	}
	r = refresh(user, rt)
	wantTokens(t, r)
	wantTokens(t, redeem(user, code, verifier))
	// ...nor from the attacker's own address.
	wantTokens(t, refresh(attacker, r.str("refresh_token")))
	wantTokens(t, redeem(attacker, code2, verifier2))
}

// TestConfidentialClientThrottledPerSource: guessing a confidential
// client's secret from one address locks that client out at that address
// only; the client itself, calling from another one, is not slowed down.
func TestConfidentialClientThrottledPerSource(t *testing.T) {
	e := newEnv(t, "sqlite", strictThrottle)
	attacker, user := fromAddress(t, attackerAddr), fromAddress(t, userAddr)
	cc := url.Values{"grant_type": {"client_credentials"}}
	for range 3 {
		wantError(t, e.postFrom(attacker, oauth.PathToken, cc, basicAuth(e.confidential.ID, "guess")), http.StatusUnauthorized, "invalid_client")
	}
	// Locked at the attacker's address, even with the right secret: a
	// guess must get no answer while locked.
	wantError(t, e.postFrom(attacker, oauth.PathToken, cc, basicAuth(e.confidential.ID, e.secret)), http.StatusTooManyRequests, "invalid_client")
	wantTokens(t, e.postFrom(user, oauth.PathToken, cc, basicAuth(e.confidential.ID, e.secret)))
	// Another confidential client at the attacker's address is not
	// slowed down either.
	other, secret := e.registerWithSecret(oauth.ClientSpec{Name: "ci", RedirectURIs: []string{webRedirect}})
	wantTokens(t, e.postFrom(attacker, oauth.PathToken, cc, basicAuth(other.ID, secret)))
}

// loginFrom posts a password to the login form through b and returns the
// status.
func (e *env) loginFrom(b *http.Client, name, password string) int {
	e.t.Helper()
	resp, err := b.Get(e.url(oauth.PathAuthorize) + "?" + authQuery(e.public, loopbackRedirect, challenge).Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	form := formFields(readBody(e.t, resp))
	form.Set("username", name)
	form.Set("password", password)
	resp, err = b.PostForm(e.url(oauth.PathLogin), form)
	if err != nil {
		e.t.Fatal(err)
	}
	readBody(e.t, resp)
	return resp.StatusCode
}

// TestLoginThrottledPerAccountAndSource: wrong passwords for an account
// from one address lock that account out at that address only; its owner
// logs in from another address. An address that fails for many accounts
// (one password sprayed over them) is slowed for every account, with four
// times the budget of one account: users behind that same address share
// its fate.
func TestLoginThrottledPerAccountAndSource(t *testing.T) {
	e := newEnv(t, "sqlite", strictThrottle)
	attacker := fromAddress(t, attackerAddr)
	for range 3 {
		if status := e.loginFrom(attacker, e.user.Name, "nope-nope"); status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d, want 401", status)
		}
	}
	if status := e.loginFrom(attacker, e.user.Name, e.password); status != http.StatusTooManyRequests {
		t.Fatalf("right password at the attacker's address while locked: %d, want 429", status)
	}
	if status := e.loginFrom(fromAddress(t, userAddr), e.user.Name, e.password); status != http.StatusOK {
		t.Fatalf("the account's owner from another address: %d, want 200", status)
	}
	e.clock.Advance(2 * time.Minute)
	if status := e.loginFrom(attacker, e.user.Name, e.password); status != http.StatusOK {
		t.Fatalf("after the lockout: %d, want 200", status)
	}

	// Spraying: 3 failures so far, 12 lock the address for any account.
	for i := range 9 {
		if status := e.loginFrom(attacker, fmt.Sprintf("user%d", i), "password1"); status != http.StatusUnauthorized {
			t.Fatalf("spraying, account %d: %d, want 401", i, status)
		}
	}
	if status := e.loginFrom(attacker, e.user.Name, e.password); status != http.StatusTooManyRequests {
		t.Fatalf("login at a spraying address: %d, want 429", status)
	}
	if status := e.loginFrom(fromAddress(t, userAddr), e.user.Name, e.password); status != http.StatusOK {
		t.Fatalf("login at another address: %d, want 200", status)
	}
}

// TestTrustedProxies: behind a proxy, every request comes from the
// proxy's address; with the proxy trusted, the throttles key by the
// address it reports in X-Forwarded-For, so that one party's failures do
// not slow the others. What the sender wrote into the header itself (left
// of what the proxy appended), and the header from a peer that is not a
// trusted proxy, change nothing.
func TestTrustedProxies(t *testing.T) {
	e := newEnv(t, "sqlite", strictThrottle, func(o *oauth.Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	proxy := http.DefaultClient // connects from 127.0.0.1
	via := func(forwardedFor, secret string) http.Header {
		h := basicAuth(e.confidential.ID, secret)
		h.Set("X-Forwarded-For", forwardedFor)
		return h
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	for range 3 {
		wantError(t, e.postFrom(proxy, oauth.PathToken, cc, via("198.51.100.7", "guess")), http.StatusUnauthorized, "invalid_client")
	}
	wantError(t, e.postFrom(proxy, oauth.PathToken, cc, via("198.51.100.7", e.secret)), http.StatusTooManyRequests, "invalid_client")
	// A forged first entry does not help the attacker.
	wantError(t, e.postFrom(proxy, oauth.PathToken, cc, via("203.0.113.50, 198.51.100.7", e.secret)), http.StatusTooManyRequests, "invalid_client")
	// The client, through the same proxy from elsewhere, is not slowed.
	wantTokens(t, e.postFrom(proxy, oauth.PathToken, cc, via("203.0.113.50", e.secret)))

	// A peer that is no trusted proxy cannot choose its address.
	direct := fromAddress(t, attackerAddr)
	for i := range 3 {
		r := e.postFrom(direct, oauth.PathToken, cc, via(fmt.Sprintf("192.0.2.%d", i), "guess"))
		wantError(t, r, http.StatusUnauthorized, "invalid_client")
	}
	wantError(t, e.postFrom(direct, oauth.PathToken, cc, via("192.0.2.99", e.secret)), http.StatusTooManyRequests, "invalid_client")
}
