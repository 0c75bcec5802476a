package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"k8s.io/client-go/rest"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/server/web"
	"github.com/cruisegitops/cruise/internal/source"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/loopback"
	"github.com/cruisegitops/cruise/oauth/resource"
)

// Client IDs the built-in authorization server registers for cruise's own
// clients (see RegisterClients).
const (
	UIClientID  = "cruise-ui"
	CLIClientID = "cruise-cli"
)

// APIScopes are the scopes the built-in authorization server issues for
// cruise's API; the server checks Kubernetes RBAC, not scopes, but clients
// ask for them so that consent screens say what is granted.
func APIScopes() []string { return []string{"cruise:read", "cruise:write"} }

// Options configure a Server.
type Options struct {
	// Kube is the server's own identity. It impersonates every user; it
	// needs nothing else than impersonate, API discovery and listing
	// Namespaces.
	Kube *rest.Config
	// PublicURL is where browsers reach the server, e.g.
	// https://cruise.example.com (http only on a loopback address). The
	// UI's redirect URI and the cookie's Secure flag derive from it.
	PublicURL string
	// Auth says who issues the access tokens the server accepts.
	Auth AuthOptions
	// SessionKey seals the UI's session cookies (32 bytes). Random when
	// empty: sessions then end with the process, and replicas do not share
	// them.
	SessionKey []byte
	// GitTimeout bounds each network step of a rollback or a diff's fetch;
	// default 60 s.
	GitTimeout time.Duration
	// CollectInterval is how often the Git cache is collected: the server
	// keeps no revision between requests, so every checkout and every
	// clone not used since the previous collection goes. Default 10m.
	CollectInterval time.Duration
	// CacheDir holds the Git clones diffs render from; default a
	// directory under the system's temp dir.
	CacheDir string
	// SealingKeysNamespace holds the cluster's sealing keys, whose public
	// half GET /api/v1/sealing/publickey shows; default cruise-system.
	SealingKeysNamespace string
	// Logger; discards when nil.
	Logger *slog.Logger
}

// AuthOptions choose the token issuer.
type AuthOptions struct {
	// Builtin is the in-process authorization server. When set, Issuer,
	// Audience and Keys default from it and it is mounted at its issuer's
	// path.
	Builtin *oauth.Server
	// Issuer of an external OpenID Connect provider; its metadata gives
	// the endpoints and the JWKS.
	Issuer string
	// Audience access tokens must carry: for the built-in server, the
	// audience it was configured with.
	Audience string
	// Keys verify token signatures; with an external issuer, its JWKS.
	Keys resource.KeySource
	// Endpoints of the issuer, from its metadata (external issuers).
	AuthorizeURL, TokenURL, RevocationURL string
	// UIClientID and CLIClientID are the clients the UI and the CLI use;
	// default UIClientID and CLIClientID.
	UIClientID, CLIClientID string
	// Scopes the UI and CLI ask for; default openid, profile, email,
	// groups, cruise:read and cruise:write for the built-in server.
	Scopes []string
	// ReadScope and WriteScope, when set, are the scopes a token needs for
	// reading (GET) and for actions (POST): a token granted only read
	// access cannot sync or roll back, whatever the user's RBAC allows.
	// Default cruise:read and cruise:write for the built-in server, none
	// for an external one (its scopes are its own).
	ReadScope, WriteScope string
	// UsernameClaim picks the Kubernetes user name: preferred_username
	// (default), email or sub.
	UsernameClaim string
	// UsernamePrefix and GroupsPrefix are prepended, as the API server's
	// own --oidc-username-prefix would.
	UsernamePrefix, GroupsPrefix string
	// HTTPClient reaches an external issuer; default 10 s timeout.
	HTTPClient *http.Client
}

