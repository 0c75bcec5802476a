package chartrepo_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

var podinfoVersions = []string{"6.12.0", "6.13.0", "6.13.1", "6.14.0", "7.0.0-rc.1", "5.0.0+build.1"}

func podinfoArchives(t *testing.T) [][]byte {
	var out [][]byte
	for _, v := range podinfoVersions {
		out = append(out, chartrepotest.Package(t, chartrepotest.Chart("podinfo", v)))
	}
	return out
}

// TestFetchResolvesVersionsLikeHelm: the same requests pick the same
// versions from an HTTP repository and an OCI registry, as `helm pull
// --version` would (exact match first, highest match of a range, newest
// stable by default).
func TestFetchResolvesVersionsLikeHelm(t *testing.T) {
	cases := []struct{ version, want string }{
		{"", "6.14.0"},
		{"6.13.0", "6.13.0"},
		{">=6.12.0 <6.14.1", "6.14.0"},
		{">=6.12.0 <6.14.0", "6.13.1"},
		{"^6", "6.14.0"},
		{"~6.13", "6.13.1"},
		{"6.13", "6.13.1"},
		{">=7.0.0-0", "7.0.0-rc.1"},
		{"7.0.0-rc.1", "7.0.0-rc.1"},
		{"5.0.0+build.1", "5.0.0+build.1"},
		{"<6", "5.0.0+build.1"},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			req, digests := k.start(t, podinfoArchives(t)...)
			c := chartrepo.NewClient(chartrepo.Options{})
			for _, tc := range cases {
				r := req("podinfo")
				r.Version = tc.version
				a, err := c.Fetch(ctxT(t), r)
				if err != nil {
					t.Fatalf("version %q: %v", tc.version, err)
				}
				if a.Name != "podinfo" || a.Version != tc.want || a.AppVersion != tc.want {
					t.Errorf("version %q: got %s %s (app %s), want %s", tc.version, a.Name, a.Version, a.AppVersion, tc.want)
				}
				i := indexOf(podinfoVersions, tc.want)
				if a.Digest != digests[i] {
					t.Errorf("version %q: digest %s, want %s", tc.version, a.Digest, digests[i])
				}
				if a.Revision() != tc.want+"@"+digests[i] {
					t.Errorf("revision %q", a.Revision())
				}
				ch, err := loader.LoadArchive(bytes.NewReader(a.Data))
				if err != nil || ch.Metadata.Version != tc.want {
					t.Errorf("version %q: Helm's loader on the archive: %v", tc.version, err)
				}
			}
		})
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// TestFetchSameDigestOverHTTPAndOCI: one archive has one revision
// whichever way it is served.
func TestFetchSameDigestOverHTTPAndOCI(t *testing.T) {
	archive := chartrepotest.PackageDir(t, "testdata/hello", "")
	c := chartrepo.NewClient(chartrepo.Options{})
	var revs []string
	for _, k := range kinds {
		req, _ := k.start(t, archive)
		a, err := c.Fetch(ctxT(t), req("hello"))
		if err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		revs = append(revs, a.Revision())
	}
	if revs[0] != revs[1] || !strings.HasPrefix(revs[0], "1.0.0@sha256:") {
		t.Errorf("revisions %q", revs)
	}
}

// TestFetchOCIReferenceForms: spec.chart's repoURL + name, push mode's
// full reference (in RepoURL or in Chart), and a reference with a tag.
func TestFetchOCIReferenceForms(t *testing.T) {
	r := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{})
	for _, a := range podinfoArchives(t) {
		r.Push(t, a)
	}
	c := chartrepo.NewClient(chartrepo.Options{})
	for _, tc := range []struct {
		name string
		req  chartrepo.Request
		want string
	}{
		{"repo and name", chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo", Version: "~6.13"}, "6.13.1"},
		{"full reference", chartrepo.Request{RepoURL: r.URL() + "/podinfo"}, "6.14.0"},
		{"full reference as chart", chartrepo.Request{Chart: r.URL() + "/podinfo", Version: "6.12.0"}, "6.12.0"},
		{"reference with a tag", chartrepo.Request{RepoURL: r.URL() + "/podinfo:6.13.0"}, "6.13.0"},
		{"tag with build metadata", chartrepo.Request{RepoURL: r.URL() + "/podinfo:5.0.0_build.1"}, "5.0.0+build.1"},
		{"tag written with a plus", chartrepo.Request{RepoURL: r.URL() + "/podinfo:5.0.0+build.1"}, "5.0.0+build.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := c.Fetch(ctxT(t), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if a.Version != tc.want {
				t.Errorf("got %s, want %s", a.Version, tc.want)
			}
		})
	}
}

