package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServerBadFlags: every misconfiguration of `cruise server` exits 2
// with a message naming the flag, before listening or touching anything.
func TestServerBadFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-kubeconfig")
	db := "sqlite:" + filepath.Join(t.TempDir(), "auth.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no public URL", []string{"server"}, "public-url"},
		{"cert without key", []string{"server", "--public-url", "https://c.example", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key"},
		{"plain HTTP on a public address", []string{"server", "--public-url", "https://c.example", "--addr", "0.0.0.0:8080"}, "plain HTTP"},
		{"external issuer without audience", []string{"server", "--public-url", "https://c.example", "--issuer", "https://idp.example"}, "--audience"},
		{"bad address", []string{"server", "--public-url", "https://c.example", "--addr", "nonsense"}, "--addr"},
		{"unreadable kubeconfig", []string{"server", "--public-url", "http://127.0.0.1:8080", "--db", db, "--kubeconfig", missing}, "missing-kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustCruise(t, 2, tt.args...)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", r.stderr, tt.want)
			}
		})
	}
}
