package oauth

import (
	"context"
	"net/http"

	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/store"
)

// grantClientCredentials issues a token to a confidential client acting on
// its own behalf (draft-ietf-oauth-v2-1 section 4.2), such as a CI
// pipeline. Public clients cannot authenticate, so they may not use it
// (section 4.2: "MUST only be used by confidential clients"). No refresh
// token is issued (section 4.2.1) and user scopes (openid,
// offline_access) are refused.
func (s *Server) grantClientCredentials(ctx context.Context, client store.Client, p params, proof *dpop.Proof) (*tokenResponse, *Error) {
	if client.Public {
		return nil, errorf(ErrUnauthorizedClient, http.StatusBadRequest, "public clients cannot use client_credentials")
	}
	scopes := splitScopes(p["scope"])
	if e := s.checkScopes(client, scopes); e != nil {
		return nil, e
	}
	for _, sc := range scopes {
		if sc == "openid" || sc == "offline_access" {
			return nil, errorf(ErrInvalidScope, http.StatusBadRequest, "scope %q needs a user", sc)
		}
	}
	return s.respond(ctx, issued{client: client, scopes: scopes, proof: proof}, "")
}
