package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// exists reports whether the checkout of a is on disk.
func exists(t *testing.T, a *Artifact) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(a.Dir, "app", "config.yaml"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// onDisk measures the cache as du would: everything under checkouts/
// and repos/, without those two directories themselves.
func onDisk(t *testing.T, f *Fetcher) int64 {
	t.Helper()
	var total int64
	for _, sub := range []string{"checkouts", "repos"} {
		entries, err := os.ReadDir(filepath.Join(f.Options().CacheDir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			n, err := diskUsage(filepath.Join(f.Options().CacheDir, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	return total
}

func mustCollect(t *testing.T, f *Fetcher, keep Keep) Collection {
	t.Helper()
	c, err := f.Collect(context.Background(), keep)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return c
}

func TestCollectKeepsWhatIsUsed(t *testing.T) {
	dir := t.TempDir()
	h := newHistory(t, dir, true)
	f := newFetcher(t, Options{})
	fetch := func(sha string) *Artifact { return mustFetch(t, f, Request{URL: dir, Ref: Ref{Commit: sha}}) }
	released, kept, held := fetch(h.c1), fetch(h.c2), fetch(h.c3)
	released.Release()
	kept.Release()
	before := f.Usage()
	if before.Checkouts != 3 || before.Bytes != onDisk(t, f) {
		t.Fatalf("usage %+v, want 3 checkouts and %d bytes (du)", before, onDisk(t, f))
	}

	c := mustCollect(t, f, Keep{Commits: []string{h.c2}})
	if exists(t, released) || !exists(t, kept) || !exists(t, held) {
		t.Errorf("after Collect: released %v, kept %v, held %v; want only the released one gone",
			exists(t, released), exists(t, kept), exists(t, held))
	}
	if c.RemovedCheckouts != 1 || c.FreedBytes <= 0 || c.Usage.Checkouts != 2 || c.Usage.Bytes != before.Bytes-c.FreedBytes {
		t.Errorf("collection %+v after usage %+v", c, before)
	}
	if got := c.Usage.Bytes; got != onDisk(t, f) {
		t.Errorf("usage says %d bytes, du %d", got, onDisk(t, f))
	}

	// Released, the last one goes too; fetching it again brings it back.
	held.Release()
	held.Release() // twice is harmless
	mustCollect(t, f, Keep{Commits: []string{h.c2}})
	if exists(t, held) || !exists(t, kept) {
		t.Errorf("after release: held %v, kept %v", exists(t, held), exists(t, kept))
	}
	if again := fetch(h.c3); !exists(t, again) || f.Usage().Checkouts != 2 {
		t.Errorf("refetch: exists %v, usage %+v", exists(t, again), f.Usage())
	}
	if got := checkoutEntries(t, f); len(got) != 2 {
		t.Errorf("checkouts directory holds %v, want two checkouts and nothing else", got)
	}

	// A new Fetcher on the same directory counts what is there.
	if got, want := newFetcher(t, Options{CacheDir: f.Options().CacheDir}).Usage(), f.Usage(); got != want {
		t.Errorf("usage after restart %+v, want %+v", got, want)
	}
}

func TestCollectNeverRemovesACheckoutBeingRead(t *testing.T) {
	dir := t.TempDir()
	h := newHistory(t, dir, true)
	f := newFetcher(t, Options{})
	commits := []string{h.c1, h.c2, h.c3, h.c4}

	// A second holder (Hold) keeps the checkout after the first lets go.
	a := mustFetch(t, f, Request{URL: dir, Ref: Ref{Commit: h.c1}})
	reader := a.Hold()
	a.Release()
	mustCollect(t, f, Keep{})
	if !exists(t, reader) {
		t.Fatal("Collect removed a checkout a reader holds")
	}
	reader.Release()
	mustCollect(t, f, Keep{})
	if exists(t, reader) {
		t.Fatal("Collect left a checkout nobody holds or keeps")
	}

	// Fetches publishing checkouts, readers reading them, and Collect
	// removing everything it may, all at once.
	ctx, stop := context.WithCancel(context.Background())
	var collector sync.WaitGroup
	collector.Add(1)
	go func() {
		defer collector.Done()
		for ctx.Err() == nil {
			if _, err := f.Collect(ctx, Keep{}); err != nil && ctx.Err() == nil {
				t.Errorf("Collect: %v", err)
			}
		}
	}()
	var readers sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for j := range 25 {
				sha := commits[(i+j)%len(commits)]
				a, err := f.Fetch(ctx, Request{URL: dir, Ref: Ref{Commit: sha}})
				if err != nil {
					errs <- err
					return
				}
				second := a.Hold()
				a.Release()
				// Read for a while, giving the collector every chance.
				for range 20 {
					if _, err := os.ReadFile(filepath.Join(second.Dir, "app", "config.yaml")); err != nil {
						errs <- fmt.Errorf("read checkout of %s: %w", sha[:8], err)
						break
					}
				}
				second.Release()
			}
		}()
	}
	readers.Wait()
	stop()
	collector.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustCollect(t, f, Keep{})
	if got := checkoutEntries(t, f); len(got) != 0 || f.Usage().Checkouts != 0 {
		t.Errorf("after every reader released: checkouts %v, usage %+v", got, f.Usage())
	}
}

func TestCollectClones(t *testing.T) {
	root := t.TempDir()
	gittest.NewRepo(t, filepath.Join(root, "kept.git"), true).CommitDir("v1", "testdata/app-v1")
	gone := gittest.NewRepo(t, filepath.Join(root, "gone.git"), true)
	gone.CommitDir("v1", "testdata/app-v2")
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	kept, unused := srv.RepoURL("kept.git"), srv.RepoURL("gone.git")
	f := newFetcher(t, Options{})
	mustFetch(t, f, Request{URL: kept}).Release()
	mustFetch(t, f, Request{URL: unused}).Release()
	if got := f.Usage().Clones; got != 2 {
		t.Fatalf("usage counts %d clones, want 2", got)
	}

	// Fetched since the last collection: it stays once, in case the
	// caller listed what is in use before that fetch began.
	keep := Keep{URLs: []string{kept, "/a/local/path", "::not a url"}}
	if c := mustCollect(t, f, keep); c.RemovedClones != 0 || len(packs(t, f, unused)) == 0 {
		t.Fatalf("a clone used since the last collection was removed: %+v", c)
	}
	c := mustCollect(t, f, keep)
	if c.RemovedClones != 1 || len(packs(t, f, unused)) != 0 || len(packs(t, f, kept)) == 0 {
		t.Errorf("second collection %+v: packs of the unused clone %v, of the kept one %v",
			c, packs(t, f, unused), packs(t, f, kept))
	}
	if c.Usage.Clones != 1 || c.Usage.Bytes != onDisk(t, f) {
		t.Errorf("usage %+v, du %d", c.Usage, onDisk(t, f))
	}
	// A removed clone is cloned again when it is needed again.
	c2 := gone.CommitDir("v2", "testdata/app-v3")
	if a := mustFetch(t, f, Request{URL: unused}); a.Commit != c2 {
		t.Errorf("refetch got %s, want %s", a.Commit, c2)
	}
}

func TestStorageLimit(t *testing.T) {
	root := t.TempDir()
	r := gittest.NewRepo(t, filepath.Join(root, "repo.git"), true)
	c1 := r.Commit("one", map[string]string{"app/config.yaml": strings.Repeat("one\n", 20000)})
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	url := srv.RepoURL("repo.git")

	// Measure one clone and checkout without a limit, then allow a bit
	// more than that.
	probe := newFetcher(t, Options{})
	mustFetch(t, probe, Request{URL: url})
	one := probe.Usage().Bytes
	f := newFetcher(t, Options{StorageLimit: one + one/4})

	first := mustFetch(t, f, Request{URL: url})
	if first.Commit != c1 {
		t.Fatalf("got %s, want %s", first.Commit, c1)
	}
	c2 := r.Commit("two", map[string]string{"app/config.yaml": strings.Repeat("two\n", 20000)})
	_, err := f.Fetch(t.Context(), Request{URL: url})
	wantErr(t, err, ErrStorageFull, "storage limit of "+formatBytes(one+one/4))
	if !strings.Contains(err.Error(), c2[:7]) || !strings.Contains(err.Error(), url) {
		t.Errorf("error %q names neither the commit nor the repository", err)
	}
	select {
	case <-f.LimitReached():
	default:
		t.Error("LimitReached got nothing")
	}
	if got := checkoutEntries(t, f); len(got) != 1 {
		t.Errorf("a refused checkout left %v", got)
	}

	// Once the old checkout is collected there is room again.
	first.Release()
	mustCollect(t, f, Keep{URLs: []string{url}})
	if a := mustFetch(t, f, Request{URL: url}); a.Commit != c2 {
		t.Errorf("after collection got %s, want %s", a.Commit, c2)
	}

	// At the limit already, a fetch is refused before anything is
	// downloaded.
	tight := newFetcher(t, Options{StorageLimit: 1})
	_, err = tight.Fetch(t.Context(), Request{URL: url})
	wantErr(t, err, ErrStorageFull, "checkout of commit")
	r.Commit("three", map[string]string{"app/config.yaml": "three\n"})
	srv.ResetCounts()
	_, err = tight.Fetch(t.Context(), Request{URL: url})
	wantErr(t, err, ErrStorageFull, "fetching "+url+" refused")
	if got := srv.Counts(); got.UploadPack != 0 {
		t.Errorf("requests %+v, want no object transfer", got)
	}
}

func TestCollectCompactsPacks(t *testing.T) {
	root := t.TempDir()
	r := gittest.NewRepo(t, filepath.Join(root, "repo.git"), true)
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	url := srv.RepoURL("repo.git")
	f := newFetcher(t, Options{})
	f.maxPacks = 4

	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("app/f%d.yaml", i)] = strings.Repeat(fmt.Sprintf("base %d\n", i), 200)
	}
	var commits []string
	compacted := 0
	for i := range 20 {
		files[fmt.Sprintf("app/f%d.yaml", i%10)] = strings.Repeat(fmt.Sprintf("commit %d\n", i), 200)
		commits = append(commits, r.Commit(fmt.Sprintf("commit %d", i), files))
		mustFetch(t, f, Request{URL: url}).Release()
		c := mustCollect(t, f, Keep{URLs: []string{url}})
		compacted += c.CompactedClones
		if n := len(packs(t, f, url)); n > f.maxPacks {
			t.Fatalf("after commit %d: %d packs, want at most %d", i, n, f.maxPacks)
		}
		if c.Usage.Bytes != onDisk(t, f) {
			t.Fatalf("after commit %d: usage %d, du %d", i, c.Usage.Bytes, onDisk(t, f))
		}
	}
	if compacted == 0 {
		t.Fatal("no compaction in 20 fetches")
	}
	// Every commit is still readable from the clone, without the network.
	changed, err := f.ChangedPaths(t.Context(), url, commits[0], commits[len(commits)-1])
	if err != nil || len(changed) != 10 {
		t.Errorf("ChangedPaths over the compacted history: %v, %v", changed, err)
	}
	srv.ResetCounts()
	for _, sha := range commits {
		a := mustFetch(t, f, Request{URL: url, Ref: Ref{Commit: sha}})
		if got := readFile(t, a.Dir, "app/f0.yaml"); !strings.HasPrefix(got, "commit ") {
			t.Errorf("checkout of %s has f0.yaml starting %q", sha[:8], got[:20])
		}
		a.Release()
	}
	if got := srv.Counts(); got.UploadPack != 0 {
		t.Errorf("checking out old commits fetched objects again: %+v", got)
	}
}

func TestGeometricTail(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int64
		want  []int64
	}{
		{"one large clone and small fetches", []int64{1, 100, 1, 1}, []int64{1, 1, 1}},
		{"all alike", []int64{10, 10, 10}, []int64{10, 10, 10}},
		{"a large and a middle pack stay", []int64{1, 30, 1, 100, 1, 1, 1}, []int64{1, 1, 1, 1, 1}},
		{"large first pack outgrown", []int64{100, 60, 1}, []int64{100, 60, 1}},
		{"already geometric: the two smallest", []int64{64, 16, 4, 1}, []int64{4, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var packs []pack
			for _, s := range tc.sizes {
				packs = append(packs, pack{size: s})
			}
			var got []int64
			for _, p := range geometricTail(packs) {
				got = append(got, p.size)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("merge %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompactionBetweenFetchAndCheckout(t *testing.T) {
	root := t.TempDir()
	r := gittest.NewRepo(t, filepath.Join(root, "repo.git"), true)
	r.Commit("one", map[string]string{"app/config.yaml": "one\n", "app/other.yaml": "same\n"})
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	url := srv.RepoURL("repo.git")
	f := newFetcher(t, Options{})
	f.maxPacks = 1
	mustFetch(t, f, Request{URL: url}).Release()
	c2 := r.Commit("two", map[string]string{"app/config.yaml": "two\n", "app/other.yaml": "same\n"})

	// The fetch of c2 adds a second pack; a collection merges both and
	// deletes them after the fetch let go of the clone, before its
	// checkout reads the objects.
	var compacted Collection
	f.afterFetch = func() {
		f.afterFetch = nil
		compacted = mustCollect(t, f, Keep{URLs: []string{url}})
	}
	a := mustFetch(t, f, Request{URL: url})
	if compacted.CompactedClones != 1 || len(packs(t, f, url)) != 1 {
		t.Fatalf("no compaction between fetch and checkout: %+v, packs %v", compacted, packs(t, f, url))
	}
	if a.Commit != c2 || readFile(t, a.Dir, "app/config.yaml") != "two\n" || readFile(t, a.Dir, "app/other.yaml") != "same\n" {
		t.Errorf("checkout of %s after compaction is wrong", a.Commit)
	}
}
