package chartrepo_test

import (
	"archive/tar"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestUnreachableRepository(t *testing.T) {
	addr := closedPort(t)
	c := chartrepo.NewClient(chartrepo.Options{})
	for _, tc := range []struct {
		req  chartrepo.Request
		want string
	}{
		{chartrepo.Request{RepoURL: "http://" + addr, Chart: "podinfo"}, "http://" + addr},
		{chartrepo.Request{RepoURL: "oci://" + addr + "/charts", Chart: "podinfo", Version: "1.0.0", Auth: chartrepo.Auth{PlainHTTP: true}}, "oci://" + addr + "/charts/podinfo"},
		{chartrepo.Request{RepoURL: "http://u:hunter2@" + addr, Chart: "podinfo"}, "http://" + addr},
	} {
		_, err := c.Fetch(ctxT(t), tc.req)
		wantError(t, err, chartrepo.ErrUnreachable, []string{tc.want, "refused"}, "hunter2")
	}
}

func TestUnauthorized(t *testing.T) {
	archive := chartrepotest.PackageDir(t, "testdata/hello", "")
	h := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{Username: "u", Password: "right-pw"})
	h.Add(t, archive)
	b := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{BearerToken: "right-token"})
	b.Add(t, archive)
	o := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{Username: "u", Password: "right-pw"})
	o.Push(t, archive)
	c := chartrepo.NewClient(chartrepo.Options{})
	for _, tc := range []struct {
		name string
		req  chartrepo.Request
		want string
	}{
		{"http basic", chartrepo.Request{RepoURL: h.URL(), Chart: "hello", Auth: chartrepo.Auth{Username: "u", Password: "wrong-pw"}}, h.URL()},
		{"http anonymous", chartrepo.Request{RepoURL: h.URL(), Chart: "hello"}, h.URL()},
		{"http bearer", chartrepo.Request{RepoURL: b.URL(), Chart: "hello", Auth: chartrepo.Auth{BearerToken: "wrong-token"}}, b.URL()},
		{"oci exact", chartrepo.Request{RepoURL: o.URL(), Chart: "hello", Version: "1.0.0", Auth: chartrepo.Auth{Username: "u", Password: "wrong-pw"}}, o.URL() + "/hello"},
		{"oci range", chartrepo.Request{RepoURL: o.URL(), Chart: "hello", Auth: chartrepo.Auth{Username: "u", Password: "wrong-pw"}}, o.URL() + "/hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Fetch(ctxT(t), tc.req)
			wantError(t, err, chartrepo.ErrUnauthorized, []string{tc.want, "unauthorized"}, "wrong-pw", "wrong-token")
		})
	}
}

func TestVersionOrChartNotFound(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			req, _ := k.start(t, podinfoArchives(t)...)
			c := chartrepo.NewClient(chartrepo.Options{})
			for _, tc := range []struct {
				chart, version string
				kind           error
				want           []string
			}{
				{"podinfo", "9.9.9", chartrepo.ErrNotFound, []string{"podinfo", `"9.9.9"`, "newest: 7.0.0-rc.1, 6.14.0, 6.13.1, 6.13.0, 6.12.0, …"}},
				{"podinfo", ">=8", chartrepo.ErrNotFound, []string{"podinfo", `">=8"`, "newest: 7.0.0-rc.1"}},
				{"podinfo", "not a version!", chartrepo.ErrInvalid, []string{"podinfo", `"not a version!"`}},
				{"nope", "", chartrepo.ErrNotFound, []string{"nope", "not found"}},
			} {
				_, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: req(tc.chart).RepoURL, Chart: tc.chart, Version: tc.version, Auth: req(tc.chart).Auth})
				wantError(t, err, tc.kind, tc.want)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	c := chartrepo.NewClient(chartrepo.Options{})
	for _, tc := range []struct {
		req  chartrepo.Request
		want string
	}{
		{chartrepo.Request{Chart: "podinfo"}, "no repository URL"},
		{chartrepo.Request{RepoURL: "ftp://x/y", Chart: "podinfo"}, "ftp://x/y"},
		{chartrepo.Request{RepoURL: "https://charts.example.com"}, "no chart name"},
		{chartrepo.Request{RepoURL: "oci://registry.example.com"}, "oci://HOST/PATH/NAME"},
		{chartrepo.Request{RepoURL: "oci://registry.example.com/charts/podinfo@sha256:abc"}, "by digest"},
		{chartrepo.Request{RepoURL: "oci://registry.example.com/charts/podinfo:1.0.0", Version: "2.0.0"}, `"2.0.0"`},
	} {
		_, err := c.Fetch(ctxT(t), tc.req)
		wantError(t, err, chartrepo.ErrInvalid, []string{tc.want})
	}
}

