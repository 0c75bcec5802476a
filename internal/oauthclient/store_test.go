package oauthclient_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/oauthclient"
)

// TestStoreFile: the file is written with mode 0600 in a directory of
// mode 0700, atomically (no temporary file is left), and a file that
// group or others may read is refused, naming the file and the fix.
func TestStoreFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cruise", "credentials.json")
	s := oauthclient.OpenStore(path)
	if c, err := s.Load(); err != nil || len(c.Servers) != 0 {
		t.Fatalf("Load of a missing file: %+v, %v; want an empty one", c, err)
	}
	l := oauthclient.NewLogin("https://auth.example", "cli", &oauth2.Token{AccessToken: "at-secret", RefreshToken: "rt-secret", Expiry: time.Now().Add(time.Hour)})
	if err := s.Keep(t.Context(), "https://cruise.example", l); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file: %v, %v; want mode 0600", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v, %v; want mode 0700", fi, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file", len(entries))
	}
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Servers["https://cruise.example"]; c.Current != "https://cruise.example" || got == nil ||
		got.AccessToken != l.AccessToken || got.RefreshToken != l.RefreshToken || !got.Expiry.Equal(l.Expiry) || got.Issuer != l.Issuer || got.ClientID != l.ClientID {
		t.Fatalf("read back %+v, want the login current", c)
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"Load":   func() error { _, err := s.Load(); return err },
		"Update": func() error { return s.Update(func(*oauthclient.Credentials) (bool, error) { return true, nil }) },
	} {
		if err := op(); err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("%s of a group-readable file: %v, want a refusal naming chmod 600 and the file", name, err)
		}
	}
}

// TestLoginPrintsNoTokens: a Login printed by mistake shows no token.
func TestLoginPrintsNoTokens(t *testing.T) {
	l := oauthclient.NewLogin("https://auth.example", "cli", &oauth2.Token{AccessToken: "at-secret", RefreshToken: "rt-secret"})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{l, *l} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "secret") {
				t.Errorf("Sprintf(%q) = %s", verb, out)
			}
		}
	}
}

// TestNormalizeServer: the key of a server in the file.
func TestNormalizeServer(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"https://Cruise.Example.com/", "https://cruise.example.com", ""},
		{" https://cruise.example.com/team/ ", "https://cruise.example.com/team", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"http://cruise.example.com", "", "plain http is allowed only to a loopback address"},
		{"https://cruise.example.com/?x=1", "", "no query"},
		{"https://user:pw@cruise.example.com", "", "user info"},
	} {
		got, err := oauthclient.NormalizeServer(c.in)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q, %q", c.in, got, err, c.want, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("NormalizeServer(%q): the error shows the password: %v", c.in, err)
		}
	}
}
