package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// expireAccessToken makes the access token of server in the file look
// expired, so that the next command refreshes it.
func expireAccessToken(t *testing.T, path, server string) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(readFile(t, path)), &raw); err != nil {
		t.Fatal(err)
	}
	raw["servers"].(map[string]any)[server].(map[string]any)["expiry"] = time.Now().Add(-time.Minute).Format(time.RFC3339)
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRefreshRotatesAndSaves: a command that finds the access token
// expired refreshes it; the server rotates the refresh token and the new
// one is saved at once. The old one is then spent: presenting it again
// makes the server revoke the whole grant, after which the CLI says to log
// in again. (Concurrent refreshes: package oauthclient.)
func TestRefreshRotatesAndSaves(t *testing.T) {
	e := newAuthEnv(t)
	if r := e.login(t); r.code != 0 {
		t.Fatalf("login: exit %d", r.code)
	}
	before := readCredentials(t, e.credentials).Servers[e.url]
	expireAccessToken(t, e.credentials, e.url)

	r := mustCruise(t, 0, "get", "apps")
	if want := "no Applications found in namespace default on " + e.url + "\n"; r.stderr != want {
		t.Errorf("get apps through the API: stderr %q, want %q", r.stderr, want)
	}
	after := readCredentials(t, e.credentials).Servers[e.url]
	if after.RefreshToken == before.RefreshToken || after.AccessToken == before.AccessToken || time.Until(after.Expiry) < time.Minute {
		t.Fatal("the refresh was not saved: same tokens or expiry in the file")
	}
	if fi, err := os.Stat(e.credentials); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file after refresh: %v %v, want mode 0600", fi.Mode().Perm(), err)
	}
	assertNoSecrets(t, e.credentials, r.stdout, r.stderr)

	// The saved token works without another refresh.
	mustCruise(t, 0, "get", "apps")
	if now := readCredentials(t, e.credentials).Servers[e.url]; now.RefreshToken != after.RefreshToken {
		t.Error("a valid access token was refreshed again")
	}

	// The old refresh token was rotated away; replaying it revokes the
	// grant (draft-ietf-oauth-v2-1 section 4.3.1).
	if _, err := e.refresh(before.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("refresh with the rotated-away token: %v, want invalid_grant", err)
	}
	expireAccessToken(t, e.credentials, e.url)
	r = mustCruise(t, 2, "get", "apps")
	if !strings.Contains(r.stderr, "has expired or was revoked: log in again (cruise login "+e.url+")") {
		t.Errorf("refresh of a revoked grant: stderr %q, want advice to log in again", r.stderr)
	}
}

// TestCredentialsFileModeRefused: a credentials file that group or others
// may read is refused, by login and by the commands that would use it,
// naming the file and the fix; explicit kube flags do not read it.
func TestCredentialsFileModeRefused(t *testing.T) {
	e := newAuthEnv(t)
	if r := e.login(t); r.code != 0 {
		t.Fatalf("login: exit %d", r.code)
	}
	if err := os.Chmod(e.credentials, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"get", "apps"},
		{"reconcile", "app", "web"},
		{"rollback", "app", "web", "--to", "0123456"},
		{"login", e.url, "--no-browser"},
	} {
		r := mustCruise(t, 2, args...)
		if !strings.Contains(r.stderr, e.credentials) || !strings.Contains(r.stderr, "chmod 600 "+e.credentials) {
			t.Errorf("cruise %s: stderr %q, want the file and chmod 600", strings.Join(args, " "), r.stderr)
		}
		assertNoSecrets(t, e.credentials, r.stdout, r.stderr)
	}
	if e.apiCalls.Load() != 0 {
		t.Error("the API was called with an unsafe credentials file")
	}
	// --kubeconfig wins: the file is not consulted.
	r := mustCruise(t, 2, "get", "apps", "--kubeconfig", "/nonexistent/kubeconfig")
	if strings.Contains(r.stderr, "credentials") || !strings.Contains(r.stderr, "kubeconfig") {
		t.Errorf("get apps --kubeconfig: stderr %q, want the kubeconfig error only", r.stderr)
	}
}

// TestAPIRouting: when logged in, get apps goes to the API; explicit kube
// flags go to the cluster; --server with kube flags is refused; source
// actions stay on the cluster.
func TestAPIRouting(t *testing.T) {
	e := newAuthEnv(t)
	// Before login, nothing is routed to the API.
	k := newKubeTest(t)
	if r := mustCruise(t, 2, "get", "apps", "--server", e.url); !strings.Contains(r.stderr, "not logged in to "+e.url) {
		t.Errorf("--server before login: stderr %q", r.stderr)
	}
	if r := e.login(t); r.code != 0 {
		t.Fatalf("login: exit %d", r.code)
	}
	mustCruise(t, 0, "get", "apps")
	mustCruise(t, 0, "get", "apps", "--server", e.url+"/")
	if n := e.apiCalls.Load(); n != 2 {
		t.Errorf("API list calls = %d, want 2", n)
	}
	// Explicit kube flags win: the namespace's (empty) list comes from the
	// cluster.
	r := k.run(t, 0, "get", "apps")
	if r.stderr != "no Applications found in namespace "+k.ns+"\n" || e.apiCalls.Load() != 2 {
		t.Errorf("get apps --kubeconfig while logged in: stderr %q, API calls %d", r.stderr, e.apiCalls.Load())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "apps", "--server", e.url, "--kubeconfig", env.Cluster.Kubeconfig}, "--server cannot be combined with --kubeconfig"},
		{[]string{"suspend", "source", "web", "--server", e.url}, "cannot suspend GitRepositories"},
		{[]string{"reconcile", "app", "web", "--with-source"}, "--with-source is not available"},
		{[]string{"get", "apps", "--server", "http://cruise.example.com"}, "plain http is allowed only to a loopback address"},
	} {
		if r := mustCruise(t, 2, c.args...); !strings.Contains(r.stderr, c.want) {
			t.Errorf("cruise %s: stderr %q, want %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
	}
}
