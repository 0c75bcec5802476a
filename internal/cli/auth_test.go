package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/cli"
)

// runStdin runs the command line in-process with stdin.
func runStdin(ctx context.Context, stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	root := cli.NewRootCommand(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		errOut.WriteString(err.Error())
		return 1, out.String(), errOut.String()
	}
	return 0, out.String(), errOut.String()
}

func TestAuthClientCommands(t *testing.T) {
	db := []string{"--db", "sqlite:" + filepath.Join(t.TempDir(), "auth.db")}
	r := mustCruise(t, 0, args([]string{"auth", "client", "create", "--name", "CI", "--confidential", "-o", "json"}, db)...)
	var ci struct{ ClientID string }
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	ci.ClientID, _ = raw["client_id"].(string)
	secret, _ := raw["client_secret"].(string)
	if ci.ClientID == "" || len(secret) < 43 {
		t.Fatalf("create printed client_id %q and a %d-character secret", ci.ClientID, len(secret))
	}
	r = mustCruise(t, 0, args([]string{"auth", "client", "create", "--name", "CLI", "--public", "--redirect-uri", "http://127.0.0.1/cb", "-o", "json"}, db)...)
	if strings.Contains(r.stdout, "client_secret") {
		t.Fatalf("public client got a secret: %s", r.stdout)
	}
	mustCruise(t, 2, args([]string{"auth", "client", "create", "--name", "x", "--public", "--redirect-uri", "http://localhost/cb"}, db)...)
	mustCruise(t, 2, args([]string{"auth", "client", "create", "--name", "x", "--public", "--confidential"}, db)...)
	mustCruise(t, 2, args([]string{"auth", "client", "create", "--name", "x", "--public", "--grant", "client_credentials"}, db)...)
	mustCruise(t, 2, args([]string{"auth", "client", "create", "--name", "x", "--confidential", "--grant", "password"}, db)...)

	r = mustCruise(t, 0, args([]string{"auth", "client", "list"}, db)...)
	if !strings.Contains(r.stdout, ci.ClientID) || !strings.Contains(r.stdout, "CLI") || strings.Contains(r.stdout, secret) {
		t.Fatalf("list:\n%s", r.stdout)
	}
	mustCruise(t, 0, args([]string{"auth", "client", "delete", ci.ClientID}, db)...)
	if r = mustCruise(t, 0, args([]string{"auth", "client", "list"}, db)...); strings.Contains(r.stdout, ci.ClientID) {
		t.Fatalf("deleted client still listed:\n%s", r.stdout)
	}
	mustCruise(t, 1, args([]string{"auth", "client", "delete", ci.ClientID}, db)...)
}

func TestAuthNeedsDatabase(t *testing.T) {
	t.Setenv(cli.EnvAuthDB, "")
	mustCruise(t, 2, "auth", "client", "list")
	t.Setenv(cli.EnvAuthDB, "sqlite:"+filepath.Join(t.TempDir(), "env.db"))
	mustCruise(t, 0, "auth", "client", "list")
}

func TestAuthUserCommands(t *testing.T) {
	ctx := t.Context()
	db := []string{"--db", "sqlite:" + filepath.Join(t.TempDir(), "auth.db")}
	if code, _, stderr := runStdin(ctx, "correct horse battery\n", args([]string{"auth", "user", "add", "alice", "--password-stdin", "--group", "dev"}, db)...); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	if code, _, _ := runStdin(ctx, "correct horse battery\n", args([]string{"auth", "user", "add", "alice", "--password-stdin"}, db)...); code == 0 {
		t.Fatal("a second alice was added")
	}
	if code, _, _ := runStdin(ctx, "short\n", args([]string{"auth", "user", "add", "bob", "--password-stdin"}, db)...); code == 0 {
		t.Fatal("a too-short password was accepted")
	}
	mustCruise(t, 0, args([]string{"auth", "user", "delete", "alice"}, db)...)
	mustCruise(t, 1, args([]string{"auth", "user", "delete", "alice"}, db)...)
}

// TestAuthServe runs `cruise auth serve` and administers it while it runs:
// a client created by the CLI gets tokens, keys rotate beside it, and a
// deleted client is refused at once.
func TestAuthServe(t *testing.T) {
	db := []string{"--db", "sqlite:" + filepath.Join(t.TempDir(), "auth.db")}
	mustCruise(t, 2, args([]string{"auth", "serve", "--issuer", "https://auth.example", "--addr", "0.0.0.0:0"}, db)...)
	r := mustCruise(t, 2, args([]string{"auth", "serve", "--issuer", "http://127.0.0.1:1", "--addr", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/33"}, db)...)
	if !strings.Contains(r.stderr, `--trusted-proxy "10.0.0.0/33"`) {
		t.Errorf("bad --trusted-proxy: stderr %q", r.stderr)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	issuer := "http://" + addr
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		code, _, _ := run(ctx, args([]string{"auth", "serve", "--issuer", issuer, "--addr", addr, "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "::1"}, db)...)
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(issuer + "/.well-known/oauth-authorization-server")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up after 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	r = mustCruise(t, 0, args([]string{"auth", "client", "create", "--name", "CI", "--confidential", "-o", "json"}, db)...)
	var c map[string]string
	json.Unmarshal([]byte(r.stdout), &c)
	token := func() int {
		req, _ := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c["client_id"], c["client_secret"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := token(); st != http.StatusOK {
		t.Fatalf("token for the CLI-created client: %d", st)
	}
	mustCruise(t, 0, args([]string{"auth", "keys", "rotate"}, db)...)
	mustCruise(t, 0, args([]string{"auth", "client", "delete", c["client_id"]}, db)...)
	if st := token(); st != http.StatusUnauthorized {
		t.Fatalf("token for a deleted client: %d, want 401", st)
	}
}
