package chartrepo

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Secret data keys AuthFromSecret reads (pinned by issue 15).
const (
	SecretKeyUsername    = "username"
	SecretKeyPassword    = "password"
	SecretKeyBearerToken = "bearerToken"
	SecretKeyTLSCert     = "tls.crt"
	SecretKeyTLSKey      = "tls.key"
	SecretKeyCA          = "ca.crt"
)

// Auth is how to reach one repository. The zero value is anonymous access
// over TLS verified against the system roots.
type Auth struct {
	// Username and Password are HTTP basic credentials (for OCI, exchanged
	// for a registry token as the registry's challenge asks).
	Username, Password string
	// BearerToken is sent as "Authorization: Bearer" (for OCI, as the
	// registry token).
	BearerToken string
	// CertPEM and KeyPEM are a TLS client certificate and its key.
	CertPEM, KeyPEM []byte
	// CAPEM holds extra CA certificates, trusted besides the system roots.
	CAPEM []byte
	// PlainHTTP talks to an OCI registry without TLS. HTTP repositories
	// take their scheme from the URL instead.
	PlainHTTP bool
}

// String never shows a credential: Auth values end up in %v by accident.
func (a Auth) String() string {
	var parts []string
	if a.Username != "" {
		parts = append(parts, "basic")
	}
	if a.BearerToken != "" {
		parts = append(parts, "bearer")
	}
	if len(a.CertPEM) > 0 {
		parts = append(parts, "client-certificate")
	}
	if len(a.CAPEM) > 0 {
		parts = append(parts, "custom-ca")
	}
	if a.PlainHTTP {
		parts = append(parts, "plain-http")
	}
	if len(parts) == 0 {
		return "Auth{anonymous}"
	}
	return "Auth{" + strings.Join(parts, ",") + "}"
}

// GoString redacts like String, for %#v.
func (a Auth) GoString() string { return a.String() }

// AuthFromSecret reads a repository Secret's data: username and password,
// or bearerToken; tls.crt with tls.key; ca.crt. Errors name the key at
// fault, never a value.
func AuthFromSecret(data map[string][]byte) (Auth, error) {
	var a Auth
	known := false
	user, hasUser := data[SecretKeyUsername]
	pass, hasPass := data[SecretKeyPassword]
	switch {
	case hasUser && !hasPass:
		return Auth{}, fmt.Errorf("secret key %q is set but %q is missing", SecretKeyUsername, SecretKeyPassword)
	case hasPass && !hasUser:
		return Auth{}, fmt.Errorf("secret key %q is set but %q is missing", SecretKeyPassword, SecretKeyUsername)
	case hasUser:
		if len(user) == 0 {
			return Auth{}, fmt.Errorf("secret key %q is empty", SecretKeyUsername)
		}
		if strings.ContainsAny(string(user), ":\r\n") {
			return Auth{}, fmt.Errorf("secret key %q holds a colon or line break, which basic auth cannot carry", SecretKeyUsername)
		}
		a.Username, a.Password, known = string(user), string(pass), true
	}
	if tok, ok := data[SecretKeyBearerToken]; ok {
		if hasUser {
			return Auth{}, fmt.Errorf("secret keys %q and %q are both set: use one", SecretKeyUsername, SecretKeyBearerToken)
		}
		if len(tok) == 0 || strings.ContainsAny(string(tok), "\r\n") {
			return Auth{}, fmt.Errorf("secret key %q is empty or holds a line break", SecretKeyBearerToken)
		}
		a.BearerToken, known = string(tok), true
	}
	crt, hasCrt := data[SecretKeyTLSCert]
	key, hasKey := data[SecretKeyTLSKey]
	switch {
	case hasCrt && !hasKey:
		return Auth{}, fmt.Errorf("secret key %q is set but %q is missing", SecretKeyTLSCert, SecretKeyTLSKey)
	case hasKey && !hasCrt:
		return Auth{}, fmt.Errorf("secret key %q is set but %q is missing", SecretKeyTLSKey, SecretKeyTLSCert)
	case hasCrt:
		if _, err := tls.X509KeyPair(crt, key); err != nil {
			return Auth{}, fmt.Errorf("secret keys %q and %q do not hold a PEM certificate and its private key", SecretKeyTLSCert, SecretKeyTLSKey)
		}
		a.CertPEM, a.KeyPEM, known = crt, key, true
	}
	if ca, ok := data[SecretKeyCA]; ok {
		if !x509.NewCertPool().AppendCertsFromPEM(ca) {
			return Auth{}, fmt.Errorf("secret key %q holds no PEM certificate", SecretKeyCA)
		}
		a.CAPEM, known = ca, true
	}
	if !known {
		return Auth{}, fmt.Errorf("secret holds none of the keys %s/%s, %s, %s/%s, %s",
			SecretKeyUsername, SecretKeyPassword, SecretKeyBearerToken, SecretKeyTLSCert, SecretKeyTLSKey, SecretKeyCA)
	}
	return a, nil
}

// identity is a digest of everything that decides what a repository shows
// this client: caches are keyed by it, so one tenant's credentials never
// serve another's request. It is not reversible and never printed.
func (a Auth) identity() string {
	h := sha256.New()
	for _, f := range [][]byte{[]byte(a.Username), []byte(a.Password), []byte(a.BearerToken), a.CertPEM, a.KeyPEM, a.CAPEM} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	if a.PlainHTTP {
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// tlsIdentity digests only what shapes a TLS connection: transports are
// shared by every request with the same one.
func (a Auth) tlsIdentity() string {
	return Auth{CertPEM: a.CertPEM, KeyPEM: a.KeyPEM, CAPEM: a.CAPEM}.identity()
}

// defaultTransport has timeouts on every phase of a connection; requests
// are bounded as a whole by Options.Timeout.
func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   8,
		ForceAttemptHTTP2:     true,
	}
}

// buildTransport clones base with a's CA and client certificate.
func buildTransport(base *http.Transport, a Auth) (*http.Transport, error) {
	tr := base.Clone()
	cfg := tr.TLSClientConfig
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if len(a.CAPEM) > 0 {
		pool := cfg.RootCAs
		if pool == nil {
			var err error
			if pool, err = x509.SystemCertPool(); err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(a.CAPEM) {
			return nil, errors.New("CA certificate: no PEM certificate found")
		}
		cfg.RootCAs = pool
	}
	if len(a.CertPEM) > 0 || len(a.KeyPEM) > 0 {
		cert, err := tls.X509KeyPair(a.CertPEM, a.KeyPEM)
		if err != nil {
			return nil, errors.New("client certificate and key: not a PEM certificate and its private key")
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}