// TestArchiveOverLimit: an archive over MaxArchiveBytes is refused, and
// reading stops at the limit (an endless body does not hang the fetch).
func TestArchiveOverLimit(t *testing.T) {
	big := make([]byte, 256<<10)
	_, _ = rand.Read(big)
	ch := chartrepotest.Chart("big", "1.0.0")
	ch.Files = append(ch.Files, &common.File{Name: "blob.bin", Data: big})
	archive := chartrepotest.Package(t, ch)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			req, _ := k.start(t, archive)
			c := chartrepo.NewClient(chartrepo.Options{MaxArchiveBytes: 64 << 10})
			_, err := c.Fetch(ctxT(t), req("big"))
			wantError(t, err, chartrepo.ErrInvalid, []string{"big", "1.0.0", "65536-byte limit"})
		})
	}
	t.Run("endless body", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/index.yaml" {
				fmt.Fprintf(w, "apiVersion: v1\nentries:\n  big:\n  - name: big\n    version: 1.0.0\n    urls: [big-1.0.0.tgz]\n")
				return
			}
			chunk := make([]byte, 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}))
		t.Cleanup(srv.Close)
		c := chartrepo.NewClient(chartrepo.Options{MaxArchiveBytes: 1 << 20})
		_, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: srv.URL, Chart: "big"})
		wantError(t, err, chartrepo.ErrInvalid, []string{"chart big 1.0.0 from " + srv.URL + "/big-1.0.0.tgz", "1048576-byte limit"})
	})
	t.Run("decompressed", func(t *testing.T) {
		zeros := chartrepotest.Chart("zeros", "1.0.0")
		zeros.Files = append(zeros.Files, &common.File{Name: "zeros.bin", Data: make([]byte, 4<<20)})
		req, _ := kinds[0].start(t, chartrepotest.Package(t, zeros))
		c := chartrepo.NewClient(chartrepo.Options{MaxChartBytes: 1 << 20})
		_, err := c.Fetch(ctxT(t), req("zeros"))
		wantError(t, err, chartrepo.ErrInvalid, []string{"zeros", "decompressed chart is over 1048576 bytes"})
	})
}

func TestMalformedIndex(t *testing.T) {
	r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	c := chartrepo.NewClient(chartrepo.Options{IndexTTL: -1})
	for _, raw := range []string{"entries: [oops", "", "entries: {}\n", "{\"apiVersion\": 3}"} {
		r.SetIndex([]byte(raw))
		_, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo"})
		wantError(t, err, chartrepo.ErrInvalid, []string{"chart repository " + r.URL() + ": index.yaml is malformed"})
	}
}

func TestDigestMismatch(t *testing.T) {
	r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	r.Add(t, chartrepotest.PackageDir(t, "testdata/hello", ""))
	r.SetDigest("hello", "1.0.0", strings.Repeat("0", 64))
	c := chartrepo.NewClient(chartrepo.Options{})
	_, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello"})
	wantError(t, err, chartrepo.ErrInvalid, []string{"chart hello 1.0.0 from " + r.URL() + "/charts/hello-1.0.0.tgz", "digest mismatch", "sha256:" + strings.Repeat("0", 64)})
}

