package server_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/oauth"
)

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

func get(t *testing.T, b *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestUISession: the UI logs in with code + PKCE, keeps the session in a
// sealed HttpOnly cookie, refuses state changes without the CSRF token or
// from another origin, serves a strict CSP, and logs out.
func TestUISession(t *testing.T) {
	nsA, nsB := env.Namespace(t), env.Namespace(t)
	createApp(t, nsA, "shop")
	createApp(t, nsB, "hidden-app")
	alice := uniqueUser("alice")
	bindRole(t, nsA, alice, "cruise-operator")
	ts := newTestServer(t, map[string][]string{alice: nil})

	// Not logged in: pages start the login, the API answers 401.
	anon := browser()
	if resp, _ := get(t, anon, ts.URL+"/apps/"+nsA+"/shop"); resp.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous page = %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, anon, ts.URL+"/api/v1/applications"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous API = %d, want 401", resp.StatusCode)
	}

	b := ts.login(alice)
	u, _ := url.Parse(ts.URL)
	var session *http.Cookie
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == "cruise_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie after login")
	}
	resp, body := get(t, b, ts.URL+"/")
	if resp.StatusCode != 200 || !strings.Contains(body, "shop") || strings.Contains(body, "hidden-app") || strings.Contains(body, nsB) {
		t.Fatalf("overview = %d; want shop and nothing of %s:\n%s", resp.StatusCode, nsB, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	for _, c := range resp.Cookies() {
		t.Errorf("overview set cookie %s", c.Name)
	}
	m := csrfMeta.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no csrf-token meta on the overview")
	}
	csrf := m[1]

	// The session cookie authenticates API GETs too (the UI's live updates).
	if resp, _ := get(t, b, ts.URL+"/api/v1/applications"); resp.StatusCode != 200 {
		t.Errorf("API with session = %d", resp.StatusCode)
	}

	syncURL := ts.URL + "/apps/" + nsA + "/shop/sync"
	post := func(form url.Values, origin string) *http.Response {
		req, _ := http.NewRequest("POST", syncURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	requested := func() string {
		app := &v1alpha1.Application{}
		must(t, k8s.Get(t.Context(), objKey(nsA, "shop"), app))
		return app.Annotations[v1alpha1.ReconcileRequestAnnotation]
	}
	for name, tc := range map[string]struct {
		form   url.Values
		origin string
	}{
		"no token":     {url.Values{}, ""},
		"wrong token":  {url.Values{"csrf": {csrf + "x"}}, ""},
		"cross origin": {url.Values{"csrf": {csrf}}, "https://evil.example"},
	} {
		if resp := post(tc.form, tc.origin); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: sync = %d, want 403", name, resp.StatusCode)
		}
	}
	if got := requested(); got != "" {
		t.Fatalf("a refused request changed the application: %q", got)
	}
	if resp := post(url.Values{"csrf": {csrf}}, ts.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync with token = %d, want 303", resp.StatusCode)
	}
	if requested() == "" {
		t.Fatal("sync did not set the reconcile request")
	}
	if _, body := get(t, b, ts.URL+"/apps/"+nsA+"/shop"); !strings.Contains(body, "Sync requested") {
		t.Errorf("no flash after sync:\n%s", body)
	}
	if resp, body := get(t, b, ts.URL+"/apps/"+nsB+"/hidden-app"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "hidden-app\"") {
		t.Errorf("other tenant's page = %d", resp.StatusCode)
	}

	// Rollback without the dialog's confirmation is refused.
	req, _ := http.NewRequest("POST", ts.URL+"/apps/"+nsA+"/shop/rollback", strings.NewReader(url.Values{"csrf": {csrf}, "revision": {"abcdef1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := b.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unconfirmed rollback: %v %v", resp, err)
	}
	if _, body := get(t, b, ts.URL+"/apps/"+nsA+"/shop"); !strings.Contains(body, "needs confirmation") {
		t.Errorf("no refusal message for an unconfirmed rollback")
	}

	// Logout revokes the refresh token and drops the cookie.
	req, _ = http.NewRequest("POST", ts.URL+"/logout", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/loggedout" {
		t.Fatalf("logout = %v %v", resp, err)
	}
	if resp, _ := get(t, b, ts.URL+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout the overview = %d, want a redirect to login", resp.StatusCode)
	}
}

// TestUISessionRefresh: with access tokens that expire at once, every
// request refreshes the session. Parallel requests carrying the same old
// cookie redeem its refresh token once (a second redemption would be
// taken for a stolen token and revoke the whole family), and the session
// keeps working afterwards.
func TestUISessionRefresh(t *testing.T) {
	ns := env.Namespace(t)
	createApp(t, ns, "shop")
	alice := uniqueUser("alice")
	bindRole(t, ns, alice, "cruise-viewer")
	ts := newTestServer(t, map[string][]string{alice: nil}, func(o *oauth.Options) { o.AccessTokenTTL = time.Second })
	b := ts.login(alice)

	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := b.Get(ts.URL + "/api/v1/namespaces/" + ns + "/applications/shop")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("parallel request %d = %d, want 200", i, c)
		}
	}
	// The cookie now holds the rotated tokens; they work, so the family was
	// not revoked.
	for range 2 {
		if resp, _ := get(t, b, ts.URL+"/api/v1/namespaces/"+ns+"/applications/shop"); resp.StatusCode != http.StatusOK {
			t.Fatalf("after the refresh: %d, want 200", resp.StatusCode)
		}
	}
}
