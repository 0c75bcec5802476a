package keys

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cruisegitops/cruise/oauth/store"
)

// Generate makes a new private key for alg ("ES256" or "EdDSA") that
// leaves the key set at expiresAt.
func Generate(alg string, now, expiresAt time.Time) (store.SigningKey, error) {
	var priv any
	switch jose.SignatureAlgorithm(alg) {
	case jose.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return store.SigningKey{}, err
		}
		priv = k
	case jose.EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return store.SigningKey{}, err
		}
		priv = k
	default:
		return store.SigningKey{}, fmt.Errorf("unsupported signing algorithm %q (want ES256 or EdDSA)", alg)
	}
	kidBytes := make([]byte, 12)
	rand.Read(kidBytes)
	jwk := jose.JSONWebKey{Key: priv, KeyID: base64.RawURLEncoding.EncodeToString(kidBytes), Algorithm: alg, Use: "sig"}
	b, err := jwk.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{KID: jwk.KeyID, Algorithm: alg, PrivateJWK: b, CreatedAt: now, ExpiresAt: expiresAt}, nil
}

// Rotate adds a new key that signs from now on and stays published for
// lifetime. Older keys keep their own expiry.
func Rotate(ctx context.Context, ks store.KeyStore, alg string, now time.Time, lifetime time.Duration) (store.SigningKey, error) {
	k, err := Generate(alg, now, now.Add(lifetime))
	if err != nil {
		return store.SigningKey{}, err
	}
	if err := ks.AddSigningKey(ctx, k); err != nil {
		return store.SigningKey{}, fmt.Errorf("store signing key: %w", err)
	}
	return k, nil
}

// Options configure a Manager.
type Options struct {
	// Algorithm of keys the Manager generates: "ES256" (default) or
	// "EdDSA".
	Algorithm string
	// RotationPeriod: a new key is generated when the newest is this old;
	// default 30 days.
	RotationPeriod time.Duration
	// Retention is how long a key stays published after it stops signing;
	// at least the longest token lifetime. Default 24h.
	Retention time.Duration
	// Refresh is how often the store is re-read; default 30s.
	Refresh time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Manager gives the current signer and the public key set.
type Manager struct {
	store store.KeyStore
	opts  Options

	mu       sync.RWMutex // guards the fields below
	loadedAt time.Time
	keys     []loadedKey // newest first
	public   jose.JSONWebKeySet
	signers  map[string]jose.Signer // by kid + "/" + typ
}

type loadedKey struct {
	jwk       jose.JSONWebKey
	createdAt time.Time
}

// NewManager returns a Manager over ks; call Load before use.
func NewManager(ks store.KeyStore, opts Options) *Manager {
	if opts.Algorithm == "" {
		opts.Algorithm = string(jose.ES256)
	}
	if opts.RotationPeriod == 0 {
		opts.RotationPeriod = 30 * 24 * time.Hour
	}
	if opts.Retention == 0 {
		opts.Retention = 24 * time.Hour
	}
	if opts.Refresh == 0 {
		opts.Refresh = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Manager{store: ks, opts: opts}
}

// Load re-reads the keys, generating one when none is current (first
// start, or the newest is older than the rotation period).
func (m *Manager) Load(ctx context.Context) error {
	now := m.opts.Now()
	stored, err := m.store.ListSigningKeys(ctx, now)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	if len(stored) == 0 || now.Sub(stored[0].CreatedAt) >= m.opts.RotationPeriod {
		k, err := Rotate(ctx, m.store, m.opts.Algorithm, now, m.opts.RotationPeriod+m.opts.Retention)
		if err != nil {
			return err
		}
		stored = append([]store.SigningKey{k}, stored...)
	}
	loaded := make([]loadedKey, 0, len(stored))
	public := jose.JSONWebKeySet{}
	for _, sk := range stored {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(sk.PrivateJWK, &jwk); err != nil {
			return fmt.Errorf("signing key %s: %w", sk.KID, err)
		}
		if jwk.IsPublic() {
			return fmt.Errorf("signing key %s has no private part", sk.KID)
		}
		loaded = append(loaded, loadedKey{jwk: jwk, createdAt: sk.CreatedAt})
		public.Keys = append(public.Keys, jwk.Public())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.keys) == 0 || m.keys[0].jwk.KeyID != loaded[0].jwk.KeyID {
		m.signers = map[string]jose.Signer{}
	}
	m.keys, m.public, m.loadedAt = loaded, public, now
	return nil
}

func (m *Manager) maybeReload(ctx context.Context) error {
	m.mu.RLock()
	stale := m.opts.Now().Sub(m.loadedAt) >= m.opts.Refresh || len(m.keys) == 0
	m.mu.RUnlock()
	if stale {
		return m.Load(ctx)
	}
	return nil
}

// KeySet returns the public keys, newest first.
func (m *Manager) KeySet(ctx context.Context) (*jose.JSONWebKeySet, error) {
	if err := m.maybeReload(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), m.public.Keys...)}
	return &set, nil
}

// Signer returns a signer with the newest key that sets the JOSE "typ"
// header to typ.
func (m *Manager) Signer(ctx context.Context, typ string) (jose.Signer, error) {
	if err := m.maybeReload(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	if len(m.keys) == 0 {
		m.mu.RUnlock()
		return nil, errors.New("no signing key")
	}
	key := m.keys[0].jwk
	s, ok := m.signers[key.KeyID+"/"+typ]
	m.mu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.signers[key.KeyID+"/"+typ] = s
	m.mu.Unlock()
	return s, nil
}

// Algorithm returns the algorithm of the newest key.
func (m *Manager) Algorithm() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.keys) == 0 {
		return m.opts.Algorithm
	}
	return m.keys[0].jwk.Algorithm
}
