package cli_test

import (
	"strings"
	"testing"
)

// TestLogoutRevokes: logout revokes the refresh token at the issuer (a
// refresh with it then fails) and deletes the login; logging out again is
// no error.
func TestLogoutRevokes(t *testing.T) {
	e := newAuthEnv(t)
	if r := e.login(t); r.code != 0 {
		t.Fatalf("login: exit %d", r.code)
	}
	login := readCredentials(t, e.credentials).Servers[e.url]

	r := mustCruise(t, 0, "logout")
	if r.stdout != "Logged out of "+e.url+"\n" {
		t.Errorf("logout: stdout %q", r.stdout)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, login.RefreshToken) || strings.Contains(out, login.AccessToken) {
			t.Errorf("logout printed a token: %s", out)
		}
	}
	if c := readCredentials(t, e.credentials); c.Current != "" || len(c.Servers) != 0 {
		t.Errorf("credentials after logout = %+v, want empty", c)
	}
	if _, err := e.refresh(login.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh after logout: %v, want invalid_grant", err)
	}

	if r := mustCruise(t, 0, "logout"); r.stdout != "Not logged in\n" {
		t.Errorf("second logout: stdout %q", r.stdout)
	}
	if r := mustCruise(t, 0, "logout", e.url+"/"); r.stdout != "Not logged in to "+e.url+"\n" {
		t.Errorf("logout SERVER when not logged in: stdout %q", r.stdout)
	}
	// Without a login, the commands go to the cluster again.
	if r := mustCruise(t, 2, "rollback", "app", "web", "--to", "0123456"); !strings.Contains(r.stderr, "log in first") {
		t.Errorf("rollback after logout: stderr %q", r.stderr)
	}
}
