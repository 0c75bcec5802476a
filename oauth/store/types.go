package store

import (
	"slices"
	"time"
)

// Grant types the server knows (OAuth 2.1 section 4, RFC 8628).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// Client is a registered OAuth client (OAuth 2.1 section 2).
type Client struct {
	ID   string
	Name string
	// Public clients (native apps, SPAs, CLIs) have no credentials
	// (OAuth 2.1 section 2.1).
	Public bool
	// SecretHash is HashToken(secret) for client_secret_basic and
	// client_secret_post; empty otherwise.
	SecretHash string
	// JWKS is the client's public JSON Web Key Set for private_key_jwt;
	// empty otherwise.
	JWKS         string
	RedirectURIs []string
	GrantTypes   []string
	// Scopes limits what the client may request; empty allows every scope
	// the server supports.
	Scopes    []string
	CreatedAt time.Time
}

// AllowsGrant reports whether the client registered grant type g.
func (c Client) AllowsGrant(g string) bool { return slices.Contains(c.GrantTypes, g) }

// User is a person who logs in: a local account (PasswordHash set) or one
// linked to an upstream OpenID provider (Upstream set).
type User struct {
	// ID is the stable subject identifier ("sub").
	ID   string
	Name string
	// PasswordHash is an argon2id hash in PHC string format.
	PasswordHash string
	Email        string
	Groups       []string
	// Upstream is "issuer sub" of the federated identity.
	Upstream  string
	CreatedAt time.Time
}

// Session is a browser login.
type Session struct {
	Hash      string
	UserID    string
	AuthTime  time.Time
	ExpiresAt time.Time
}

// Consent records the scopes a user allowed a client.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
}

// AuthCode is an authorization code and everything it is bound to.
type AuthCode struct {
	Hash     string
	ClientID string
	UserID   string
	// RedirectURI is the URI the code was sent to; RedirectURISent says
	// whether the authorization request named it (then the token request
	// must repeat it).
	RedirectURI     string
	RedirectURISent bool
	Scopes          []string
	CodeChallenge   string
	Nonce           string
	// DPoPJKT binds the code to a DPoP key (RFC 9449 section 10).
	DPoPJKT   string
	FamilyID  string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// Family is one authorization: the root of the refresh tokens and access
// tokens issued from one code or device approval.
type Family struct {
	ID       string
	ClientID string
	UserID   string
	Scopes   []string
	// DPoPJKT binds every refresh of the family to one DPoP key.
	DPoPJKT   string
	AuthTime  time.Time
	CreatedAt time.Time
	// ExpiresAt is the absolute expiry of the family's refresh tokens.
	ExpiresAt time.Time
	RevokedAt time.Time
}

// Revoked reports whether the family was revoked.
func (f Family) Revoked() bool { return !f.RevokedAt.IsZero() }

// RefreshToken is one refresh token of a family.
type RefreshToken struct {
	Hash     string
	FamilyID string
	// ExpiresAt is the idle expiry: min(issued + idle TTL, family expiry).
	ExpiresAt time.Time
	CreatedAt time.Time
	UsedAt    time.Time
}

// DeviceStatus is the state of a device authorization request.
type DeviceStatus string

// Device authorization states (RFC 8628 section 3.5).
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
	DeviceConsumed DeviceStatus = "consumed"
)

// DeviceCode is a device authorization request (RFC 8628 section 3.2).
type DeviceCode struct {
	Hash      string
	UserCode  string
	ClientID  string
	Scopes    []string
	Status    DeviceStatus
	UserID    string
	AuthTime  time.Time
	Interval  time.Duration
	LastPoll  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SigningKey is a private key in JWK form.
type SigningKey struct {
	KID       string
	Algorithm string
	// PrivateJWK is the JSON Web Key with the private part.
	PrivateJWK []byte
	CreatedAt  time.Time
	// ExpiresAt is when the key leaves the key set; it signs nothing after
	// a newer key exists.
	ExpiresAt time.Time
}
