package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/cruisegitops/cruise/oauth/loopback"
	"github.com/cruisegitops/cruise/oauth/store"
)

// Options configure a Server. The zero value of every field but Issuer and
// Store is a safe default.
type Options struct {
	// Issuer is the server's identifier (RFC 8414 section 2): an https URL
	// without query or fragment; http is accepted only for a loopback host.
	// Endpoints are served under its path.
	Issuer string
	// Store keeps clients, users and grants.
	Store store.Store
	// Audience is the "aud" of access tokens (RFC 9068 section 3); default
	// the issuer.
	Audience string
	// Scopes the server issues besides the OpenID Connect ones (openid,
	// profile, email, groups, offline_access).
	Scopes []string
	// Token lifetimes. Defaults: access and ID tokens 10 min (at most 15
	// unless raised here), codes 60 s, refresh tokens 72 h idle and 30
	// days absolute, device codes 10 min, login sessions 12 h.
	AccessTokenTTL     time.Duration
	IDTokenTTL         time.Duration
	CodeTTL            time.Duration
	RefreshIdleTTL     time.Duration
	RefreshAbsoluteTTL time.Duration
	DeviceCodeTTL      time.Duration
	SessionTTL         time.Duration
	// DeviceInterval is the minimum polling interval (RFC 8628 section
	// 3.2); default 5 s.
	DeviceInterval time.Duration
	// SigningAlgorithm is "ES256" (default) or "EdDSA".
	SigningAlgorithm string
	// KeyRotationPeriod: a key older than this is replaced; default 30 days.
	KeyRotationPeriod time.Duration
	// Throttle limits failed authentications; zero values take defaults.
	Throttle ThrottleOptions
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server (an ingress controller, a load balancer). The throttles
	// key failures by the address a request comes from; a request whose
	// peer is in one of these networks comes from the address the proxies
	// report in X-Forwarded-For (the rightmost entry that is not a trusted
	// proxy). Without them (the default) that header is ignored, since
	// anyone can write it: behind a proxy, every request then seems to
	// come from the proxy, and one party's failures slow everyone.
	TrustedProxies []netip.Prefix
	// IntrospectionRate is the number of introspection requests per second
	// each client may make (burst twice that); default 100.
	IntrospectionRate float64
	// FirstPartyClients are client IDs run by the same operator as this
	// server (for cruise: its web UI and CLI). Authorizing them shows no
	// consent page, since the operator consented for its users (OpenID
	// Connect Core section 3.1.2.4 lets consent be established by other
	// means); prompt=consent still asks. The device flow's confirmation
	// page stays: it guards against a phished user code.
	FirstPartyClients []string
	// Upstream, if set, federates login to an OpenID provider.
	Upstream *UpstreamOptions
	// Logger receives operational messages; never secrets. Default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// ThrottleOptions bound brute force against client secrets, passwords and
// user codes (draft-ietf-oauth-v2-1 section 7.4.3): after MaxFailures
// failures for one key, further attempts with it are refused for Lockout,
// doubling with each further failure up to MaxLockout. Keys never name a
// party alone, so that nobody can lock out someone else at another
// address:
//
//   - a confidential client's authentication: the client at the source
//     address;
//   - any other failed client authentication (an unknown client, or
//     credentials sent for a public client, which has none to guess): the
//     source address; a public client sending only its client_id is never
//     throttled;
//   - a password: the account at the source address, and the source
//     address for any account with four times MaxFailures;
//   - a device user code: the source address.
type ThrottleOptions struct {
	MaxFailures int           // default 5
	Lockout     time.Duration // default 1 s
	MaxLockout  time.Duration // default 5 min
}

// perSource is the budget of a source address across accounts.
func (o ThrottleOptions) perSource() ThrottleOptions {
	o.MaxFailures *= 4
	return o
}

// UpstreamOptions configure login federation to an OpenID provider.
type UpstreamOptions struct {
	// Issuer of the upstream provider; its discovery document is read at
	// start.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Name is shown on the login button; default "single sign-on".
	Name string
	// Scopes requested upstream; default openid, profile, email, groups.
	Scopes []string
	// GroupsClaim names the ID token claim with the user's groups;
	// default "groups".
	GroupsClaim string
	// HTTPClient makes the outbound calls; default a client with a 10 s
	// timeout.
	HTTPClient *http.Client
}

func (o *Options) setDefaults() error {
	if o.Store == nil {
		return errors.New("oauth: Options.Store is required")
	}
	iss, err := checkIssuer(o.Issuer)
	if err != nil {
		return err
	}
	o.Issuer = iss
	if o.Audience == "" {
		o.Audience = o.Issuer
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.AccessTokenTTL, 10*time.Minute)
	def(&o.IDTokenTTL, 10*time.Minute)
	def(&o.CodeTTL, 60*time.Second)
	def(&o.RefreshIdleTTL, 72*time.Hour)
	def(&o.RefreshAbsoluteTTL, 30*24*time.Hour)
	def(&o.DeviceCodeTTL, 10*time.Minute)
	def(&o.SessionTTL, 12*time.Hour)
	def(&o.DeviceInterval, 5*time.Second)
	def(&o.KeyRotationPeriod, 30*24*time.Hour)
	def(&o.Throttle.Lockout, time.Second)
	def(&o.Throttle.MaxLockout, 5*time.Minute)
	if o.Throttle.MaxFailures <= 0 {
		o.Throttle.MaxFailures = 5
	}
	trusted := make([]netip.Prefix, len(o.TrustedProxies))
	for i, p := range o.TrustedProxies {
		if !p.IsValid() {
			return errors.New("oauth: Options.TrustedProxies holds an invalid prefix")
		}
		trusted[i] = p.Masked()
	}
	o.TrustedProxies = trusted
	if o.IntrospectionRate <= 0 {
		o.IntrospectionRate = 100
	}
	if o.SigningAlgorithm == "" {
		o.SigningAlgorithm = "ES256"
	}
	if o.SigningAlgorithm != "ES256" && o.SigningAlgorithm != "EdDSA" {
		return fmt.Errorf("oauth: signing algorithm %q: want ES256 or EdDSA", o.SigningAlgorithm)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if u := o.Upstream; u != nil {
		if u.Issuer == "" || u.ClientID == "" {
			return errors.New("oauth: Upstream needs Issuer and ClientID")
		}
		if u.Name == "" {
			u.Name = "single sign-on"
		}
		if len(u.Scopes) == 0 {
			u.Scopes = []string{"openid", "profile", "email", "groups"}
		}
		if u.GroupsClaim == "" {
			u.GroupsClaim = "groups"
		}
		if u.HTTPClient == nil {
			u.HTTPClient = &http.Client{Timeout: 10 * time.Second}
		}
	}
	return nil
}

// checkIssuer validates an issuer identifier (RFC 8414 section 2) and
// returns it without a trailing slash.
func checkIssuer(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("oauth: issuer %q is not an absolute URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("oauth: issuer %q must have no query, fragment or user info", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.IsHost(u.Hostname()) {
			return "", fmt.Errorf("oauth: issuer %q: plain http only on a loopback address", raw)
		}
	default:
		return "", fmt.Errorf("oauth: issuer %q: scheme must be https", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}
