// Package registrytest runs a real OCI registry on loopback for tests:
// go-containerregistry's in-process registry behind a wrapper that adds
// what real registries do and it does not (basic auth with a bearer-token
// exchange, paged tag lists with Link headers, 429 rate limits), and
// counts the requests. It serves plain HTTP, or HTTPS with a certificate
// of its own.
package registrytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Options shape the registry.
type Options struct {
	// Username and Password, when set, are required: clients get a 401
	// with a Bearer challenge, exchange the basic credentials at /token for
	// a token, and must send it.
	Username, Password string
	// PageSize, when set, caps every tag list page and links the next one,
	// whatever n the client asks for.
	PageSize int
	// TLS serves HTTPS with a certificate for 127.0.0.1 signed by a CA of
	// its own (see CA), which clients must be told to trust.
	TLS bool
	// MutualTLS, with TLS, makes clients present the client certificate
	// the registry made (see ClientCertificate).
	MutualTLS bool
}

// Registry is a running registry.
type Registry struct {
	t      testing.TB
	srv    *httptest.Server
	opts   Options
	inner  http.Handler
	token  string
	reqs   atomic.Int64
	mu     sync.Mutex
	limits []limit

	clientCert                  *tls.Certificate // MutualTLS only
	clientCertPEM, clientKeyPEM []byte
}

type limit struct {
	path       string
	retryAfter string
	times      int
}

// Start runs a registry on 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	r := &Registry{t: t, opts: opts, inner: registry.New(registry.Logger(log.New(io.Discard, "", 0))), token: "tok-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	if opts.TLS {
		// Clients that do not trust it are what TLS tests are about: no
		// handshake error logs.
		r.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		if opts.MutualTLS {
			r.makeClientCertificate()
			pool := x509.NewCertPool()
			pool.AddCert(r.clientCert.Leaf)
			r.srv.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
		}
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.srv.Close)
	return r
}

// Host is "127.0.0.1:PORT", the registry part of image names.
func (r *Registry) Host() string {
	return strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "http://"), "https://")
}

// CA is the PEM certificate a TLS registry's clients must trust (what a
// certSecretRef's ca.crt holds); nil for a plain-HTTP one.
func (r *Registry) CA() []byte {
	if !r.opts.TLS {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
}

// Requests counts every request served (tokens and 429s included).
func (r *Registry) Requests() int64 { return r.reqs.Load() }

// RateLimit answers the next n requests whose path contains path with 429
// and this Retry-After header ("" for none).
func (r *Registry) RateLimit(path, retryAfter string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limits = append(r.limits, limit{path: path, retryAfter: retryAfter, times: n})
}

func (r *Registry) limited(path string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.limits {
		if r.limits[i].times > 0 && strings.Contains(path, r.limits[i].path) {
			r.limits[i].times--
			return r.limits[i].retryAfter, true
		}
	}
	return "", false
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	r.reqs.Add(1)
	if req.URL.Path == "/token" {
		u, p, ok := req.BasicAuth()
		if !ok || u != r.opts.Username || p != r.opts.Password {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": r.token})
		return
	}
	if r.opts.Username != "" && req.Header.Get("Authorization") != "Bearer "+r.token {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="registrytest"`, r.srv.URL+"/token"))
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
		return
	}
	if ra, ok := r.limited(req.URL.Path); ok {
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS"}]}`, http.StatusTooManyRequests)
		return
	}
	if strings.HasSuffix(req.URL.Path, "/tags/list") {
		r.serveTags(w, req)
		return
	}
	r.inner.ServeHTTP(w, req)
}

// serveTags pages the inner registry's full list: sorted, after ?last=,
// at most ?n= (and PageSize), with a Link header to the next page.
func (r *Registry) serveTags(w http.ResponseWriter, req *http.Request) {
	inner := httptest.NewRecorder()
	full := req.Clone(req.Context())
	full.URL.RawQuery = ""
	r.inner.ServeHTTP(inner, full)
	if inner.Code != http.StatusOK {
		for k, v := range inner.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(inner.Code)
		_, _ = w.Write(inner.Body.Bytes())
		return
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(inner.Body.Bytes(), &list); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sort.Strings(list.Tags)
	q := req.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(list.Tags, last)
		if i < len(list.Tags) && list.Tags[i] == last {
			i++
		}
		list.Tags = list.Tags[i:]
	}
	n, _ := strconv.Atoi(q.Get("n"))
	if r.opts.PageSize > 0 && (n <= 0 || n > r.opts.PageSize) {
		n = r.opts.PageSize
	}
	if n > 0 && len(list.Tags) > n {
		list.Tags = list.Tags[:n]
		next := url.Values{"n": {strconv.Itoa(n)}, "last": {list.Tags[n-1]}}
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, req.URL.Path, next.Encode()))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

// Image builds a small image created at created, different for each seed.
func Image(t testing.TB, created time.Time, seed string) v1.Image {
	t.Helper()
	img, err := mutate.CreatedAt(empty.Image, v1.Time{Time: created})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Labels: map[string]string{"seed": seed}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// makeClientCertificate makes the self-signed certificate a MutualTLS
// registry trusts (as its own CA) from clients.
func (r *Registry) makeClientCertificate() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		r.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registrytest client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		r.t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		r.t.Fatal(err)
	}
	r.clientCertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	r.clientKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(r.clientCertPEM, r.clientKeyPEM)
	if err != nil {
		r.t.Fatal(err)
	}
	r.clientCert = &cert
}

// ClientCertificate is the certificate and key (PEM) a MutualTLS
// registry wants clients to present (what tls.crt and tls.key hold).
func (r *Registry) ClientCertificate() (certPEM, keyPEM []byte) {
	return r.clientCertPEM, r.clientKeyPEM
}

func (r *Registry) remoteOptions() []remote.Option {
	opts := []remote.Option{}
	if r.opts.TLS {
		tr := r.srv.Client().Transport.(*http.Transport).Clone()
		if r.clientCert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*r.clientCert}
		}
		opts = append(opts, remote.WithTransport(tr))
	}
	if r.opts.Username != "" {
		opts = append(opts, remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: r.opts.Username, Password: r.opts.Password})))
	}
	return opts
}

// nameOptions lets names of a plain-HTTP registry be reached over HTTP.
func (r *Registry) nameOptions() []name.Option {
	if r.opts.TLS {
		return nil
	}
	return []name.Option{name.Insecure}
}

// Push writes img under repo:tag (repo is the path, without the host) and
// returns its digest.
func (r *Registry) Push(repo, tag string, img v1.Image) string {
	r.t.Helper()
	ref, err := name.NewTag(r.Host()+"/"+repo+":"+tag, r.nameOptions()...)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := remote.Write(ref, img, r.remoteOptions()...); err != nil {
		r.t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		r.t.Fatal(err)
	}
	return d.String()
}

// Tag adds tags to an image already pushed as repo:from, one request each.
func (r *Registry) Tag(repo, from string, tags ...string) {
	r.t.Helper()
	src, err := name.NewTag(r.Host()+"/"+repo+":"+from, r.nameOptions()...)
	if err != nil {
		r.t.Fatal(err)
	}
	desc, err := remote.Get(src, r.remoteOptions()...)
	if err != nil {
		r.t.Fatal(err)
	}
	img, err := desc.Image()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, tag := range tags {
		dst, _ := name.NewTag(r.Host()+"/"+repo+":"+tag, r.nameOptions()...)
		if err := remote.Tag(dst, img, r.remoteOptions()...); err != nil {
			r.t.Fatal(err)
		}
	}
}
