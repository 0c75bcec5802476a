package source

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestFetchHTTPAuth(t *testing.T) {
	root := t.TempDir()
	h := newHistory(t, filepath.Join(root, "repo.git"), true)
	const user, pass, token = "alice", "s3cret-pw", "tok-3f9a"
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{Username: user, Password: pass, BearerToken: token})
	repoURL := srv.RepoURL("repo.git")
	withUserinfo := strings.Replace(repoURL, "http://", "http://"+user+":"+pass+"@", 1)

	tests := []struct {
		name    string
		url     string
		auth    *Auth
		wantErr error
		wantMsg string
	}{
		{name: "basic auth", url: repoURL, auth: &Auth{Username: user, Password: pass}},
		{name: "bearer token", url: repoURL, auth: &Auth{BearerToken: token}},
		{name: "credentials in URL", url: withUserinfo},
		{name: "wrong password", url: repoURL, auth: &Auth{Username: user, Password: "wrong-pw"},
			wantErr: ErrAuth, wantMsg: "git: authentication required for " + repoURL},
		{name: "wrong password in URL", url: strings.Replace(withUserinfo, pass, "wrong-pw", 1),
			wantErr: ErrAuth, wantMsg: "git: authentication required for " + repoURL},
		{name: "wrong token", url: repoURL, auth: &Auth{BearerToken: "tok-wrong"},
			wantErr: ErrAuth, wantMsg: "git: authentication required for " + repoURL},
		{name: "no credentials", url: repoURL,
			wantErr: ErrAuth, wantMsg: "git: authentication required for " + repoURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetcher(t, Options{})
			a, err := f.Fetch(t.Context(), Request{URL: tc.url, Auth: tc.auth})
			if tc.wantErr != nil {
				wantErr(t, err, tc.wantErr, tc.wantMsg)
				for _, secret := range []string{"wrong-pw", "tok-wrong", pass} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q leaks a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Commit != h.c4 {
				t.Errorf("commit = %s, want %s", a.Commit, h.c4)
			}
			if a.URL != repoURL {
				t.Errorf("Artifact.URL = %q, want %q without credentials", a.URL, repoURL)
			}
		})
	}
}

func TestFetchSSHAuth(t *testing.T) {
	root := t.TempDir()
	h := newHistory(t, filepath.Join(root, "repo.git"), true)
	key, pub := gittest.NewKey(t, "")
	encKey, encPub := gittest.NewKey(t, "key-passphrase")
	otherKey, _ := gittest.NewKey(t, "")
	srv := gittest.ServeSSH(t, root, pub)
	encSrv := gittest.ServeSSH(t, root, encPub)
	other := gittest.ServeSSH(t, t.TempDir(), pub) // another host key

	hostPort := srv.Addr
	// The right host with another server's key: a changed host key.
	mismatch := []byte(knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, other.HostKey) + "\n")

	tests := []struct {
		name     string
		url      string
		auth     *Auth
		insecure bool
		wantErr  error
		wantMsg  string
	}{
		{name: "key", url: srv.RepoURL("repo.git"), auth: &Auth{SSHPrivateKey: key, KnownHosts: srv.KnownHosts()}},
		{name: "encrypted key", url: encSrv.RepoURL("repo.git"),
			auth: &Auth{SSHPrivateKey: encKey, SSHPassphrase: "key-passphrase", KnownHosts: encSrv.KnownHosts()}},
		{name: "insecure ignore host key", url: srv.RepoURL("repo.git"), auth: &Auth{SSHPrivateKey: key}, insecure: true},
		{name: "host key mismatch", url: srv.RepoURL("repo.git"), auth: &Auth{SSHPrivateKey: key, KnownHosts: mismatch},
			wantErr: ErrHostKey, wantMsg: fmt.Sprintf("git: ssh host key mismatch for %s (known_hosts)", hostPort)},
		{name: "unknown host", url: srv.RepoURL("repo.git"), auth: &Auth{SSHPrivateKey: key, KnownHosts: other.KnownHosts()},
			wantErr: ErrHostKey, wantMsg: fmt.Sprintf("git: ssh host %s is not in known_hosts", hostPort)},
		{name: "no known_hosts", url: srv.RepoURL("repo.git"), auth: &Auth{SSHPrivateKey: key},
			wantErr: ErrHostKey, wantMsg: "no known_hosts given for ssh host " + hostPort},
		{name: "key not authorized", url: srv.RepoURL("repo.git"), auth: &Auth{SSHPrivateKey: otherKey, KnownHosts: srv.KnownHosts()},
			wantErr: ErrAuth, wantMsg: "git: ssh authentication failed for " + srv.RepoURL("repo.git")},
		{name: "no key", url: srv.RepoURL("repo.git"), auth: &Auth{KnownHosts: srv.KnownHosts()},
			wantErr: ErrAuth, wantMsg: "ssh private key required"},
		{name: "missing passphrase", url: encSrv.RepoURL("repo.git"), auth: &Auth{SSHPrivateKey: encKey, KnownHosts: encSrv.KnownHosts()},
			wantErr: ErrAuth, wantMsg: "encrypted and no passphrase"},
		{name: "wrong passphrase", url: encSrv.RepoURL("repo.git"),
			auth:    &Auth{SSHPrivateKey: encKey, SSHPassphrase: "not-it", KnownHosts: encSrv.KnownHosts()},
			wantErr: ErrAuth, wantMsg: "cannot use ssh private key"},
		{name: "repository not found", url: srv.RepoURL("nope.git"), auth: &Auth{SSHPrivateKey: key, KnownHosts: srv.KnownHosts()},
			wantErr: ErrRepoNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetcher(t, Options{InsecureIgnoreHostKey: tc.insecure})
			a, err := f.Fetch(t.Context(), Request{URL: tc.url, Auth: tc.auth})
			if tc.wantErr != nil {
				wantErr(t, err, tc.wantErr, tc.wantMsg)
				if strings.Contains(err.Error(), "not-it") {
					t.Errorf("error %q leaks the passphrase", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Commit != h.c4 {
				t.Errorf("commit = %s, want %s", a.Commit, h.c4)
			}
		})
	}
}

func TestFetchHTTPRepositoryNotFound(t *testing.T) {
	srv := gittest.ServeHTTP(t, t.TempDir(), gittest.HTTPOptions{})
	f := newFetcher(t, Options{})
	_, err := f.Fetch(t.Context(), Request{URL: srv.RepoURL("nope.git")})
	wantErr(t, err, ErrRepoNotFound, "git: repository not found at "+srv.RepoURL("nope.git"))
}
