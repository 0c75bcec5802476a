package chartrepotest

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/internal/chartrepo"
)

// HTTPOptions shape an HTTP chart repository.
type HTTPOptions struct {
	// Username and Password, when set, are required (basic auth) on
	// index.yaml and the archives it serves itself.
	Username, Password string
	// BearerToken, when set, is required as "Authorization: Bearer".
	BearerToken string
	// TLS serves HTTPS with httptest's certificate (see CA).
	TLS bool
	// MutualTLS, with TLS, requires the client certificate the repository
	// made (see ClientCertificate).
	MutualTLS bool
	// ArchiveHost serves the archives from a second server (another
	// host:port) that index.yaml names by absolute URL; it requires no
	// credentials and records any it is sent (see ArchiveHostAuthorizations).
	ArchiveHost bool
	// NoDigests leaves digests out of index.yaml.
	NoDigests bool
}

// HTTPRepo is a running chart repository on 127.0.0.1.
type HTTPRepo struct {
	t       testing.TB
	opts    HTTPOptions
	srv     *httptest.Server
	archSrv *httptest.Server // ArchiveHost only
	release chan struct{}

	clientCertPEM, clientKeyPEM []byte

	mu        sync.Mutex // guards the rest
	charts    map[string][]indexEntry
	archives  map[string][]byte // by path, "/charts/x-1.0.0.tgz"
	rawIndex  []byte
	stalled   bool
	requests  map[string]int
	archAuthz []string
}

type indexEntry struct {
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	AppVersion string    `json:"appVersion,omitempty"`
	APIVersion string    `json:"apiVersion"`
	URLs       []string  `json:"urls"`
	Digest     string    `json:"digest,omitempty"`
	Created    time.Time `json:"created"`
}

// NewHTTP starts a repository that lives until the test ends.
func NewHTTP(t testing.TB, opts HTTPOptions) *HTTPRepo {
	t.Helper()
	r := &HTTPRepo{t: t, opts: opts, release: make(chan struct{}), charts: map[string][]indexEntry{}, archives: map[string][]byte{}, requests: map[string]int{}}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS refusals are what TLS tests are about
	if opts.TLS {
		if opts.MutualTLS {
			cert, certPEM, keyPEM := clientCertificate(t)
			r.clientCertPEM, r.clientKeyPEM = certPEM, keyPEM
			pool := x509.NewCertPool()
			pool.AddCert(cert.Leaf)
			r.srv.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
		}
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.srv.Close)
	if opts.ArchiveHost {
		r.archSrv = httptest.NewServer(http.HandlerFunc(r.serveArchiveHost))
		t.Cleanup(r.archSrv.Close)
	}
	// Registered last, so it runs first: stalled handlers return before
	// the servers wait for them.
	t.Cleanup(func() { close(r.release) })
	return r
}

// URL is the repository URL (what `--repo` and spec.chart.repoURL take).
func (r *HTTPRepo) URL() string { return r.srv.URL }