// TestFetchWithCredentials: basic, bearer, a custom CA and a client
// certificate, each required by the repository.
func TestFetchWithCredentials(t *testing.T) {
	archive := chartrepotest.PackageDir(t, "testdata/hello", "")
	for _, tc := range []struct {
		name string
		opts chartrepotest.HTTPOptions
	}{
		{"basic", chartrepotest.HTTPOptions{Username: "u", Password: "p4ss"}},
		{"bearer", chartrepotest.HTTPOptions{BearerToken: "t0ken"}},
		{"custom CA", chartrepotest.HTTPOptions{TLS: true}},
		{"client certificate and basic", chartrepotest.HTTPOptions{TLS: true, MutualTLS: true, Username: "u", Password: "p4ss"}},
	} {
		t.Run("http "+tc.name, func(t *testing.T) {
			r := chartrepotest.NewHTTP(t, tc.opts)
			r.Add(t, archive)
			auth, err := chartrepo.AuthFromSecret(r.SecretData())
			if tc.opts == (chartrepotest.HTTPOptions{}) {
				auth, err = chartrepo.Auth{}, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			c := chartrepo.NewClient(chartrepo.Options{})
			if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello", Auth: auth}); err != nil {
				t.Fatal(err)
			}
			// Without them: refused, not served from the cache.
			_, err = c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello"})
			if err == nil {
				t.Fatal("fetched without credentials")
			}
		})
	}
	for _, tc := range []struct {
		name string
		opts chartrepotest.OCIOptions
	}{
		{"basic", chartrepotest.OCIOptions{Username: "u", Password: "p4ss"}},
		{"custom CA and client certificate", chartrepotest.OCIOptions{TLS: true, MutualTLS: true, Username: "u", Password: "p4ss"}},
	} {
		t.Run("oci "+tc.name, func(t *testing.T) {
			r := chartrepotest.NewOCI(t, tc.opts)
			r.Push(t, archive)
			auth, err := chartrepo.AuthFromSecret(r.SecretData())
			if err != nil {
				t.Fatal(err)
			}
			c := chartrepo.NewClient(chartrepo.Options{})
			if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello", Version: "^1", Auth: auth}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello", Version: "^1"}); err == nil {
				t.Fatal("fetched without credentials")
			}
		})
	}
}

// TestCredentialsStayOnTheRepositoryHost: an archive index.yaml lists on
// another host is fetched without the repository's credentials.
func TestCredentialsStayOnTheRepositoryHost(t *testing.T) {
	r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{Username: "u", Password: "secret-pw", ArchiveHost: true})
	r.Add(t, chartrepotest.PackageDir(t, "testdata/hello", ""))
	c := chartrepo.NewClient(chartrepo.Options{})
	if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello", Auth: r.Auth()}); err != nil {
		t.Fatal(err)
	}
	got := r.ArchiveHostAuthorizations()
	if len(got) != 1 || got[0] != "" {
		t.Errorf("archive host was sent Authorization %q, want one request without", got)
	}
}

// TestFetchCaches: a hundred concurrent Fetches of one chart cost one
// index and one archive request; within the TTL nothing more; after it,
// the index again but not the archive.
func TestFetchCaches(t *testing.T) {
	r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	for _, a := range podinfoArchives(t) {
		r.Add(t, a)
	}
	var mu sync.Mutex
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := chartrepo.NewClient(chartrepo.Options{Now: clock})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			_, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo", Version: "^6"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	archive := "/charts/podinfo-6.14.0.tgz"
	if n, m := r.Requests("/index.yaml"), r.Requests(archive); n != 1 || m != 1 {
		t.Fatalf("100 concurrent fetches: %d index and %d archive requests, want 1 and 1", n, m)
	}
	if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo", Version: "6.14.0"}); err != nil {
		t.Fatal(err)
	}
	if n := r.Requests("/index.yaml"); n != 1 {
		t.Errorf("within the TTL: %d index requests, want 1", n)
	}
	mu.Lock()
	now = now.Add(chartrepo.DefaultIndexTTL + time.Second)
	mu.Unlock()
	if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo", Version: "6.14.0"}); err != nil {
		t.Fatal(err)
	}
	if n, m := r.Requests("/index.yaml"), r.Requests(archive); n != 2 || m != 1 {
		t.Errorf("after the TTL: %d index and %d archive requests, want 2 and 1", n, m)
	}
	if n, size := c.CacheStats(); n != 1 || size == 0 {
		t.Errorf("cache holds %d archives (%d bytes), want 1", n, size)
	}
}

// TestFetchOCICaches: a hundred Fetches of one exact version cost one
// manifest and one blob request between them.
func TestFetchOCICaches(t *testing.T) {
	r := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{})
	r.PushChart(t, chartrepotest.Chart("podinfo", "6.14.0"))
	c := chartrepo.NewClient(chartrepo.Options{})
	before := r.Registry.Requests()
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo", Version: "6.14.0"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Ping, manifest, blob: a handful, not hundreds.
	if n := r.Registry.Requests() - before; n > 6 {
		t.Errorf("100 fetches made %d registry requests", n)
	}
}

// TestArchiveCacheIsBoundedInBytes: the LRU drops the least recently
// used archives past CacheBytes.
func TestArchiveCacheIsBoundedInBytes(t *testing.T) {
	r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	archives := podinfoArchives(t)
	for _, a := range archives {
		r.Add(t, a)
	}
	limit := int64(len(archives[0])*2 + len(archives[0])/2)
	c := chartrepo.NewClient(chartrepo.Options{CacheBytes: limit})
	for _, v := range podinfoVersions[:4] {
		if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo", Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	n, size := c.CacheStats()
	if n != 2 || size > limit {
		t.Errorf("cache holds %d archives, %d bytes; want 2 within %d", n, size, limit)
	}
	// The oldest was dropped: fetching it again downloads it again.
	if _, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo", Version: podinfoVersions[0]}); err != nil {
		t.Fatal(err)
	}
	if m := r.Requests("/charts/podinfo-6.12.0.tgz"); m != 2 {
		t.Errorf("evicted archive fetched %d times, want 2", m)
	}
}
