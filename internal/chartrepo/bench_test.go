package chartrepo_test

import (
	"context"
	"testing"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

// BenchmarkFetch: a Fetch served from the caches against one that
// downloads (index or manifest, and the archive) every time, for a
// podinfo-sized chart (~15 KiB archive of 40 templates).
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
