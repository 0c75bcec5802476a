package oauth

import (
	"net/http"
	"slices"

	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/store"
)

// oidcScopes are the OpenID Connect scopes (OIDC Core section 5.4) plus
// groups.
var oidcScopes = []string{"openid", "profile", "email", "groups", "offline_access"}

func (s *Server) supportedScopes() []string {
	return append(slices.Clone(oidcScopes), s.opts.Scopes...)
}

// metadata is the authorization server metadata (RFC 8414 section 2) and,
// the same document, the OpenID provider metadata (OpenID Connect
// Discovery 1.0 section 3).
func (s *Server) metadata() map[string]any {
	dpopAlgs := make([]string, len(dpop.Algorithms))
	for i, a := range dpop.Algorithms {
		dpopAlgs[i] = string(a)
	}
	m := map[string]any{
		"issuer":                                           s.issuer,
		"authorization_endpoint":                           s.url(PathAuthorize),
		"token_endpoint":                                   s.url(PathToken),
		"jwks_uri":                                         s.url(PathJWKS),
		"revocation_endpoint":                              s.url(PathRevoke),
		"introspection_endpoint":                           s.url(PathIntrospect),
		"device_authorization_endpoint":                    s.url(PathDeviceAuthorization),
		"userinfo_endpoint":                                s.url(PathUserinfo),
		"scopes_supported":                                 s.supportedScopes(),
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query"},
		"grant_types_supported":                            []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantClientCredentials, store.GrantDeviceCode},
		"token_endpoint_auth_methods_supported":            []string{authSecretBasic, authSecretPost, authPrivateKeyJWT, authNone},
		"token_endpoint_auth_signing_alg_values_supported": []string{"ES256", "ES384", "EdDSA", "RS256", "PS256"},
		"revocation_endpoint_auth_methods_supported":       []string{authSecretBasic, authSecretPost, authPrivateKeyJWT, authNone},
		"introspection_endpoint_auth_methods_supported":    []string{authSecretBasic, authSecretPost, authPrivateKeyJWT},
		"code_challenge_methods_supported":                 []string{"S256"},
		// RFC 9207 section 3.
		"authorization_response_iss_parameter_supported": true,
		"dpop_signing_alg_values_supported":              dpopAlgs,
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{s.keys.Algorithm()},
		"claims_supported":                               []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username", "email", "groups"},
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"prompt_values_supported":                        []string{"none", "login", "consent"},
	}
	return m
}

// handleMetadata serves RFC 8414 section 3 and OpenID Connect Discovery
// section 4.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSONBody(w, http.StatusOK, s.metadata())
}

// handleJWKS serves the public signing keys (RFC 7517 section 5).
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	set, err := s.keys.KeySet(r.Context())
	if err != nil {
		writeJSONError(w, s.internalError(r.Context(), "key set", err))
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSONBody(w, http.StatusOK, set)
}
