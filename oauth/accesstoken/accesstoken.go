package accesstoken

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Type is the JOSE "typ" header of access tokens (RFC 9068 section 2.1).
const Type = "at+jwt"

// Algorithms are the signature algorithms the server signs with and
// verifiers accept; "none" and symmetric algorithms never are.
var Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA}

// Confirmation is the "cnf" claim binding a token to a DPoP key (RFC 9449
// section 6.1).
type Confirmation struct {
	JKT string `json:"jkt"`
}

// Claims are the claims of an access token.
type Claims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	ID        string           `json:"jti"`
	ClientID  string           `json:"client_id"`
	Scope     string           `json:"scope,omitempty"`
	AuthTime  int64            `json:"auth_time,omitempty"`
	Groups    []string         `json:"groups,omitempty"`
	// Username and Email describe the user for resource servers that
	// name people rather than opaque subjects (cruise server impersonates
	// Kubernetes users by one of them); empty for client credentials.
	Username string `json:"preferred_username,omitempty"`
	Email    string `json:"email,omitempty"`
	// SessionID names the grant family the token was issued from; it is
	// empty for client credentials.
	SessionID    string        `json:"sid,omitempty"`
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Scopes returns the scope claim split on spaces.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScopes reports whether every one of want was granted.
func (c *Claims) HasScopes(want ...string) bool {
	have := c.Scopes()
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Sign serialises claims with signer, which must set the "at+jwt" type
// header and a key ID.
func Sign(signer jose.Signer, claims *Claims) (string, error) {
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// VerifyOptions say what a valid token looks like.
type VerifyOptions struct {
	// Issuer must equal the iss claim exactly.
	Issuer string
	// Audience must be one of the aud values.
	Audience string
	// Keys verify the signature; the token's kid selects the key.
	Keys *jose.JSONWebKeySet
	// Now is the validation time.
	Now time.Time
	// Leeway tolerates clock skew on exp, nbf and iat; default 30s.
	Leeway time.Duration
}

// Errors of Verify. ErrUnknownKey lets a caller refresh its key set and
// retry.
var (
	ErrMalformed  = errors.New("malformed access token")
	ErrUnknownKey = errors.New("access token signed by an unknown key")
	ErrInvalid    = errors.New("invalid access token")
)

// Verify checks an access token as RFC 9068 section 4 prescribes: the
// "at+jwt" type, an allowed algorithm, a signature by one of the keys, the
// issuer, the audience and the time window. It returns the claims.
func Verify(token string, opts VerifyOptions) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, Algorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrMalformed, len(tok.Headers))
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, Type) && !strings.EqualFold(typ, "application/"+Type) {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrInvalid, typ, Type)
	}
	if h.KeyID == "" || opts.Keys == nil {
		return nil, fmt.Errorf("%w: no key ID", ErrUnknownKey)
	}
	keys := opts.Keys.Key(h.KeyID)
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, h.KeyID)
	}
	var claims Claims
	var verified bool
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if err := tok.Claims(k.Public().Key, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, fmt.Errorf("%w: signature", ErrInvalid)
	}
	leeway := opts.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	switch {
	case claims.Issuer != opts.Issuer:
		return nil, fmt.Errorf("%w: issuer %q", ErrInvalid, claims.Issuer)
	case opts.Audience == "" || !claims.Audience.Contains(opts.Audience):
		return nil, fmt.Errorf("%w: audience %q", ErrInvalid, []string(claims.Audience))
	case claims.Expiry == nil || opts.Now.After(claims.Expiry.Time().Add(leeway)):
		return nil, fmt.Errorf("%w: expired", ErrInvalid)
	case claims.NotBefore != nil && opts.Now.Add(leeway).Before(claims.NotBefore.Time()):
		return nil, fmt.Errorf("%w: not yet valid", ErrInvalid)
	case claims.IssuedAt != nil && opts.Now.Add(leeway).Before(claims.IssuedAt.Time()):
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalid)
	case claims.Subject == "" || claims.ClientID == "" || claims.ID == "":
		return nil, fmt.Errorf("%w: missing sub, client_id or jti", ErrInvalid)
	}
	return &claims, nil
}