// Server serves the API, the UI and (when built in) the authorization
// server.
type Server struct {
	opts     Options
	log      *slog.Logger
	kube     *clients
	verifier *resource.Verifier
	sessions *sessions
	uiOAuth  *oauth2.Config
	pages    *web.Renderer
	fetcher  *source.Fetcher
	charts   *chartrepo.Client
	// capabilities is what chart diffs read of the cluster, shared by all
	// users (discovery is open to every authenticated one).
	capabilities *helm.ClusterCache
	openapi      map[string]any
	origin       string
	handler      http.Handler
}

// New returns a Server. It reads API discovery once (with its own
// identity) and nothing else until requests arrive.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Kube == nil {
		return nil, errors.New("server: Options.Kube is required")
	}
	pub, err := url.Parse(strings.TrimRight(opts.PublicURL, "/"))
	if err != nil || pub.Host == "" || (pub.Scheme != "https" && !(pub.Scheme == "http" && loopback.IsHost(pub.Hostname()))) {
		return nil, fmt.Errorf("server: public URL %q must be https, or http on a loopback address", opts.PublicURL)
	}
	opts.PublicURL = pub.String()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.GitTimeout <= 0 {
		opts.GitTimeout = 60 * time.Second
	}
	if err := opts.Auth.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, origin: pub.Scheme + "://" + pub.Host}
	if s.kube, err = newClients(opts.Kube); err != nil {
		return nil, err
	}
	s.capabilities = &helm.ClusterCache{Config: opts.Kube, TTL: 5 * time.Minute}
	a := &opts.Auth
	if s.verifier, err = resource.New(resource.Options{Issuer: a.Issuer, Audience: a.Audience, Keys: a.Keys}); err != nil {
		return nil, err
	}
	if s.sessions, err = newSessions(opts.SessionKey, pub.Scheme == "https", s); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.uiOAuth = &oauth2.Config{
		ClientID:    a.UIClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: a.AuthorizeURL, TokenURL: a.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: opts.PublicURL + "/callback",
		Scopes:      a.Scopes,
	}
	s.charts = chartrepo.NewClient(chartrepo.Options{Timeout: opts.GitTimeout})
	if s.fetcher, err = source.NewFetcher(source.Options{CacheDir: opts.CacheDir, Timeout: opts.GitTimeout}); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	go s.collectCache(ctx, opts.CollectInterval)
	if s.pages, err = web.New(); err != nil {
		return nil, err
	}
	s.openapi = openAPIDocument(opts.PublicURL)
	s.handler = s.routes()
	return s, nil
}

