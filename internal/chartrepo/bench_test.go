package chartrepo_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

// BenchmarkFetch: a Fetch served from the caches against one that
// downloads (index or manifest, and the archive) every time, for a small
// chart (41 templates, under 1 KiB compressed: the figures are the
// per-request overhead, not transfer time).
func BenchmarkFetch(b *testing.B) {
	ch := chartrepotest.Chart("podinfo", "6.14.0")
	for i := range 40 {
		f := *ch.Templates[0]
		f.Name = "templates/cm" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".yaml"
		ch.Templates = append(ch.Templates, &f)
	}
	archive := chartrepotest.Package(b, ch)
	h := chartrepotest.NewHTTP(b, chartrepotest.HTTPOptions{})
	for _, v := range []string{"6.12.0", "6.13.0"} {
		h.AddChart(b, chartrepotest.Chart("podinfo", v))
	}
	h.Add(b, archive)
	o := chartrepotest.NewOCI(b, chartrepotest.OCIOptions{})
	o.Push(b, archive)
	reqs := map[string]chartrepo.Request{
		"http": {RepoURL: h.URL(), Chart: "podinfo", Version: "^6"},
		"oci":  {RepoURL: o.URL(), Chart: "podinfo", Version: "6.14.0", Auth: o.Auth()},
	}
	for _, kind := range []string{"http", "oci"} {
		req := reqs[kind]
		b.Run(kind+"/cached", func(b *testing.B) {
			c := chartrepo.NewClient(chartrepo.Options{})
			if _, err := c.Fetch(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Fetch(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kind+"/uncached", func(b *testing.B) {
			// Caches off, connections kept: what every Fetch costs after
			// the TTL, or with a cache too small.
			c := chartrepo.NewClient(chartrepo.Options{IndexTTL: -1, CacheBytes: -1})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Fetch(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Logf("archive %d bytes", len(archive))
}

// BenchmarkHundredChartsCached reports what a Client holds with 100
// chart versions of one OCI repository cached: archive bytes and the
// heap grown (archives, tag digests, transports).
func BenchmarkHundredChartsCached(b *testing.B) {
	o := chartrepotest.NewOCI(b, chartrepotest.OCIOptions{})
	var reqs []chartrepo.Request
	for i := range 100 {
		v := fmt.Sprintf("1.%d.0", i)
		o.PushChart(b, chartrepotest.Chart("app", v))
		reqs = append(reqs, chartrepo.Request{RepoURL: o.URL(), Chart: "app", Version: v, Auth: o.Auth()})
	}
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := chartrepo.NewClient(chartrepo.Options{})
		for _, r := range reqs {
			if _, err := c.Fetch(context.Background(), r); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		_, size := c.CacheStats()
		b.ReportMetric(float64(size), "archive-bytes")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)), "heap-bytes")
		runtime.KeepAlive(c)
	}
}
