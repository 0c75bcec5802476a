package oauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cruisegitops/cruise/oauth/accesstoken"
	"github.com/cruisegitops/cruise/oauth/store"
)

// handleRevoke is the revocation endpoint (RFC 7009 section 2). Revoking a
// refresh token revokes its whole family, access tokens included (section
// 2.1: "SHOULD also invalidate all access tokens based on the same
// authorization grant"); revoking an access token records its jti until
// it expires. Tokens of other clients and unknown tokens are ignored and
// answered 200 like the rest (section 2.2).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, client, ok := s.authenticatedRequest(w, r)
	if !ok {
		return
	}
	token := p["token"]
	if token == "" {
		writeJSONError(w, invalidRequest("token is required"))
		return
	}
	if err := s.revoke(ctx, client, token); err != nil {
		writeJSONError(w, s.internalError(ctx, "revoke", err))
		return
	}
	noStore(w)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revoke(ctx context.Context, client store.Client, token string) error {
	if _, fam, err := s.store.GetRefreshToken(ctx, store.HashToken(token)); err == nil {
		if fam.ClientID != client.ID {
			return nil
		}
		return s.store.RevokeFamily(ctx, fam.ID, s.now())
	}
	claims, err := s.verifyOwnAccessToken(ctx, token)
	if err != nil || claims.ClientID != client.ID {
		return nil
	}
	return s.store.RecordJTI(ctx, "revoked:"+claims.ID, claims.Expiry.Time().Add(time.Minute))
}

// verifyOwnAccessToken checks a token this server issued.
func (s *Server) verifyOwnAccessToken(ctx context.Context, token string) (*accesstoken.Claims, error) {
	set, err := s.keys.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	return accesstoken.Verify(token, accesstoken.VerifyOptions{Issuer: s.issuer, Audience: s.opts.Audience, Keys: set, Now: s.now()})
}

// accessTokenRevoked reports whether a valid access token was revoked
// itself, through its family, or by deleting its client.
func (s *Server) accessTokenRevoked(ctx context.Context, c *accesstoken.Claims) (bool, error) {
	if revoked, err := s.store.HasJTI(ctx, "revoked:"+c.ID); err != nil || revoked {
		return revoked, err
	}
	if _, err := s.store.GetClient(ctx, c.ClientID); errors.Is(err, store.ErrNotFound) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if c.SessionID == "" {
		return false, nil
	}
	fam, err := s.store.GetFamily(ctx, c.SessionID)
	if err != nil {
		return true, nil
	}
	return fam.Revoked(), nil
}
