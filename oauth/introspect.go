package oauth

import (
	"net/http"
	"strings"

	"github.com/cruisegitops/cruise/oauth/store"
)

// handleIntrospect is the introspection endpoint (RFC 7662 section 2).
// Only authenticated confidential clients may call it (section 2.1: "the
// endpoint MUST also require some form of authorization"), each within a
// request rate, so that it cannot be used to scan for tokens (section
// 4). Access tokens introspect for any such caller; refresh tokens only
// for the client they were issued to. Anything else is {"active": false}.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, client, ok := s.authenticatedRequest(w, r)
	if !ok {
		return
	}
	if client.Public {
		writeJSONError(w, invalidClient("public clients cannot introspect"))
		return
	}
	if ok, wait := s.introspectRate.allow(client.ID); !ok {
		e := invalidRequest("introspection rate exceeded")
		e.Status, e.RetryAfter = http.StatusTooManyRequests, wait
		writeJSONError(w, e)
		return
	}
	token := p["token"]
	if token == "" {
		writeJSONError(w, invalidRequest("token is required"))
		return
	}
	inactive := map[string]any{"active": false}
	if claims, err := s.verifyOwnAccessToken(ctx, token); err == nil {
		revoked, err := s.accessTokenRevoked(ctx, claims)
		if err != nil {
			writeJSONError(w, s.internalError(ctx, "check revocation", err))
			return
		}
		if revoked {
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		resp := map[string]any{
			"active": true, "iss": claims.Issuer, "sub": claims.Subject, "aud": []string(claims.Audience),
			"client_id": claims.ClientID, "exp": claims.Expiry.Time().Unix(), "iat": claims.IssuedAt.Time().Unix(),
			"jti": claims.ID, "token_type": "Bearer",
		}
		if claims.Scope != "" {
			resp["scope"] = claims.Scope
		}
		if claims.Groups != nil {
			resp["groups"] = claims.Groups
		}
		if claims.Confirmation != nil {
			resp["token_type"], resp["cnf"] = "DPoP", claims.Confirmation
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	rt, fam, err := s.store.GetRefreshToken(ctx, store.HashToken(token))
	now := s.now()
	if err != nil || fam.ClientID != client.ID || fam.Revoked() || !rt.UsedAt.IsZero() ||
		!now.Before(rt.ExpiresAt) || !now.Before(fam.ExpiresAt) {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"active": true, "iss": s.issuer, "sub": fam.UserID, "client_id": fam.ClientID,
		"scope": strings.Join(fam.Scopes, " "), "exp": rt.ExpiresAt.Unix(), "iat": rt.CreatedAt.Unix(),
	})
}
