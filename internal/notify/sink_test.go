package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPKI is a CA made for one test and a server certificate it signed
// for 127.0.0.1 and localhost.
type testPKI struct {
	caPEM  []byte
	server tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cruise test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return testPKI{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key},
	}
}

func (p testPKI) serverTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
}

// sinkRequest is one request an HTTP sink received.
type sinkRequest struct {
	Method string
	// URI is the request target as sent, escapes included.
	URI    string
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r sinkRequest) JSON(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return v
}

// tlsSink is an HTTPS server on loopback with a certificate of its own
// test CA, recording what it receives and answering with respond.
type tlsSink struct {
	srv  *httptest.Server
	pki  testPKI
	mu   sync.Mutex // guards reqs
	reqs []sinkRequest
}

func newTLSSink(t *testing.T, respond http.HandlerFunc) *tlsSink {
	t.Helper()
	s := &tlsSink{pki: newTestPKI(t)}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, sinkRequest{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		if respond == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		respond(w, r)
	}))
	s.srv.TLS = s.pki.serverTLS()
	// Refused handshakes are what some tests are about: not noise.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the sink's base URL, https://127.0.0.1:port.
func (s *tlsSink) URL() string { return s.srv.URL }

func (s *tlsSink) requests() []sinkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkRequest(nil), s.reqs...)
}

// only returns the one request the sink received.
func (s *tlsSink) only(t *testing.T) sinkRequest {
	t.Helper()
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("sink received %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// testSHA is the commit of the sample events.
const testSHA = "0123456789abcdef0123456789abcdef01234567"

// sampleFailedMessage is a Failed event as the default templates render it.
func sampleFailedMessage() Message {
	return Message{
		Event: Event{
			Version:  PayloadVersion,
			ID:       "7f7c7e1c-2f39-4b1e-9d1e-0c7f1f0b6a11",
			Time:     time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
			Type:     Failed,
			Severity: SeverityError,
			Object:   ObjectRef{Kind: "Application", Namespace: "team-a", Name: "web", UID: "uid-1"},
			Revision: "main@sha1:" + testSHA,
			Reason:   "BuildFailed",
			Message:  "kustomize build: apps/web/kustomization.yaml: resource deployment.yaml: not found",
			Commit:   &Commit{SHA: testSHA, Subject: "web: two replicas", Author: "Ada <ada@example.com>"},
			Objects:  []string{"Deployment/team-a/web", "Service/team-a/web"},
			URL:      "https://cruise.example.com/applications/team-a/web",
		},
		Subject: "[cruise] team-a/web failed: BuildFailed",
		Body: "Revision main@0123456789ab failed to build.\n" +
			"apps/web/kustomization.yaml: resource deployment.yaml: not found <nil> & @everyone",
	}
}

// withEvent returns m with the event's type (and matching severity) set.
func withEvent(m Message, typ EventType) Message {
	m.Event.Type = typ
	m.Event.Severity = SeverityInfo
	if typ == Failed || typ == HealthDegraded {
		m.Event.Severity = SeverityError
	}
	return m
}

// jsonAt walks a decoded JSON value along a path of keys and indexes.
func jsonAt(t *testing.T, v any, path ...any) any {
	t.Helper()
	for i, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not an object: %v", path[:i], v)
			}
			v, ok = m[k]
			if !ok {
				t.Fatalf("at %v: no key %q in %v", path[:i], k, mapKeys(m))
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at %v: not an array with index %d: %v", path[:i], k, v)
			}
			v = a[k]
		}
	}
	return v
}

func mapKeys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	return k
}

// assertNoSecret fails if s holds any of the secrets.
func assertNoSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if secret != "" && strings.Contains(s, secret) {
			t.Errorf("%s shows the secret %q: %s", what, secret, s)
		}
	}
}