// TestUnsafeArchives: entries leaving the chart, links and devices are
// refused before Helm's loader sees them (it would turn a symlink into
// an empty file), over HTTP and OCI.
func TestUnsafeArchives(t *testing.T) {
	chartYAML := chartrepotest.Entry{Name: "evil/Chart.yaml", Body: "apiVersion: v2\nname: evil\nversion: 1.0.0\n"}
	for _, tc := range []struct {
		name  string
		entry chartrepotest.Entry
		want  string
	}{
		{"parent directory", chartrepotest.Entry{Name: "evil/../../etc/cron.d/x", Body: "x"}, `"evil/../../etc/cron.d/x" leaves the chart directory`},
		{"absolute", chartrepotest.Entry{Name: "/etc/passwd", Body: "x"}, `"/etc/passwd" is an absolute path`},
		{"symlink", chartrepotest.Entry{Name: "evil/templates/secret.yaml", Type: tar.TypeSymlink, Linkname: "/etc/shadow"}, `"evil/templates/secret.yaml" is a symlink (to "/etc/shadow")`},
		{"hard link", chartrepotest.Entry{Name: "evil/values.yaml", Type: tar.TypeLink, Linkname: "evil/Chart.yaml"}, `"evil/values.yaml" is a hard link`},
		{"device", chartrepotest.Entry{Name: "evil/dev", Type: tar.TypeChar}, `"evil/dev" is of tar type`},
		{"second top directory", chartrepotest.Entry{Name: "other/x", Body: "x"}, `two top directories`},
	} {
		archive := chartrepotest.TarGz(t, chartYAML, tc.entry)
		t.Run("http "+tc.name, func(t *testing.T) {
			r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
			r.AddAs("evil", "1.0.0", archive)
			_, err := chartrepo.NewClient(chartrepo.Options{}).Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "evil"})
			wantError(t, err, chartrepo.ErrInvalid, []string{"chart evil 1.0.0 from " + r.URL(), tc.want})
		})
		t.Run("oci "+tc.name, func(t *testing.T) {
			r := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{})
			r.PushAs(t, &chart.Metadata{APIVersion: "v2", Name: "evil", Version: "1.0.0"}, archive)
			_, err := chartrepo.NewClient(chartrepo.Options{}).Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "evil", Version: "1.0.0"})
			wantError(t, err, chartrepo.ErrInvalid, []string{"chart " + r.URL() + "/evil 1.0.0", tc.want})
		})
	}
}

// TestArchiveNotTheChartAsked: an index entry whose archive holds another
// chart or version is refused.
func TestArchiveNotTheChartAsked(t *testing.T) {
	r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	hello := chartrepotest.PackageDir(t, "testdata/hello", "")
	r.AddAs("podinfo", "1.0.0", hello)
	r.AddAs("hello", "2.0.0", hello)
	c := chartrepo.NewClient(chartrepo.Options{})
	_, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "podinfo"})
	wantError(t, err, chartrepo.ErrInvalid, []string{`archive holds chart "hello", not "podinfo"`})
	_, err = c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello", Version: "2.0.0"})
	wantError(t, err, chartrepo.ErrInvalid, []string{`archive holds version "1.0.0", not "2.0.0"`})
}

func TestTimeout(t *testing.T) {
	r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
	r.Stall()
	c := chartrepo.NewClient(chartrepo.Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Fetch(ctxT(t), chartrepo.Request{RepoURL: r.URL(), Chart: "hello"})
	wantError(t, err, chartrepo.ErrUnreachable, []string{"chart repository " + r.URL() + ": index.yaml", "timed out after 200ms"})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %s", d)
	}
}

// TestTimeoutOCI: a registry that never answers.
func TestTimeoutOCI(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	c := chartrepo.NewClient(chartrepo.Options{Timeout: 200 * time.Millisecond})
	_, err = c.Fetch(ctxT(t), chartrepo.Request{RepoURL: "oci://" + l.Addr().String() + "/charts/hello", Version: "1.0.0", Auth: chartrepo.Auth{PlainHTTP: true}})
	wantError(t, err, chartrepo.ErrUnreachable, []string{"oci://" + l.Addr().String() + "/charts/hello", "timed out after 200ms"})
}
