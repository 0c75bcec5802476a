package image

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// maxDockerConfig bounds a docker config: real ones are a few KiB.
const maxDockerConfig = 1 << 20

// AuthFromDockerConfig picks the credentials for registry (host[:port])
// from a kubernetes.io/dockerconfigjson payload. Entries may be keyed by
// host, by URL ("https://host/v1/"), and Docker Hub by its index URL. No
// matching entry is anonymous access. Errors never show the credentials.
func AuthFromDockerConfig(data []byte, registry string) (authn.Authenticator, error) {
	if len(data) > maxDockerConfig {
		return nil, fmt.Errorf("docker config over %d bytes", maxDockerConfig)
	}
	var cfg struct {
		Auths map[string]authn.AuthConfig `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, errors.New("docker config is not valid JSON with an \"auths\" object")
	}
	want := normalizeRegistry(registry)
	for key, ac := range cfg.Auths {
		if normalizeRegistry(key) != want {
			continue
		}
		if ac.Auth != "" && ac.Username == "" {
			raw, err := base64.StdEncoding.DecodeString(ac.Auth)
			if err != nil {
				return nil, fmt.Errorf("docker config entry %q: \"auth\" is not base64", key)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("docker config entry %q: \"auth\" is not user:password", key)
			}
			ac.Username, ac.Password, ac.Auth = user, pass, ""
		}
		return authn.FromConfig(ac), nil
	}
	return authn.Anonymous, nil
}

// normalizeRegistry reduces the ways docker configs name a registry to a
// host[:port], with Docker Hub's aliases folded into one.
func normalizeRegistry(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return "index.docker.io"
	}
	return s
}

// Transport builds an HTTP transport trusting caPEM besides the system
// roots, presenting a client certificate when certPEM and keyPEM are set,
// with timeouts on every phase of a connection.
func Transport(caPEM, certPEM, keyPEM []byte) (http.RoundTripper, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("ca.crt holds no PEM certificate")
		}
		tlsCfg.RootCAs = pool
	}
	if len(certPEM) > 0 || len(keyPEM) > 0 {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("tls.crt and tls.key: %w", err)
		}
		tlsCfg.Certificates = []tls.Certificate{cert}
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}, nil
}