func (a *AuthOptions) setDefaults() error {
	if b := a.Builtin; b != nil {
		iss := b.Issuer()
		if a.Issuer == "" {
			a.Issuer = iss
		}
		if a.Keys == nil {
			a.Keys = b
		}
		if a.AuthorizeURL == "" {
			a.AuthorizeURL, a.TokenURL, a.RevocationURL = iss+oauth.PathAuthorize, iss+oauth.PathToken, iss+oauth.PathRevoke
		}
		if a.Audience == "" {
			a.Audience = iss
		}
		if len(a.Scopes) == 0 {
			a.Scopes = []string{"openid", "profile", "email", "groups", "cruise:read", "cruise:write"}
		}
		if a.ReadScope == "" && a.WriteScope == "" {
			a.ReadScope, a.WriteScope = "cruise:read", "cruise:write"
		}
	}
	if a.Issuer == "" || a.Audience == "" || a.Keys == nil || a.AuthorizeURL == "" || a.TokenURL == "" {
		return errors.New("server: an issuer (built-in or external, with audience, keys and endpoints) is required")
	}
	if len(a.Scopes) == 0 {
		a.Scopes = []string{"openid", "profile", "email", "groups"}
	}
	if a.UIClientID == "" {
		a.UIClientID = UIClientID
	}
	if a.CLIClientID == "" {
		a.CLIClientID = CLIClientID
	}
	switch a.UsernameClaim {
	case "":
		a.UsernameClaim = "preferred_username"
	case "preferred_username", "email", "sub":
	default:
		return fmt.Errorf("server: username claim %q: want preferred_username, email or sub", a.UsernameClaim)
	}
	if a.HTTPClient == nil {
		a.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// oauthContext makes x/oauth2 reach the issuer: in process for the
// built-in server (no hairpin through an ingress), over the network with
// a timeout otherwise.
func (s *Server) oauthContext(ctx context.Context) context.Context {
	hc := s.opts.Auth.HTTPClient
	if b := s.opts.Auth.Builtin; b != nil {
		hc = &http.Client{Transport: handlerTransport{b}, Timeout: 15 * time.Second}
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// handlerTransport answers requests with an in-process handler.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// httptest's recorder is the standard library's in-memory
	// ResponseWriter; nothing here is test-only.
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// routes wires every endpoint. Go 1.22 patterns give method and path
// matching; everything under /api/v1 except authconfig and the OpenAPI
// document is authenticated.
func (s *Server) routes() http.Handler {
	m := http.NewServeMux()
	api := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, s.authenticate(h)) }
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	m.HandleFunc("GET /api/v1/authconfig", s.handleAuthConfig)
	m.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPI)
	api("GET /api/v1/whoami", s.handleWhoami)
	api("GET /api/v1/applications", s.handleListApplications)
	api("GET /api/v1/namespaces/{ns}/applications/{name}", s.handleGetApplication)
	api("GET /api/v1/namespaces/{ns}/applications/{name}/resources", s.handleResources)
	api("GET /api/v1/namespaces/{ns}/applications/{name}/diff", s.handleDiff)
	api("GET /api/v1/namespaces/{ns}/applications/{name}/events", s.handleEvents)
	api("GET /api/v1/namespaces/{ns}/applications/{name}/history", s.handleHistory)
	api("GET /api/v1/namespaces/{ns}/applications/{name}/images", s.handleImages)
	api("POST /api/v1/namespaces/{ns}/applications/{name}/sync", s.handleSync)
	api("POST /api/v1/namespaces/{ns}/applications/{name}/suspend", s.handleSuspend)
	api("POST /api/v1/namespaces/{ns}/applications/{name}/resume", s.handleResume)
	api("POST /api/v1/namespaces/{ns}/applications/{name}/rollback", s.handleRollback)
	api("GET /api/v1/sources", s.handleListSources)
	api("GET /api/v1/namespaces/{ns}/sources/{name}", s.handleGetSource)
	api("GET /api/v1/watch/applications", s.handleWatch)
	api("GET /api/v1/sealing/publickey", s.handleSealingPublicKey)
	m.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newError(http.StatusNotFound, "not_found", "no API route %s %s", r.Method, r.URL.Path))
	}))
	s.uiRoutes(m)
	if b := s.opts.Auth.Builtin; b != nil {
		iss, _ := url.Parse(b.Issuer())
		m.Handle(iss.Path+"/", b)
		m.Handle(b.MetadataPath(), b.MetadataHandler())
	}
	authPrefix := "\x00" // matches nothing
	if b := s.opts.Auth.Builtin; b != nil {
		iss, _ := url.Parse(b.Issuer())
		authPrefix = iss.Path + "/"
	}
	return secureHeaders(authPrefix, limitBody(m))
}

// secureHeaders sets the browser protections on every response; the CSP
// allows only our own script and style files.
// The built-in authorization server's pages set their own.
func secureHeaders(authPrefix string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if !strings.HasPrefix(r.URL.Path, authPrefix) {
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
				"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin") // no-referrer would make browsers send "Origin: null" on our own forms
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds request bodies: the API takes small JSON documents and
// forms only.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		next.ServeHTTP(w, r)
	})
}

// collectCache removes from the Git cache, every interval until ctx ends,
// what no diff is reading: without it every commit ever diffed would stay
// on disk.
func (s *Server) collectCache(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 10 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.fetcher.Collect(ctx, source.Keep{}); err != nil && ctx.Err() == nil {
			s.log.Warn("git cache collection failed", "error", err)
		}
	}
}
