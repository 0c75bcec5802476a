package cli_test

import (
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

func TestBuildLocalDir(t *testing.T) {
	t.Parallel()
	r := mustCruise(t, 0, "build", "--source", "testdata/app-v1")
	wantLines(t, r.stdout,
		"# Source: config.yaml",
		"# Source: extra.yaml",
		"# Source: secret.yaml",
		"  color: blue",
	)
	if strings.Count(r.stdout, "---\n") != 3 {
		t.Errorf("want 3 documents:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
}

func TestBuildKustomizeOverlay(t *testing.T) {
	t.Parallel()
	r := mustCruise(t, 0, "build", "--source", "testdata/overlay-v1", "--path", "overlays/test")
	wantLines(t, r.stdout,
		"# Source: overlays/test/kustomization.yaml",
		"  replicas: 3",
		"  LOG_LEVEL: debug",
	)
	wantContains(t, r.stdout, "name: web-config-")
}

// A Git source over HTTP: the ref picks the commit.
func TestBuildGitHTTPRef(t *testing.T) {
	t.Parallel()
	srv := serveGit(t, gittest.HTTPOptions{})
	repo, url := srv.repo(t, "app.git")
	repo.Tag("v1.0.0", repo.CommitDir("v1", "testdata/app-v1"))
	repo.CommitDir("v2", "testdata/app-v2")

	for _, tc := range []struct {
		ref, color string
	}{
		{"tag:v1.0.0", "blue"},
		{"v1.0.0", "blue"},
		{"main", "green"},
		{"", "green"},
	} {
		t.Run("ref="+tc.ref, func(t *testing.T) {
			r := mustCruise(t, 0, args([]string{"build", "--source", url, "--ref", tc.ref}, gitFlags(t))...)
			wantLines(t, r.stdout, "# Source: config.yaml", "  color: "+tc.color)
		})
	}
}

// Credentials for HTTP come from --username and a file or the
// environment; none of them ever reaches the output.
func TestBuildGitHTTPAuth(t *testing.T) {
	const user, password = "deployer", "s3cret-Pa55word"
	srv := serveGit(t, gittest.HTTPOptions{Username: user, Password: password})
	repo, url := srv.repo(t, "app.git")
	repo.CommitDir("v1", "testdata/app-v1")

	t.Run("password-file", func(t *testing.T) {
		r := mustCruise(t, 0, args([]string{"build", "--source", url, "--username", user,
			"--password-file", writeFile(t, "password", password+"\n")}, gitFlags(t))...)
		wantLines(t, r.stdout, "  color: blue")
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("CRUISE_GIT_USERNAME", user)
		t.Setenv("CRUISE_GIT_PASSWORD", password)
		r := mustCruise(t, 0, args([]string{"build", "--source", url}, gitFlags(t))...)
		wantLines(t, r.stdout, "  color: blue")
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("CRUISE_GIT_USERNAME", "")
		t.Setenv("CRUISE_GIT_PASSWORD", "")
		r := mustCruise(t, 2, args([]string{"build", "--source", url}, gitFlags(t))...)
		wantContains(t, r.stderr, "Error: git: authentication required for "+url)
	})
}

// A Git source over SSH, with a key and the server's known_hosts line.
func TestBuildGitSSH(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	key, pub := gittest.NewKey(t, "key-pass")
	srv := gittest.ServeSSH(t, root, pub)
	repo := gittest.NewRepo(t, root+"/app.git", true)
	repo.CommitDir("v1", "testdata/app-v1")

	r := mustCruise(t, 0, args([]string{"build", "--source", srv.RepoURL("app.git"),
		"--ssh-key-file", writeFile(t, "id_ed25519", string(key)),
		"--ssh-passphrase-file", writeFile(t, "passphrase", "key-pass\n"),
		"--known-hosts-file", writeFile(t, "known_hosts", string(srv.KnownHosts())),
	}, gitFlags(t))...)
	wantLines(t, r.stdout, "# Source: config.yaml", "  color: blue")
	if strings.Contains(r.stdout+r.stderr, "key-pass") {
		t.Error("the passphrase was printed")
	}
}

// A local Git repository is fetched at a ref; a plain directory is read in
// place and refuses --ref.
func TestBuildLocalGitRepo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	repo := gittest.NewRepo(t, dir, false)
	repo.Tag("v1", repo.CommitDir("v1", "testdata/app-v1"))
	repo.CommitDir("v2", "testdata/app-v2")

	r := mustCruise(t, 0, args([]string{"build", "--source", dir, "--ref", "v1"}, gitFlags(t))...)
	wantLines(t, r.stdout, "  color: blue")

	r = mustCruise(t, 2, "build", "--source", "testdata/app-v1", "--ref", "v1")
	wantContains(t, r.stderr, "plain directory, not a Git repository")
}
