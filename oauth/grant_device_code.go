package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/store"
)

// grantDeviceCode is the device access token request (RFC 8628 section
// 3.4 and 3.5): authorization_pending until the user decides, slow_down
// when polled faster than the interval, access_denied, expired_token, and
// once approved exactly one token response.
func (s *Server) grantDeviceCode(ctx context.Context, client store.Client, p params, proof *dpop.Proof) (*tokenResponse, *Error) {
	code := p["device_code"]
	if code == "" {
		return nil, invalidRequest("device_code is required")
	}
	now := s.now()
	d, err := s.store.PollDeviceCode(ctx, store.HashToken(code), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("unknown device code")
	} else if err != nil {
		return nil, s.internalError(ctx, "poll device code", err)
	}
	bad := func(code, desc string) (*tokenResponse, *Error) {
		return nil, errorf(code, http.StatusBadRequest, "%s", desc)
	}
	switch {
	case d.ClientID != client.ID:
		return bad(ErrInvalidGrant, "the device code was issued to another client")
	case !now.Before(d.ExpiresAt):
		return bad(ErrExpiredToken, "the device code has expired")
	case !d.LastPoll.IsZero() && now.Sub(d.LastPoll) < d.Interval:
		return bad(ErrSlowDown, "polling faster than the interval")
	}
	switch d.Status {
	case store.DevicePending:
		return bad(ErrAuthorizationPending, "the user has not decided yet")
	case store.DeviceDenied:
		return bad(ErrAccessDenied, "the user denied the request")
	case store.DeviceApproved:
	default:
		return bad(ErrInvalidGrant, "the device code was already used")
	}
	if err := s.store.ConsumeDeviceCode(ctx, d.Hash); err != nil {
		return bad(ErrInvalidGrant, "the device code was already used")
	}
	user, err := s.store.GetUser(ctx, d.UserID)
	if err != nil {
		return bad(ErrInvalidGrant, "the user no longer exists")
	}
	fam := store.Family{ID: randomID(), ClientID: client.ID, UserID: user.ID, Scopes: d.Scopes,
		AuthTime: d.AuthTime, CreatedAt: now, ExpiresAt: now.Add(s.opts.AccessTokenTTL)}
	if client.Public && proof != nil {
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
	return s.respond(ctx, issued{client: client, user: &user, scopes: d.Scopes, familyID: fam.ID,
		authTime: d.AuthTime, proof: proof}, refresh)
}
