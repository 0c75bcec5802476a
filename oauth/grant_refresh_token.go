package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/store"
)

// grantRefreshToken exchanges a refresh token (draft-ietf-oauth-v2-1
// section 4.3).
//
// Validate: the token is bound to the authenticated client (section
// 4.3.1), unexpired both since its own issue (idle) and since the grant
// (absolute), its family unrevoked, the requested scope no wider than the
// grant (invalid_scope), and for a DPoP-bound family the proof's key the
// same (RFC 9449 section 5).
//
// Create: the token is rotated (section 4.3.1, 7.13.2): marked used and
// replaced in one transaction. Presenting a used token again means it was
// stolen or replayed; the whole family is revoked, so neither the attacker
// nor the client can continue.
func (s *Server) grantRefreshToken(ctx context.Context, client store.Client, p params, proof *dpop.Proof) (*tokenResponse, *Error) {
	token := p["refresh_token"]
	if token == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	old, fam, err := s.store.GetRefreshToken(ctx, store.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("unknown refresh token")
	} else if err != nil {
		return nil, s.internalError(ctx, "get refresh token", err)
	}
	now := s.now()
	switch {
	case fam.ClientID != client.ID:
		return nil, invalidGrant("the refresh token was issued to another client")
	case fam.Revoked():
		return nil, invalidGrant("the refresh token was revoked")
	case !old.UsedAt.IsZero():
		return nil, s.refreshReplayed(ctx, fam)
	case !now.Before(old.ExpiresAt), !now.Before(fam.ExpiresAt):
		return nil, invalidGrant("the refresh token has expired")
	case fam.DPoPJKT != "" && (proof == nil || proof.JKT != fam.DPoPJKT):
		return nil, invalidGrant("the refresh token is bound to another DPoP key")
	}
	scopes := fam.Scopes
	if requested := splitScopes(p["scope"]); len(requested) > 0 {
		if !subset(requested, fam.Scopes) {
			return nil, errorf(ErrInvalidScope, http.StatusBadRequest, "the requested scope exceeds the original grant")
		}
		scopes = requested
	}
	user, err := s.store.GetUser(ctx, fam.UserID)
	if err != nil {
		return nil, invalidGrant("the user no longer exists")
	}
	refresh, next := s.newRefreshToken(fam)
	if err := s.store.RotateRefreshToken(ctx, old.Hash, next, now); errors.Is(err, store.ErrAlreadyUsed) {
		return nil, s.refreshReplayed(ctx, fam)
	} else if err != nil {
		return nil, s.internalError(ctx, "rotate refresh token", err)
	}
	return s.respond(ctx, issued{client: client, user: &user, scopes: scopes, familyID: fam.ID,
		authTime: fam.AuthTime, proof: proof}, refresh)
}

func (s *Server) refreshReplayed(ctx context.Context, fam store.Family) *Error {
	if err := s.store.RevokeFamily(ctx, fam.ID, s.now()); err != nil {
		return s.internalError(ctx, "revoke family of replayed refresh token", err)
	}
	s.log.WarnContext(ctx, "refresh token replayed; family revoked", "client_id", fam.ClientID, "family", fam.ID)
	return invalidGrant("the refresh token was already used; the grant is revoked")
}
