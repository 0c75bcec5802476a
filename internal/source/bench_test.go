package source

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// BenchmarkStorage1000Commits is the operator's life with one busy
// repository: 1,000 commits, each fetched over HTTP (loopback) and checked
// out, the new checkout held as the current artifact, the previous commit
// kept as an Application's last applied revision, and Collect run after
// each fetch, as the controller does. The repository has 60 files of 2 KiB
// in 6 directories; each commit changes one file. It reports the disk use
// after the first and the last commit, the peak, the time per commit
// (fetch, checkout, collection) over the first and the last hundred
// commits, and the slowest collection (one that merged packs): disk use
// and time stay flat.
func BenchmarkStorage1000Commits(b *testing.B) {
	const commits = 1000
	for range b.N {
		root := b.TempDir()
		repo := gittest.NewRepo(b, filepath.Join(root, "env.git"), true)
		srv := gittest.ServeHTTP(b, root, gittest.HTTPOptions{})
		url := srv.RepoURL("env.git")
		f, err := NewFetcher(Options{CacheDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		files := map[string]string{}
		for i := range 60 {
			files[fmt.Sprintf("apps/app%d/file%d.yaml", i%6, i)] = strings.Repeat(fmt.Sprintf("key%d: initial value\n", i), 90)
		}

		var current *Artifact
		var lastApplied string
		var start, peak int64
		var firstHundred, lastHundred, slowestCollect time.Duration
		for n := range commits {
			files[fmt.Sprintf("apps/app%d/file%d.yaml", n%6, n%60)] = strings.Repeat(fmt.Sprintf("key: value of commit %d\n", n), 90)
			repo.Commit(fmt.Sprintf("commit %d", n), files)

			t0 := time.Now()
			a, err := f.Fetch(b.Context(), Request{URL: url})
			if err != nil {
				b.Fatal(err)
			}
			current.Release()
			current = a
			peak = max(peak, f.Usage().Bytes)
			t1 := time.Now()
			if _, err := f.Collect(b.Context(), Keep{Commits: []string{lastApplied}, URLs: []string{url}}); err != nil {
				b.Fatal(err)
			}
			slowestCollect = max(slowestCollect, time.Since(t1))
			lastApplied = a.Commit
			switch d := time.Since(t0); {
			case n < 100:
				firstHundred += d
			case n >= commits-100:
				lastHundred += d
			}
			if n == 0 {
				start = f.Usage().Bytes
			}
		}
		end := f.Usage()
		b.ReportMetric(float64(start), "bytes-after-1-commit")
		b.ReportMetric(float64(end.Bytes), "bytes-after-1000-commits")
		b.ReportMetric(float64(peak), "peak-bytes")
		b.ReportMetric(float64(end.Checkouts), "checkouts-at-end")
		packFiles, _ := filepath.Glob(filepath.Join(f.Options().CacheDir, "repos", "*", "objects", "pack", "*.pack"))
		b.ReportMetric(float64(len(packFiles)), "packs-at-end")
		b.ReportMetric(float64(firstHundred.Milliseconds())/100, "ms/commit-first-100")
		b.ReportMetric(float64(lastHundred.Milliseconds())/100, "ms/commit-last-100")
		b.ReportMetric(float64(slowestCollect.Milliseconds()), "ms-slowest-collect")
		current.Release()
	}
}
