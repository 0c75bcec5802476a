package source

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// packs lists the pack files of url's cache clone.
func packs(t *testing.T, f *Fetcher, url string) []string {
	t.Helper()
	loc, err := parseLocation(url)
	if err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(f.Options().CacheDir, "repos", loc.cacheDirName(), "objects", "pack", "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestFetchCache(t *testing.T) {
	root := t.TempDir()
	r := gittest.NewRepo(t, filepath.Join(root, "repo.git"), true)
	c1 := r.CommitDir("release v1", "testdata/app-v1")
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	url := srv.RepoURL("repo.git")
	f := newFetcher(t, Options{})

	first := mustFetch(t, f, Request{URL: url})
	if got := srv.Counts(); got.UploadPack != 1 {
		t.Fatalf("first fetch: %+v, want one object transfer", got)
	}
	firstPacks := packs(t, f, url)

	t.Run("unchanged remote costs one round trip", func(t *testing.T) {
		srv.ResetCounts()
		again := mustFetch(t, f, Request{URL: url})
		if got, want := srv.Counts(), (gittest.Counts{InfoRefs: 1}); got != want {
			t.Errorf("requests = %+v, want %+v", got, want)
		}
		if again.Commit != c1 || again.Dir != first.Dir {
			t.Errorf("got %s in %s, want %s in %s", again.Commit, again.Dir, c1, first.Dir)
		}
		if got := packs(t, f, url); !slices.Equal(got, firstPacks) {
			t.Errorf("packs changed from %v to %v", firstPacks, got)
		}
	})

	t.Run("new commit is fetched incrementally", func(t *testing.T) {
		c2 := r.CommitDir("release v2", "testdata/app-v2")
		srv.ResetCounts()
		a := mustFetch(t, f, Request{URL: url})
		if a.Commit != c2 || a.Revision != "main@sha1:"+c2 {
			t.Fatalf("got %s (%s), want %s", a.Commit, a.Revision, c2)
		}
		if got := readFile(t, a.Dir, "app/config.yaml"); got != "version: v2\n" {
			t.Errorf("config = %q", got)
		}
		if got := readFile(t, a.Dir, "app/extra.yaml"); got != "kind: Extra\n" {
			t.Errorf("extra = %q", got)
		}
		if got := srv.Counts(); got.UploadPack != 1 {
			t.Errorf("requests = %+v, want one object transfer", got)
		}
		// The clone was updated in place: the first pack is still there,
		// next to a new one holding only the new objects.
		got := packs(t, f, url)
		if len(got) != len(firstPacks)+1 || !slices.Contains(got, firstPacks[0]) {
			t.Errorf("packs = %v, want %v plus one", got, firstPacks)
		}
		// The old checkout is untouched.
		if got := readFile(t, first.Dir, "app/config.yaml"); got != "version: v1\n" {
			t.Errorf("old checkout changed: %q", got)
		}
	})
}

func TestFetchCommitIntoEmptyCache(t *testing.T) {
	root := t.TempDir()
	h := newHistory(t, filepath.Join(root, "repo.git"), true)
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	f := newFetcher(t, Options{})
	a := mustFetch(t, f, Request{URL: srv.RepoURL("repo.git"), Ref: Ref{Commit: h.c2}})
	if a.Commit != h.c2 || a.Revision != "sha1:"+h.c2 {
		t.Errorf("got %s %s", a.Commit, a.Revision)
	}
}

func TestFetchConcurrent(t *testing.T) {
	rootA, rootB := t.TempDir(), t.TempDir()
	h := newHistory(t, filepath.Join(rootA, "a.git"), true)
	b := gittest.NewRepo(t, filepath.Join(rootB, "b.git"), true)
	bHead := b.CommitDir("b", "testdata/app-v3")
	srvA := gittest.ServeHTTP(t, rootA, gittest.HTTPOptions{})
	srvB := gittest.ServeHTTP(t, rootB, gittest.HTTPOptions{})
	f := newFetcher(t, Options{})

	reqs := []struct {
		req  Request
		want string
	}{
		{Request{URL: srvA.RepoURL("a.git")}, h.c4},
		{Request{URL: srvA.RepoURL("a.git"), Ref: Ref{Tag: "v1.0.0"}}, h.c1},
		{Request{URL: srvB.RepoURL("b.git")}, bHead},
		// The same repository by path and by file URL: two writers of
		// one checkout directory racing to rename it into place.
		{Request{URL: filepath.Join(rootA, "a.git")}, h.c4},
		{Request{URL: "file://" + filepath.Join(rootA, "a.git")}, h.c4},
	}
	const perReq = 4
	var wg sync.WaitGroup
	errs := make(chan error, len(reqs)*perReq)
	for _, rc := range reqs {
		for range perReq {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := f.Fetch(t.Context(), rc.req)
				switch {
				case err != nil:
					errs <- err
				case a.Commit != rc.want:
					errs <- &gitError{msg: "got " + a.Commit + " want " + rc.want}
				default:
					if _, err := os.Stat(filepath.Join(a.Dir, "app", "config.yaml")); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Without the per-URL lock every goroutine would clone. With it, b.git
	// is cloned once; a.git once, plus once more if the tag (an ancestor
	// of main) happened to be fetched first.
	if got := srvA.Counts(); got.UploadPack < 1 || got.UploadPack > 2 {
		t.Errorf("a.git requests = %+v, want one or two object transfers", got)
	}
	if got := srvB.Counts(); got.UploadPack != 1 {
		t.Errorf("b.git requests = %+v, want one object transfer", got)
	}
	if got := checkoutEntries(t, f); len(got) != 3 {
		t.Errorf("checkouts = %v, want one per commit (3)", got)
	}
}
