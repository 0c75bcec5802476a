package resource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cruisegitops/cruise/oauth/accesstoken"
	"github.com/cruisegitops/cruise/oauth/dpop"
)

// KeySource supplies the authorization server's public keys.
type KeySource interface {
	KeySet(ctx context.Context) (*jose.JSONWebKeySet, error)
}

// Refresher is a KeySource that can re-fetch its keys when a token names
// an unknown key ID.
type Refresher interface {
	Refresh(ctx context.Context) error
}

// Options configure a Verifier.
type Options struct {
	// Issuer and Audience a token must carry.
	Issuer   string
	Audience string
	// Keys verify token signatures.
	Keys KeySource
	// Realm is sent in WWW-Authenticate; default "cruise".
	Realm string
	// Revoked, if set, is asked about every otherwise valid token; true
	// refuses it as invalid_token.
	Revoked func(ctx context.Context, c *accesstoken.Claims) (bool, error)
	// RequestURL returns the URL a DPoP proof must name (htu); default
	// scheme, host and path of the request as received.
	RequestURL func(r *http.Request) string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Verifier checks access tokens on requests. It is safe for concurrent use.
type Verifier struct {
	opts   Options
	replay *jtiCache
}

// New returns a Verifier.
func New(opts Options) (*Verifier, error) {
	if opts.Issuer == "" || opts.Audience == "" || opts.Keys == nil {
		return nil, errors.New("resource: Issuer, Audience and Keys are required")
	}
	if opts.Realm == "" {
		opts.Realm = "cruise"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RequestURL == nil {
		opts.RequestURL = requestURL
	}
	return &Verifier{opts: opts, replay: &jtiCache{seen: map[string]time.Time{}}}, nil
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

// Error is a refusal with its RFC 6750 section 3.1 error code.
type Error struct {
	Status      int
	Code        string // "", invalid_request, invalid_token, insufficient_scope, invalid_dpop_proof
	Description string
	// Scope lists the scopes needed, for insufficient_scope.
	Scope []string
	dpop  bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Write sends the refusal with its WWW-Authenticate challenge.
func (e *Error) Write(w http.ResponseWriter, realm string) {
	scheme := "Bearer"
	if e.dpop {
		scheme = "DPoP"
	}
	params := []string{fmt.Sprintf("realm=%q", realm)}
	if e.Code != "" {
		params = append(params, fmt.Sprintf("error=%q", e.Code))
	}
	if e.Description != "" {
		params = append(params, fmt.Sprintf("error_description=%q", strings.ReplaceAll(e.Description, `"`, "'")))
	}
	if len(e.Scope) > 0 {
		params = append(params, fmt.Sprintf("scope=%q", strings.Join(e.Scope, " ")))
	}
	w.Header().Add("WWW-Authenticate", scheme+" "+strings.Join(params, ", "))
	if !e.dpop && e.Code == "" {
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`DPoP realm=%q, algs="ES256 EdDSA"`, realm))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(e.Status), e.Status)
}

func invalidToken(desc string, dpopScheme bool) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: desc, dpop: dpopScheme}
}

// Authenticate checks the request's access token and returns its claims.
func (v *Verifier) Authenticate(r *http.Request) (*accesstoken.Claims, *Error) {
	ctx := r.Context()
	headers := r.Header.Values("Authorization")
	if len(headers) == 0 {
		return nil, &Error{Status: http.StatusUnauthorized}
	}
	if len(headers) > 1 {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: "more than one Authorization header"}
	}
	scheme, token, _ := strings.Cut(headers[0], " ")
	token = strings.TrimSpace(token)
	isDPoP := strings.EqualFold(scheme, "DPoP")
	if !isDPoP && !strings.EqualFold(scheme, "Bearer") {
		return nil, &Error{Status: http.StatusUnauthorized}
	}
	if token == "" {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: "empty token", dpop: isDPoP}
	}
	claims, err := v.verify(ctx, token)
	if err != nil {
		return nil, invalidToken(err.Error(), isDPoP)
	}
	if claims.Confirmation != nil && claims.Confirmation.JKT != "" {
		if !isDPoP {
			return nil, invalidToken("DPoP-bound token sent with the Bearer scheme", false)
		}
		if e := v.checkProof(r, token, claims.Confirmation.JKT); e != nil {
			return nil, e
		}
	} else if isDPoP {
		return nil, invalidToken("token is not DPoP-bound", true)
	}
	if v.opts.Revoked != nil {
		revoked, err := v.opts.Revoked(ctx, claims)
		if err != nil {
			return nil, &Error{Status: http.StatusServiceUnavailable, Code: "", Description: "cannot check revocation"}
		}
		if revoked {
			return nil, invalidToken("token revoked", isDPoP)
		}
	}
	return claims, nil
}

