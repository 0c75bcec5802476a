package gitwrite

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cruisegitops/cruise/internal/source"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// TestRevertOverSSH pushes a rollback over SSH with a private key, the
// server's host key checked against known_hosts, and checks that refusals
// wrap the same sentinels a fetch's would, name the remote and never show
// the key.
func TestRevertOverSSH(t *testing.T) {
	key, pub := gittest.NewKey(t, "")
	wrongKey, wrongPub := gittest.NewKey(t, "")
	tests := []struct {
		name string
		key  []byte
		// revoke, when set, makes the server refuse the key between the
		// fetch and the push, as when a deploy key is read-only or
		// rotated.
		revoke bool
		// foreignHostKey puts another server's host key in known_hosts.
		foreignHostKey bool
		wantErr        error
		wantInErr      string
	}{
		{name: "key", key: key},
		{name: "key not authorized", key: wrongKey, wantErr: source.ErrAuth, wantInErr: "ssh authentication failed for ssh://"},
		{name: "key refused for the push", key: key, revoke: true, wantErr: source.ErrAuth, wantInErr: "ssh authentication failed for ssh://"},
		{name: "host key changed", key: key, foreignHostKey: true, wantErr: source.ErrHostKey, wantInErr: "ssh host key mismatch for 127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			repo := gittest.NewRepo(t, filepath.Join(root, "repo.git"), true)
			c1 := repo.Commit("c1", c1Files)
			c2 := repo.Commit("c2", c2Files)
			srv := gittest.ServeSSH(t, root, pub)
			knownHosts := srv.KnownHosts()
			if tt.foreignHostKey {
				other := gittest.ServeSSH(t, t.TempDir(), pub)
				knownHosts = []byte(knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, other.HostKey) + "\n")
			}
			req := Request{
				URL: srv.RepoURL("repo.git"), Branch: "main", Target: c1, Paths: []string{"app"}, Author: requester,
				Auth: &source.Auth{SSHPrivateKey: tt.key, KnownHosts: knownHosts},
			}
			pushed := false
			req.beforePush = func(int) {
				pushed = true
				if tt.revoke {
					srv.Authorize(wrongPub)
				}
			}

			res, err := Revert(context.Background(), req)

			head := (&server{dir: repo.Dir}).head(t).Hash.String()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Revert: %v", err)
				}
				if head != res.Commit || res.Parent != c2 {
					t.Fatalf("head = %s, result %+v: want the rollback on %s", head, res, c2)
				}
				want := map[string]string{"app/a.yaml": "v1", "app/gone.yaml": "old", "other/b.yaml": "v2"}
				if got := files(t, (&server{dir: repo.Dir}).head(t)); !maps.Equal(got, want) {
					t.Errorf("tree = %v, want %v", got, want)
				}
				return
			}
			t.Log(err)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("err = %v, want %v with %q", err, tt.wantErr, tt.wantInErr)
			}
			if !strings.Contains(err.Error(), srv.Addr) {
				t.Errorf("error does not name the remote %s: %v", srv.Addr, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			for _, line := range strings.Split(string(tt.key), "\n") {
				if len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
					t.Fatalf("error shows the private key: %v", err)
				}
			}
			if tt.revoke && !pushed {
				t.Error("failed before the push; the case is about the push")
			}
			if head != c2 {
				t.Errorf("head = %s, want %s (nothing pushed)", head, c2)
			}
		})
	}
}
