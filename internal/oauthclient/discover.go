package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/apiclient"
)

// Metadata is what the client reads of the authorization server metadata
// (RFC 8414 section 2).
type Metadata struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported"`
	// IssParameter says the authorization response carries iss (RFC
	// 9207 section 3), which the client must then check.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// Endpoint is the x/oauth2 view of the metadata; a public client sends
// its client_id in the form.
func (m *Metadata) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
		DeviceAuthURL: m.DeviceAuthorizationEndpoint, AuthStyle: oauth2.AuthStyleInParams}
}

// Discover reads and checks the metadata of issuer: its issuer must be
// the one asked for (RFC 8414 section 3.3), its endpoints https (or http
// on loopback), and PKCE with S256 supported.
func Discover(ctx context.Context, issuer string) (*Metadata, error) {
	urls, err := metadataURLs(issuer)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, u := range urls {
		md, err := fetchMetadata(ctx, u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if md.Issuer != strings.TrimSuffix(issuer, "/") && md.Issuer != issuer {
			return nil, fmt.Errorf("metadata at %s names issuer %q, not %q", u, md.Issuer, issuer)
		}
		if err := md.check(); err != nil {
			return nil, fmt.Errorf("metadata at %s: %w", u, err)
		}
		return md, nil
	}
	return nil, fmt.Errorf("authorization server metadata of %s: %w", issuer, errors.Join(errs...))
}

// metadataURLs are where the metadata of issuer may be: first the RFC 8414
// section 3.1 location (the well-known path inserted between host and the
// issuer's path), then OpenID Connect Discovery's (appended to the
// issuer).
func metadataURLs(issuer string) ([]string, error) {
	u, err := apiclient.CheckURL(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	if u.RawQuery != "" {
		return nil, fmt.Errorf("issuer %q must have no query", issuer)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return []string{
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path,
		strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration",
	}, nil
}

func (m *Metadata) check() error {
	if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
		return errors.New("no authorization or token endpoint")
	}
	for _, e := range []string{m.AuthorizationEndpoint, m.TokenEndpoint, m.DeviceAuthorizationEndpoint, m.RevocationEndpoint} {
		if e == "" {
			continue
		}
		if _, err := apiclient.CheckURL(e); err != nil {
			return err
		}
	}
	if len(m.CodeChallengeMethods) > 0 && !slices.Contains(m.CodeChallengeMethods, "S256") {
		return errors.New("PKCE with S256 is not supported")
	}
	return nil
}

func fetchMetadata(ctx context.Context, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(ctx).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var md Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return &md, nil
}

// NewHTTPClient makes the calls to the authorization server: a time
// limit, and no redirects (a token endpoint that redirects is
// misconfigured, and following it could send a token elsewhere). Every
// function of the package uses the client of its context (x/oauth2's
// oauth2.HTTPClient key), else one of these.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout: apiclient.DefaultTimeout,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("the authorization server redirected to %s; redirects are not followed", req.URL.Redacted())
		},
	}
}

// httpClient is the client for ctx.
func httpClient(ctx context.Context) *http.Client {
	if hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return hc
	}
	return NewHTTPClient()
}

// withHTTPClient gives ctx a client, so that x/oauth2 uses one of
// NewHTTPClient rather than http.DefaultClient, which follows redirects.
func withHTTPClient(ctx context.Context) context.Context {
	if _, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, NewHTTPClient())
}
