package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store"
)

// ClientSpec describes a client to register.
type ClientSpec struct {
	Name string
	// Public clients (CLIs, single-page apps) have no credentials.
	Public       bool
	RedirectURIs []string
	// GrantTypes default to authorization_code, refresh_token and
	// device_code for public clients, and client_credentials (plus
	// authorization_code and refresh_token when redirect URIs are given)
	// for confidential ones.
	GrantTypes []string
	// Scopes the client may request; empty allows all.
	Scopes []string
	// JWKS makes a confidential client authenticate with private_key_jwt
	// instead of a secret.
	JWKS string
}

// NewClient validates spec and returns the client to store and, for a
// confidential client without JWKS, its secret: 256 random bits, shown
// once and stored only as a hash (draft-ietf-oauth-v2-1 section 2.4.1).
func NewClient(spec ClientSpec, now time.Time) (store.Client, string, error) {
	if spec.Name == "" {
		return store.Client{}, "", errors.New("client name is required")
	}
	grants := spec.GrantTypes
	if len(grants) == 0 {
		switch {
		case spec.Public:
			grants = []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantDeviceCode}
		case len(spec.RedirectURIs) > 0:
			grants = []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantClientCredentials}
		default:
			grants = []string{store.GrantClientCredentials}
		}
	}
	for _, g := range grants {
		switch g {
		case store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantDeviceCode:
		case store.GrantClientCredentials:
			if spec.Public {
				return store.Client{}, "", errors.New("public clients cannot use client_credentials")
			}
		default:
			return store.Client{}, "", fmt.Errorf("grant type %q is not supported (OAuth 2.1 has authorization_code, refresh_token, client_credentials and %s)", g, store.GrantDeviceCode)
		}
	}
	if slices.Contains(grants, store.GrantAuthorizationCode) && len(spec.RedirectURIs) == 0 {
		return store.Client{}, "", errors.New("the authorization_code grant needs at least one redirect URI")
	}
	for _, u := range spec.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			return store.Client{}, "", fmt.Errorf("redirect URI %q: %w", u, err)
		}
	}
	c := store.Client{ID: randomID(), Name: spec.Name, Public: spec.Public, RedirectURIs: spec.RedirectURIs,
		GrantTypes: grants, Scopes: spec.Scopes, CreatedAt: now}
	if spec.Public {
		if spec.JWKS != "" {
			return store.Client{}, "", errors.New("public clients have no keys")
		}
		return c, "", nil
	}
	if spec.JWKS != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(spec.JWKS), &set); err != nil || len(set.Keys) == 0 {
			return store.Client{}, "", errors.New("JWKS is not a JSON Web Key Set with keys")
		}
		for _, k := range set.Keys {
			if !k.IsPublic() {
				return store.Client{}, "", fmt.Errorf("JWKS key %q contains private material", k.KeyID)
			}
		}
		c.JWKS = spec.JWKS
		return c, "", nil
	}
	secret := randomToken()
	c.SecretHash = store.HashToken(secret)
	return c, secret, nil
}

// NewUser returns a local account with an argon2id hash of pw.
func NewUser(name, pw string, groups []string, params password.Params, now time.Time) (store.User, error) {
	if name == "" {
		return store.User{}, errors.New("user name is required")
	}
	if len(pw) < 8 {
		return store.User{}, errors.New("password must have at least 8 characters")
	}
	h, err := password.Hash(pw, params)
	if err != nil {
		return store.User{}, err
	}
	return store.User{ID: randomID(), Name: name, PasswordHash: h, Groups: groups, CreatedAt: now}, nil
}
