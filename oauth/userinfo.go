package oauth

import (
	"net/http"

	"github.com/cruisegitops/cruise/oauth/resource"
)

func (s *Server) newUserinfoVerifier() (*resource.Verifier, error) {
	return resource.New(resource.Options{
		Issuer: s.issuer, Audience: s.opts.Audience, Keys: s.keys, Now: s.now,
		Revoked:    s.accessTokenRevoked,
		RequestURL: func(*http.Request) string { return s.url(PathUserinfo) },
	})
}

// handleUserinfo is the UserInfo endpoint (OpenID Connect Core section
// 5.3): an access token with the openid scope, from the Authorization
// header only (RFC 6750 section 2.1), returns the claims its scopes
// release.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	claims, e := s.userinfo.Authenticate(r)
	if e == nil && !claims.HasScopes("openid") {
		e = &resource.Error{Status: http.StatusForbidden, Code: "insufficient_scope", Scope: []string{"openid"}}
	}
	if e != nil {
		e.Write(w, "cruise")
		return
	}
	user, err := s.store.GetUser(r.Context(), claims.Subject)
	if err != nil {
		(&resource.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "unknown user"}).Write(w, "cruise")
		return
	}
	out := userClaims(user, claims.Scopes())
	out["sub"] = user.ID
	writeJSON(w, http.StatusOK, out)
}
