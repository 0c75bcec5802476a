package source

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in          string
		wantKind    transportKind
		wantDisplay string
		wantHost    string
		wantErr     string
	}{
		{in: "https://github.com/org/repo.git", wantKind: kindHTTP, wantDisplay: "https://github.com/org/repo.git"},
		{in: "https://x-token:ghp_secret@github.com/org/repo", wantKind: kindHTTP, wantDisplay: "https://github.com/org/repo"},
		{in: "http://ghp_secret@127.0.0.1:8080/repo", wantKind: kindHTTP, wantDisplay: "http://127.0.0.1:8080/repo"},
		{in: "ssh://git@example.com:2222/org/repo.git", wantKind: kindSSH, wantDisplay: "ssh://git@example.com:2222/org/repo.git", wantHost: "example.com:2222"},
		{in: "ssh://git:pw@example.com/repo.git", wantKind: kindSSH, wantDisplay: "ssh://git@example.com/repo.git", wantHost: "example.com:22"},
		{in: "git@github.com:org/repo.git", wantKind: kindSSH, wantDisplay: "git@github.com:org/repo.git", wantHost: "github.com:22"},
		{in: "github.com:org/repo.git", wantKind: kindSSH, wantDisplay: "github.com:org/repo.git", wantHost: "github.com:22"},
		{in: "file:///srv/git/repo.git", wantKind: kindLocal, wantDisplay: "file:///srv/git/repo.git"},
		{in: "/srv/git/repo.git", wantKind: kindLocal, wantDisplay: "/srv/git/repo.git"},
		{in: "./repo:with-colon", wantKind: kindLocal, wantDisplay: "./repo:with-colon"},
		{in: "git://example.com/repo.git", wantErr: `unsupported scheme "git"`},
		{in: "ftp://user:pw@example.com/repo.git", wantErr: `unsupported scheme "ftp" in ftp://example.com/repo.git`},
		{in: "https://", wantErr: "has no host"},
		{in: "", wantErr: "empty repository URL"},
		{in: "https://user:pa ss@exa mple.com/%zz", wantErr: `"https://***@exa mple.com/%zz" cannot be parsed`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			loc, err := parseLocation(tc.in)
			if tc.wantErr != "" {
				wantErr(t, err, ErrInvalid, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if loc.kind != tc.wantKind || loc.display != tc.wantDisplay || loc.hostPort != tc.wantHost {
				t.Errorf("got kind %d display %q host %q", loc.kind, loc.display, loc.hostPort)
			}
		})
	}
}

func TestCacheKeyNormalization(t *testing.T) {
	same := [][]string{
		{"https://GitHub.com/org/repo.git", "https://github.com/org/repo.git/", "https://user:token@github.com/org/repo.git"},
		{"ssh://github.com/org/repo.git", "ssh://git@github.com/org/repo.git"},
	}
	for _, group := range same {
		var first string
		for i, u := range group {
			loc, err := parseLocation(u)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = loc.cacheDirName()
			} else if loc.cacheDirName() != first {
				t.Errorf("%s and %s have different cache directories", group[0], u)
			}
		}
	}
	a, _ := parseLocation("https://github.com/org/a.git")
	b, _ := parseLocation("https://github.com/org/b.git")
	if a.cacheDirName() == b.cacheDirName() {
		t.Error("different repositories share a cache directory")
	}
}

func TestIsLocalDir(t *testing.T) {
	plain := t.TempDir()
	bare := filepath.Join(t.TempDir(), "bare.git")
	gittest.NewRepo(t, bare, true)
	work := filepath.Join(t.TempDir(), "work")
	gittest.NewRepo(t, work, false)
	file := filepath.Join(plain, "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want bool
	}{
		{plain, true},
		{"file://" + plain, true},
		{bare, false},
		{work, false},
		{"file://" + work, false},
		{file, false},
		{filepath.Join(plain, "missing"), false},
		{"https://example.com/repo.git", false},
	}
	for _, tc := range tests {
		if got := IsLocalDir(tc.in); got != tc.want {
			t.Errorf("IsLocalDir(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