// CA is the PEM certificate TLS clients must trust; nil without TLS.
func (r *HTTPRepo) CA() []byte {
	if !r.opts.TLS {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
}

// ClientCertificate is the certificate and key (PEM) a MutualTLS
// repository requires.
func (r *HTTPRepo) ClientCertificate() (certPEM, keyPEM []byte) {
	return r.clientCertPEM, r.clientKeyPEM
}

// Auth is everything a client needs to reach the repository.
func (r *HTTPRepo) Auth() chartrepo.Auth {
	return chartrepo.Auth{Username: r.opts.Username, Password: r.opts.Password, BearerToken: r.opts.BearerToken,
		CertPEM: r.clientCertPEM, KeyPEM: r.clientKeyPEM, CAPEM: r.CA()}
}

// SecretData is Auth as the data of a repository Secret.
func (r *HTTPRepo) SecretData() map[string][]byte {
	return secretData(r.Auth())
}

// Add lists archive in index.yaml (name and version from its Chart.yaml,
// digest the sha256 of the bytes) and serves it. It returns the digest,
// "sha256:<hex>".
func (r *HTTPRepo) Add(t testing.TB, archive []byte) string {
	t.Helper()
	md := metadata(t, archive)
	return r.AddAs(md.Name, md.Version, archive)
}

// AddChart packages ch and adds it.
func (r *HTTPRepo) AddChart(t testing.TB, ch *chart.Chart) string {
	t.Helper()
	return r.Add(t, Package(t, ch))
}

// AddAs lists archive under name and version whatever it holds (for
// archives the loader refuses) and returns its digest.
func (r *HTTPRepo) AddAs(name, version string, archive []byte) string {
	sum := sha256.Sum256(archive)
	hexSum := hex.EncodeToString(sum[:])
	file := fmt.Sprintf("%s-%s.tgz", name, version)
	u := "charts/" + file // relative: resolved against the repository URL
	if r.archSrv != nil {
		u = r.archSrv.URL + "/charts/" + file
	}
	e := indexEntry{Name: name, Version: version, AppVersion: version, APIVersion: "v2", URLs: []string{u}, Created: time.Unix(1700000000, 0).UTC()}
	if !r.opts.NoDigests {
		e.Digest = hexSum
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.charts[name] = append(r.charts[name], e)
	r.archives["/charts/"+file] = archive
	return "sha256:" + hexSum
}

// SetDigest overrides the digest index.yaml lists for name and version.
func (r *HTTPRepo) SetDigest(name, version, digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.charts[name] {
		if r.charts[name][i].Version == version {
			r.charts[name][i].Digest = strings.TrimPrefix(digest, "sha256:")
		}
	}
}

// SetIndex serves raw as index.yaml instead of the generated one; nil
// goes back to generating it.
func (r *HTTPRepo) SetIndex(raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rawIndex = raw
}

// Stall makes every later request wait, unanswered, until the client
// gives up or the test ends.
func (r *HTTPRepo) Stall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stalled = true
}

// Requests counts requests for path ("/index.yaml", "/charts/x-1.0.0.tgz"),
// on either host.
func (r *HTTPRepo) Requests(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[path]
}

// ArchiveHostAuthorizations lists the Authorization headers the
// ArchiveHost server was sent ("" for none).
func (r *HTTPRepo) ArchiveHostAuthorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.archAuthz...)
}

func (r *HTTPRepo) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests[req.URL.Path]++
	stalled := r.stalled
	r.mu.Unlock()
	if stalled {
		select {
		case <-r.release:
		case <-req.Context().Done():
		}
		return
	}
	if !r.authorized(req) {
		w.Header().Set("WWW-Authenticate", `Basic realm="chartrepotest"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if req.URL.Path == "/index.yaml" {
		r.serveIndex(w)
		return
	}
	r.serveArchive(w, req)
}

func (r *HTTPRepo) serveArchiveHost(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests[req.URL.Path]++
	r.archAuthz = append(r.archAuthz, req.Header.Get("Authorization"))
	r.mu.Unlock()
	r.serveArchive(w, req)
}

func (r *HTTPRepo) authorized(req *http.Request) bool {
	switch {
	case r.opts.BearerToken != "":
		return subtle.ConstantTimeCompare([]byte(req.Header.Get("Authorization")), []byte("Bearer "+r.opts.BearerToken)) == 1
	case r.opts.Username != "":
		u, p, ok := req.BasicAuth()
		return ok && subtle.ConstantTimeCompare([]byte(u), []byte(r.opts.Username)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(r.opts.Password)) == 1
	}
	return true
}

func (r *HTTPRepo) serveIndex(w http.ResponseWriter) {
	r.mu.Lock()
	raw := r.rawIndex
	if raw == nil {
		entries := map[string][]indexEntry{}
		for name, es := range r.charts {
			es = append([]indexEntry(nil), es...)
			sort.Slice(es, func(i, j int) bool { return es[i].Version > es[j].Version })
			entries[name] = es
		}
		var err error
		raw, err = yaml.Marshal(map[string]any{"apiVersion": "v1", "entries": entries, "generated": time.Unix(1700000000, 0).UTC()})
		if err != nil {
			r.mu.Unlock()
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-yaml")
	_, _ = w.Write(raw)
}

func (r *HTTPRepo) serveArchive(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	data, ok := r.archives[req.URL.Path]
	r.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(data)
}

func secretData(a chartrepo.Auth) map[string][]byte {
	d := map[string][]byte{}
	if a.Username != "" {
		d[chartrepo.SecretKeyUsername], d[chartrepo.SecretKeyPassword] = []byte(a.Username), []byte(a.Password)
	}
	if a.BearerToken != "" {
		d[chartrepo.SecretKeyBearerToken] = []byte(a.BearerToken)
	}
	if len(a.CertPEM) > 0 {
		d[chartrepo.SecretKeyTLSCert], d[chartrepo.SecretKeyTLSKey] = a.CertPEM, a.KeyPEM
	}
	if len(a.CAPEM) > 0 {
		d[chartrepo.SecretKeyCA] = a.CAPEM
	}
	return d
}
