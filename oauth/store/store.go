package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// Errors returned by every implementation. Callers compare with errors.Is.
var (
	// ErrNotFound: no row with that key (or it has expired).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyUsed: a single-use value (code, refresh token, device code,
	// JWT ID) was used before.
	ErrAlreadyUsed = errors.New("already used")
	// ErrExists: a row with that unique key exists.
	ErrExists = errors.New("already exists")
)

// HashToken returns the form in which a high-entropy secret (code, refresh
// token, client secret, session ID) is stored: base64url(SHA-256(token)).
// A fast hash is enough because the tokens carry at least 128 bits of
// entropy; passwords use argon2id instead.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Store is everything the authorization server needs. Implementations must
// be safe for concurrent use.
type Store interface {
	ClientStore
	UserStore
	SessionStore
	ConsentStore
	CodeStore
	RefreshStore
	DeviceStore
	ReplayStore
	PendingStore
	KeyStore
	// DeleteExpired removes every row that expired before now and returns
	// how many went.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
	Close() error
}

// ClientStore keeps registered OAuth clients.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, clientID string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)
	DeleteClient(ctx context.Context, clientID string) error
}

// UserStore keeps local and federated user accounts.
type UserStore interface {
	CreateUser(ctx context.Context, u User) error
	// UpsertUpstreamUser creates or updates the account linked to an
	// upstream identity (u.Upstream) and returns it with its stable ID.
	UpsertUpstreamUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, userID string) (User, error)
	GetUserByName(ctx context.Context, name string) (User, error)
	DeleteUserByName(ctx context.Context, name string) error
}

// SessionStore keeps browser login sessions, keyed by HashToken(cookie).
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, hash string, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, hash string) error
}

// ConsentStore keeps what each user allowed each client.
type ConsentStore interface {
	// SaveConsent records (or widens) the scopes userID granted clientID.
	SaveConsent(ctx context.Context, c Consent) error
	GetConsent(ctx context.Context, userID, clientID string) (Consent, error)
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	// RevokeConsent deletes the consent and revokes every grant family of
	// that user and client.
	RevokeConsent(ctx context.Context, userID, clientID string, now time.Time) error
}

// CodeStore keeps authorization codes (OAuth 2.1 section 4.1.2).
type CodeStore interface {
	CreateCode(ctx context.Context, c AuthCode) error
	// GetCode returns the code, used or not, so that the caller can check
	// its bindings before consuming it.
	GetCode(ctx context.Context, hash string) (AuthCode, error)
	// ConsumeCode marks the code used. It returns ErrAlreadyUsed when the
	// code was used before, atomically: of two concurrent callers exactly
	// one gets nil.
	ConsumeCode(ctx context.Context, hash string, now time.Time) error
}

// RefreshStore keeps grant families and their refresh tokens. A family is
// one authorization (one code, one device approval); every refresh token
// and access token issued from it names it, so revoking the family revokes
// all of them.
type RefreshStore interface {
	// CreateFamily stores the family and, if first is not nil, its first
	// refresh token. If the ID was revoked before (see RevokeFamily), the
	// revoked family stays.
	CreateFamily(ctx context.Context, f Family, first *RefreshToken) error
	GetFamily(ctx context.Context, familyID string) (Family, error)
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, Family, error)
	// RotateRefreshToken marks oldHash used and stores next in one
	// transaction. If oldHash was used before, it revokes the whole family
	// and returns ErrAlreadyUsed (refresh token replay, OAuth 2.1 section
	// 4.3.1).
	RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time) error
	// RevokeFamily revokes the family; if it does not exist yet, a revoked
	// placeholder is stored so that a later CreateFamily of that ID stays
	// revoked (a code replay racing the first redemption).
	RevokeFamily(ctx context.Context, familyID string, now time.Time) error
}

// DeviceStore keeps device authorization requests (RFC 8628).
type DeviceStore interface {
	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	GetDeviceCodeByUserCode(ctx context.Context, userCode string, now time.Time) (DeviceCode, error)
	// DecideDeviceCode records the user's decision on a pending request.
	DecideDeviceCode(ctx context.Context, userCode string, decision DeviceStatus, userID string, authTime time.Time) error
	// PollDeviceCode records a poll and returns the row as it was before,
	// so the caller can compare LastPoll with the interval.
	PollDeviceCode(ctx context.Context, hash string, now time.Time) (DeviceCode, error)
	// ConsumeDeviceCode turns an approved request into consumed; exactly
	// one caller succeeds, the others get ErrAlreadyUsed.
	ConsumeDeviceCode(ctx context.Context, hash string) error
}

// ReplayStore records JWT IDs (DPoP proofs, client assertions) and revoked
// access tokens until they expire.
type ReplayStore interface {
	// RecordJTI stores key until expiresAt; it returns ErrAlreadyUsed when
	// key is already recorded.
	RecordJTI(ctx context.Context, key string, expiresAt time.Time) error
	// HasJTI reports whether key is recorded.
	HasJTI(ctx context.Context, key string) (bool, error)
}

// PendingStore keeps short-lived interaction state: authorization requests
// waiting for login or consent, upstream login states.
type PendingStore interface {
	PutPending(ctx context.Context, key string, value []byte, expiresAt time.Time) error
	GetPending(ctx context.Context, key string, now time.Time) ([]byte, error)
	// TakePending returns and deletes the value; exactly one caller gets it.
	TakePending(ctx context.Context, key string, now time.Time) ([]byte, error)
}

// KeyStore keeps the signing keys.
type KeyStore interface {
	AddSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns the keys not yet expired, newest first.
	ListSigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error)
}