// VerifyBearer checks a bearer token held by the resource server itself
// rather than sent by the client, such as the access token of a web
// session kept in a sealed cookie. A DPoP-bound token is refused: its
// holder must prove possession on each request.
func (v *Verifier) VerifyBearer(ctx context.Context, token string) (*accesstoken.Claims, error) {
	claims, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if claims.Confirmation != nil && claims.Confirmation.JKT != "" {
		return nil, errors.New("token is DPoP-bound")
	}
	if v.opts.Revoked != nil {
		revoked, err := v.opts.Revoked(ctx, claims)
		if err != nil {
			return nil, fmt.Errorf("check revocation: %w", err)
		}
		if revoked {
			return nil, errors.New("token revoked")
		}
	}
	return claims, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*accesstoken.Claims, error) {
	for attempt := 0; ; attempt++ {
		set, err := v.opts.Keys.KeySet(ctx)
		if err != nil {
			return nil, fmt.Errorf("key set unavailable: %w", err)
		}
		claims, err := accesstoken.Verify(token, accesstoken.VerifyOptions{
			Issuer: v.opts.Issuer, Audience: v.opts.Audience, Keys: set, Now: v.opts.Now(),
		})
		if errors.Is(err, accesstoken.ErrUnknownKey) && attempt == 0 {
			if rf, ok := v.opts.Keys.(Refresher); ok && rf.Refresh(ctx) == nil {
				continue
			}
		}
		return claims, err
	}
}

// checkProof verifies the DPoP proof of a request with a bound token (RFC
// 9449 section 7.1).
func (v *Verifier) checkProof(r *http.Request, token, jkt string) *Error {
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return &Error{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof", Description: "exactly one DPoP proof required", dpop: true}
	}
	now := v.opts.Now()
	p, err := dpop.Verify(proofs[0], dpop.Options{Method: r.Method, URL: v.opts.RequestURL(r), AccessToken: token, Now: now})
	if err != nil {
		return &Error{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof", Description: err.Error(), dpop: true}
	}
	if p.JKT != jkt {
		return invalidToken("DPoP proof key does not match the token", true)
	}
	if !v.replay.add(p.JKT+":"+p.JTI, now, now.Add(2*time.Minute)) {
		return &Error{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof", Description: "DPoP proof replayed", dpop: true}
	}
	return nil
}

type claimsKey struct{}

// ClaimsFromContext returns the claims Require stored for the request.
func ClaimsFromContext(ctx context.Context) (*accesstoken.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*accesstoken.Claims)
	return c, ok
}

// Require returns middleware admitting requests whose token is valid and
// carries every one of scopes.
func (v *Verifier) Require(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, e := v.Authenticate(r)
			if e == nil && !claims.HasScopes(scopes...) {
				e = &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Description: "the token lacks a required scope",
					Scope: scopes, dpop: claims.Confirmation != nil}
			}
			if e != nil {
				e.Write(w, v.opts.Realm)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
		})
	}
}

// jtiCache remembers DPoP proof IDs until they expire.
type jtiCache struct {
	mu   sync.Mutex // guards seen
	seen map[string]time.Time
}

func (c *jtiCache) add(key string, now, exp time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) > 10_000 {
		for k, e := range c.seen {
			if now.After(e) {
				delete(c.seen, k)
			}
		}
	}
	if e, ok := c.seen[key]; ok && now.Before(e) {
		return false
	}
	c.seen[key] = exp
	return true
}
