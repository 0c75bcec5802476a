package oauth

import (
	"context"
	"errors"

	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/pkce"
	"github.com/cruisegitops/cruise/oauth/store"
)

// grantAuthorizationCode redeems an authorization code
// (draft-ietf-oauth-v2-1 section 4.1.3).
//
// Validate: the code exists, belongs to the authenticated client, has not
// expired, was sent to the same redirect URI, and the code_verifier
// matches its S256 challenge (RFC 7636 section 4.6); a verifier for a code
// issued without a challenge is a downgrade and refused (section 7.5.3).
// Any failure here is invalid_grant and revokes nothing, so an attacker
// holding a stolen code but no verifier cannot harm the legitimate grant.
//
// Create: the code is consumed atomically. A second valid redemption is a
// replay: it is refused and the tokens issued from the code are revoked
// (section 4.1.2: "SHOULD revoke (when possible) all tokens previously
// issued based on that authorization code").
func (s *Server) grantAuthorizationCode(ctx context.Context, client store.Client, p params, proof *dpop.Proof) (*tokenResponse, *Error) {
	code, verifier := p["code"], p["code_verifier"]
	if code == "" {
		return nil, invalidRequest("code is required")
	}
	if verifier != "" && !pkce.ValidVerifier(verifier) {
		return nil, invalidRequest("code_verifier must be 43-128 unreserved characters")
	}
	c, err := s.store.GetCode(ctx, store.HashToken(code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("unknown authorization code")
	} else if err != nil {
		return nil, s.internalError(ctx, "get code", err)
	}
	now := s.now()
	switch {
	case c.ClientID != client.ID:
		return nil, invalidGrant("the code was issued to another client")
	case !now.Before(c.ExpiresAt):
		return nil, invalidGrant("the code has expired")
	case (c.RedirectURISent || p["redirect_uri"] != "") && p["redirect_uri"] != c.RedirectURI:
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	case c.CodeChallenge == "" && verifier != "":
		return nil, invalidGrant("code_verifier sent for a code issued without code_challenge")
	case c.CodeChallenge == "":
		return nil, invalidGrant("the code was issued without PKCE")
	case verifier == "":
		return nil, invalidGrant("code_verifier is required")
	case !pkce.Verify(verifier, c.CodeChallenge):
		return nil, invalidGrant("code_verifier does not match code_challenge")
	case c.DPoPJKT != "" && (proof == nil || proof.JKT != c.DPoPJKT):
		return nil, invalidGrant("the code is bound to another DPoP key (dpop_jkt)")
	}
	if !c.UsedAt.IsZero() {
		return nil, s.codeReplayed(ctx, c)
	}
	if err := s.store.ConsumeCode(ctx, c.Hash, now); errors.Is(err, store.ErrAlreadyUsed) {
		return nil, s.codeReplayed(ctx, c)
	} else if err != nil {
		return nil, s.internalError(ctx, "consume code", err)
	}
	user, err := s.store.GetUser(ctx, c.UserID)
	if err != nil {
		return nil, invalidGrant("the user no longer exists")
	}

	fam := store.Family{ID: c.FamilyID, ClientID: client.ID, UserID: user.ID, Scopes: c.Scopes,
		AuthTime: c.AuthTime, CreatedAt: now, ExpiresAt: now.Add(s.opts.AccessTokenTTL)}
	if client.Public && proof != nil {
		// RFC 9449 section 5: refresh tokens of public clients are bound
		// to the DPoP key.
		fam.DPoPJKT = proof.JKT
	}
	var refresh string
	var first *store.RefreshToken
	if client.AllowsGrant(store.GrantRefreshToken) {
		fam.ExpiresAt = now.Add(s.opts.RefreshAbsoluteTTL)
		var row store.RefreshToken
		refresh, row = s.newRefreshToken(fam)
		first = &row
	}
	if err := s.store.CreateFamily(ctx, fam, first); err != nil {
		return nil, s.internalError(ctx, "create grant family", err)
	}
	return s.respond(ctx, issued{client: client, user: &user, scopes: c.Scopes, familyID: fam.ID,
		authTime: c.AuthTime, nonce: c.Nonce, proof: proof}, refresh)
}

// codeReplayed revokes what the first redemption issued.
func (s *Server) codeReplayed(ctx context.Context, c store.AuthCode) *Error {
	if err := s.store.RevokeFamily(ctx, c.FamilyID, s.now()); err != nil {
		return s.internalError(ctx, "revoke family of replayed code", err)
	}
	s.log.WarnContext(ctx, "authorization code replayed; grant revoked", "client_id", c.ClientID, "family", c.FamilyID)
	return invalidGrant("the code was already used; tokens issued from it are revoked")
}
