package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cruisegitops/cruise/oauth/keys"
	"github.com/cruisegitops/cruise/oauth/resource"
	"github.com/cruisegitops/cruise/oauth/store"
)

// Endpoint paths, relative to the issuer's path.
const (
	PathAuthorize           = "/authorize"
	PathToken               = "/token"
	PathRevoke              = "/revoke"
	PathIntrospect          = "/introspect"
	PathJWKS                = "/jwks"
	PathDeviceAuthorization = "/device_authorization"
	PathDevice              = "/device"
	PathUserinfo            = "/userinfo"
	PathLogin               = "/login"
	PathConsent             = "/consent"
	PathConsents            = "/consents"
	PathLogout              = "/logout"
	PathUpstreamLogin       = "/upstream/login"
	PathUpstreamCallback    = "/upstream/callback"
	PathOAuthMetadata       = "/.well-known/oauth-authorization-server"
	PathOpenIDConfiguration = "/.well-known/openid-configuration"
)

// Server is the authorization server, an http.Handler serving every
// endpoint under the issuer's path. Mount it in a larger mux at that path
// without stripping the prefix.
type Server struct {
	opts   Options
	issuer string
	base   string // issuer path, no trailing slash
	store  store.Store
	keys   *keys.Manager
	mux    *http.ServeMux
	log    *slog.Logger
	now    func() time.Time

	clientThrottle *throttle // by source address, and confidential client at it
	loginThrottle  *throttle // by account at a source address; device codes by source address
	sourceThrottle *throttle // login failures by source address, whatever the account
	introspectRate *rateLimiter
	upstream       *upstream // nil without federation
	userinfo       *resource.Verifier
}

// New builds a Server: it checks the options, loads (or creates) the
// signing keys and, with federation, reads the upstream provider's
// discovery document. It starts no goroutines; run Maintain for
// cleanup and key rotation.
func New(ctx context.Context, opts Options) (*Server, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(opts.Issuer)
	s := &Server{
		opts:   opts,
		issuer: opts.Issuer,
		base:   strings.TrimSuffix(u.Path, "/"),
		store:  opts.Store,
		log:    opts.Logger,
		now:    opts.Now,
		keys: keys.NewManager(opts.Store, keys.Options{
			Algorithm:      opts.SigningAlgorithm,
			RotationPeriod: opts.KeyRotationPeriod,
			Retention:      max(opts.AccessTokenTTL, opts.IDTokenTTL) + time.Hour,
			Now:            opts.Now,
		}),
		clientThrottle: newThrottle(opts.Throttle, opts.Now),
		loginThrottle:  newThrottle(opts.Throttle, opts.Now),
		sourceThrottle: newThrottle(opts.Throttle.perSource(), opts.Now),
		introspectRate: newRateLimiter(opts.IntrospectionRate, opts.Now),
	}
	if err := s.keys.Load(ctx); err != nil {
		return nil, fmt.Errorf("oauth: load signing keys: %w", err)
	}
	if opts.Upstream != nil {
		up, err := newUpstream(ctx, s, opts.Upstream)
		if err != nil {
			return nil, err
		}
		s.upstream = up
	}
	v, err := s.newUserinfoVerifier()
	if err != nil {
		return nil, err
	}
	s.userinfo = v
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	h := func(pattern string, fn http.HandlerFunc) { m.HandleFunc(s.base+pattern, fn) }
	h(PathOAuthMetadata, s.handleMetadata)
	h(PathOpenIDConfiguration, s.handleMetadata)
	h(PathJWKS, s.handleJWKS)
	h(PathAuthorize, s.handleAuthorize)
	h(PathToken, s.handleToken)
	h(PathRevoke, s.handleRevoke)
	h(PathIntrospect, s.handleIntrospect)
	h(PathDeviceAuthorization, s.handleDeviceAuthorization)
	h(PathDevice, s.handleDevicePage)
	h(PathUserinfo, s.handleUserinfo)
	h(PathLogin, s.handleLogin)
	h(PathConsent, s.handleConsent)
	h(PathConsents, s.handleConsents)
	h(PathLogout, s.handleLogout)
	h(PathUpstreamLogin, s.handleUpstreamLogin)
	h(PathUpstreamCallback, s.handleUpstreamCallback)
	s.mux = m
}

// ServeHTTP dispatches to the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// MetadataHandler serves the authorization server metadata. For an issuer
// with a path (https://host/auth) RFC 8414 section 3.1 places the document
// at https://host/.well-known/oauth-authorization-server/auth, outside the
// issuer's path: mount this handler there in the host's mux.
func (s *Server) MetadataHandler() http.Handler { return http.HandlerFunc(s.handleMetadata) }

// MetadataPath returns where RFC 8414 section 3.1 places the metadata for
// this issuer, relative to the host.
func (s *Server) MetadataPath() string { return PathOAuthMetadata + s.base }

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.issuer }

// KeySet returns the public signing keys; resource servers in the same
// process verify access tokens with it (see package resource).
func (s *Server) KeySet(ctx context.Context) (*jose.JSONWebKeySet, error) { return s.keys.KeySet(ctx) }

// Maintain deletes expired rows and reloads (and if due, rotates) signing
// keys every interval until ctx ends.
func (s *Server) Maintain(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.store.DeleteExpired(ctx, s.now()); err != nil {
			s.log.ErrorContext(ctx, "delete expired rows", "error", err)
		} else if n > 0 {
			s.log.DebugContext(ctx, "deleted expired rows", "count", n)
		}
		if err := s.keys.Load(ctx); err != nil {
			s.log.ErrorContext(ctx, "reload signing keys", "error", err)
		}
	}
}

func (s *Server) url(path string) string { return s.issuer + path }

// randomToken returns 256 random bits, base64url: codes, refresh tokens,
// device codes, session IDs and client secrets (section 7.10: at least
// 128 bits of entropy).
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomID returns 128 random bits, hex-encoded, for identifiers.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	// Hex, not base64url: an identifier that starts with "-" would be
	// taken for a flag by command lines (cruise auth client delete ID).
	return hex.EncodeToString(b)
}

func (s *Server) internalError(ctx context.Context, what string, err error) *Error {
	s.log.ErrorContext(ctx, what, "error", err)
	return serverError(err)
}
