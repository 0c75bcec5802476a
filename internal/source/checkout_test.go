package source

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

func TestCheckoutModes(t *testing.T) {
	dir := t.TempDir()
	r := gittest.NewRepo(t, dir, true)
	r.CommitFiles("modes", map[string]gittest.File{
		"app/config.yaml": {Content: "version: v1\n"},
		"bin/run.sh":      gittest.Executable("#!/bin/sh\n"),
		"link.yaml":       gittest.Symlink("app/config.yaml"),
		"dirlink":         gittest.Symlink("app"),
		"escape":          gittest.Symlink("../../../etc/passwd"),
		"absolute":        gittest.Symlink("/etc/passwd"),
	})
	f := newFetcher(t, Options{})
	a := mustFetch(t, f, Request{URL: dir})

	// Symlinks stay symlinks with their target verbatim, escaping or not:
	// judging them is the renderer's job.
	for name, target := range map[string]string{
		"link.yaml": "app/config.yaml",
		"dirlink":   "app",
		"escape":    "../../../etc/passwd",
		"absolute":  "/etc/passwd",
	} {
		fi, err := os.Lstat(filepath.Join(a.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s has mode %s, want a symlink", name, fi.Mode())
			continue
		}
		if got, _ := os.Readlink(filepath.Join(a.Dir, name)); got != target {
			t.Errorf("%s -> %q, want %q", name, got, target)
		}
	}
	for name, want := range map[string]fs.FileMode{
		"app/config.yaml": 0o444,
		"bin/run.sh":      0o555,
		"app":             fs.ModeDir | 0o755,
		".":               fs.ModeDir | 0o755,
	} {
		fi, err := os.Lstat(filepath.Join(a.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %s, want %s", name, fi.Mode(), want)
		}
	}
}

func TestCheckoutRejected(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]gittest.File
		opts    Options
		wantErr error
		wantMsg string
	}{
		{
			name:  "file over MaxFileBytes",
			files: map[string]gittest.File{"small": {Content: "123"}, "big/blob.bin": {Content: strings.Repeat("x", 11)}},
			opts:  Options{MaxFileBytes: 10}, wantErr: ErrTooLarge,
			wantMsg: `file "big/blob.bin" in commit`,
		},
		{
			name:  "total over MaxTotalBytes",
			files: map[string]gittest.File{"a": {Content: "123456"}, "b/c": {Content: "123456"}},
			opts:  Options{MaxTotalBytes: 10}, wantErr: ErrTooLarge,
			wantMsg: `over the 10-byte total limit (MaxTotalBytes) at file "b/c"`,
		},
		{
			name:    "dot-dot entry",
			files:   map[string]gittest.File{"ok": {Content: "x"}, "../evil": {Content: "x"}},
			wantErr: ErrUnsafePath, wantMsg: `unsafe path ".."`,
		},
		{
			name:    "nested dot-dot entry",
			files:   map[string]gittest.File{"a/../../evil": {Content: "x"}},
			wantErr: ErrUnsafePath, wantMsg: `unsafe path "a/.."`,
		},
		{
			name:    ".git entry",
			files:   map[string]gittest.File{".git/hooks/post-checkout": gittest.Executable("x")},
			wantErr: ErrUnsafePath, wantMsg: `unsafe path ".git"`,
		},
		{
			name:    "upper-case .GIT entry",
			files:   map[string]gittest.File{"sub/.GIT/config": {Content: "x"}},
			wantErr: ErrUnsafePath, wantMsg: `unsafe path "sub/.GIT"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "repo")
			gittest.NewRepo(t, dir, true).CommitFiles(tc.name, tc.files)
			tc.opts.CacheDir = filepath.Join(base, "cache")
			f := newFetcher(t, tc.opts)
			_, err := f.Fetch(t.Context(), Request{URL: dir})
			wantErr(t, err, tc.wantErr, tc.wantMsg)
			if got := checkoutEntries(t, f); len(got) != 0 {
				t.Errorf("checkouts left behind: %v", got)
			}
			if _, err := os.Lstat(filepath.Join(base, "evil")); err == nil {
				t.Errorf("a file was written outside the checkout")
			}
		})
	}
}

func TestNewFetcherRemovesStaleCheckouts(t *testing.T) {
	cache := t.TempDir()
	stale := filepath.Join(cache, "checkouts", ".tmp-0123456789ab-42")
	if err := os.MkdirAll(filepath.Join(stale, "half"), 0o755); err != nil {
		t.Fatal(err)
	}
	newFetcher(t, Options{CacheDir: cache})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale checkout %s still there (%v)", stale, err)
	}
}
