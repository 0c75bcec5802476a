package source

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

func TestChangedPaths(t *testing.T) {
	root := t.TempDir()
	h := newHistory(t, filepath.Join(root, "repo.git"), true)
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	f := newFetcher(t, Options{})
	// Fetching main brings its whole history into the cache.
	mustFetch(t, f, Request{URL: srv.RepoURL("repo.git")})

	tests := []struct {
		name     string
		from, to string
		want     []string
	}{
		{"file added", h.c1, h.c2, []string{"app/config.yaml", "app/extra.yaml"}},
		{"added, removed, modified", h.c3, h.c4, []string{"README.md", "app/config.yaml", "app/extra.yaml", "other/notes.txt"}},
		{"backwards", h.c2, h.c1, []string{"app/config.yaml", "app/extra.yaml"}},
		{"same commit", h.c2, h.c2, nil},
		{"from nothing", "", h.c1, []string{"README.md", "app/config.yaml"}},
	}
	for _, url := range []string{srv.RepoURL("repo.git"), filepath.Join(root, "repo.git")} {
		for _, tc := range tests {
			t.Run(tc.name+" "+url, func(t *testing.T) {
				got, err := f.ChangedPaths(t.Context(), url, tc.from, tc.to)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			})
		}
	}

	t.Run("unknown commit", func(t *testing.T) {
		_, err := f.ChangedPaths(t.Context(), srv.RepoURL("repo.git"), h.c1, "0123456789abcdef0123456789abcdef01234567")
		wantErr(t, err, ErrRefNotFound, "is not in the cache of "+srv.RepoURL("repo.git"))
	})
	t.Run("never fetched", func(t *testing.T) {
		_, err := f.ChangedPaths(t.Context(), srv.RepoURL("other.git"), h.c1, h.c2)
		wantErr(t, err, ErrRefNotFound, "has not been fetched yet")
	})
	t.Run("short SHA", func(t *testing.T) {
		_, err := f.ChangedPaths(t.Context(), srv.RepoURL("repo.git"), h.c1[:7], h.c2)
		wantErr(t, err, ErrInvalid, "not a full 40-hex SHA")
	})
}
