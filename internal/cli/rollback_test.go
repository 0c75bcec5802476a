package cli_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRollbackBadUsage: missing or malformed input exits 2 before any
// request: the server named by --server is never called.
func TestRollbackBadUsage(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "unexpected", http.StatusTeapot)
	}))
	defer srv.Close()
	server := []string{"--server", srv.URL}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rollback"}, "say what to work on: app"},
		{[]string{"rollback", "app"}, "the NAME of the Application is missing"},
		{[]string{"rollback", "app", "web"}, "--to REVISION is required"},
		{[]string{"rollback", "app", "web", "--to", "main"}, `invalid --to "main"`},
		{[]string{"rollback", "app", "web", "--to", "abc123"}, `invalid --to "abc123"`},
		{[]string{"rollback", "app", "web", "--to", "0123456z"}, `invalid --to "0123456z"`},
		{[]string{"rollback", "app", "web", "--to", strings.Repeat("a", 65)}, "invalid --to"},
		{[]string{"rollback", "app", "web", "--to", "0123456", "-n", "Bad_NS"}, `invalid --namespace "Bad_NS"`},
		{[]string{"rollback", "app", "web", "--to", "0123456", "--bogus"}, "unknown flag: --bogus"},
	} {
		r := mustCruise(t, 2, append(c.args, server...)...)
		if !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("cruise %s: stderr %q, want one Error line with %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
	}
	// Good input, but not logged in to the server: still no request.
	r := mustCruise(t, 2, "rollback", "app", "web", "--to", "0123456789abcdef", "--server", srv.URL)
	if !strings.Contains(r.stderr, "not logged in to "+srv.URL) {
		t.Errorf("rollback without login: stderr %q", r.stderr)
	}
	if r := mustCruise(t, 2, "rollback", "app", "web", "--to", "0123456"); !strings.Contains(r.stderr, "log in first (cruise login SERVER) or pass --server") {
		t.Errorf("rollback without login or --server: stderr %q", r.stderr)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the server received %d requests, want none", n)
	}
}
