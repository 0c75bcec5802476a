package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/oauth"
)

// TestDeviceFlowErrors covers RFC 8628 section 3.5: slow_down,
// access_denied, expired_token, and a device code bound to its client.
func TestDeviceFlowErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		start := func() (deviceCode, userCode string) {
			r := e.post(oauth.PathDeviceAuthorization, url.Values{"client_id": {e.public.ID}, "scope": {"cruise:read"}}, nil)
			if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("device authorization: %d %s", r.Status, r.RawBody)
			}
			return r.str("device_code"), r.str("user_code")
		}
		poll := func(code string, c string) tokenResponse {
			return e.post(oauth.PathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {c}, "device_code": {code}}, nil)
		}
		other := e.register(oauth.ClientSpec{Name: "other", Public: true, GrantTypes: []string{"urn:ietf:params:oauth:grant-type:device_code"}})

		dc, uc := start()
		wantError(t, poll(dc, e.public.ID), http.StatusBadRequest, "authorization_pending")
		wantError(t, poll(dc, e.public.ID), http.StatusBadRequest, "slow_down")
		e.clock.Advance(2 * time.Second)
		wantError(t, poll(dc, other.ID), http.StatusBadRequest, "invalid_grant")

		// Deny in the browser.
		b := e.browser()
		resp, _ := b.Get(e.url(oauth.PathDevice) + "?user_code=" + url.QueryEscape(uc))
		form := formFields(readBody(t, resp))
		form.Set("username", "alice")
		form.Set("password", e.password)
		resp, _ = b.PostForm(e.url(oauth.PathLogin), form)
		form = formFields(readBody(t, resp))
		form.Set("decision", "deny")
		resp, _ = b.PostForm(e.url(oauth.PathConsent), form)
		readBody(t, resp)
		e.clock.Advance(2 * time.Second)
		wantError(t, poll(dc, e.public.ID), http.StatusBadRequest, "access_denied")

		dc, _ = start()
		e.clock.Advance(11 * time.Minute)
		wantError(t, poll(dc, e.public.ID), http.StatusBadRequest, "expired_token")

		// Clients without the device grant cannot start the flow.
		r := e.post(oauth.PathDeviceAuthorization, url.Values{}, basicAuth(e.confidential.ID, e.secret))
		wantError(t, r, http.StatusBadRequest, "unauthorized_client")
	})
}

// TestDeviceUserCodeGuessingThrottled: wrong user codes lock the IP out of
// the verification page.
func TestDeviceUserCodeGuessingThrottled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		b := e.browser()
		statuses := []int{}
		for range 4 {
			resp, err := b.Get(e.url(oauth.PathDevice) + "?user_code=BCDF-GHJK")
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			statuses = append(statuses, resp.StatusCode)
		}
		if statuses[0] != http.StatusBadRequest || statuses[3] != http.StatusTooManyRequests {
			t.Fatalf("statuses %v, want 400 first and 429 once throttled", statuses)
		}
	}, func(o *oauth.Options) { o.Throttle = oauth.ThrottleOptions{MaxFailures: 3, Lockout: time.Minute} })
}

// TestRequestBodyLimit: oversized bodies are refused before parsing.
func TestRequestBodyLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Repeat("a", 100<<10)}}
		wantError(t, e.post(oauth.PathToken, form, basicAuth(e.confidential.ID, e.secret)), http.StatusBadRequest, "invalid_request")
	})
}
