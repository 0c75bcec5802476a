package oauth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cruisegitops/cruise/oauth/accesstoken"
	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/store"
)

// tokenResponse is a successful token response (draft-ietf-oauth-v2-1
// section 3.2.3, OpenID Connect Core section 3.1.3.3).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// handleToken is the token endpoint (section 3.2): POST only, a form body
// whose parameters each appear once, one client authentication method,
// and the grant types authorization_code, refresh_token,
// client_credentials and device_code; anything else is
// unsupported_grant_type. Every response carries Cache-Control: no-store.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, e := parseBody(w, r)
	if e != nil {
		writeJSONError(w, e)
		return
	}
	grant := p["grant_type"]
	switch grant {
	case "":
		writeJSONError(w, invalidRequest("grant_type is required"))
		return
	case store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantClientCredentials, store.GrantDeviceCode:
	default:
		writeJSONError(w, errorf(ErrUnsupportedGrantType, http.StatusBadRequest, "grant type %q is not supported", grant))
		return
	}
	client, e := s.authenticateClient(ctx, r, p)
	if e != nil {
		writeJSONError(w, e)
		return
	}
	if !client.AllowsGrant(grant) {
		writeJSONError(w, errorf(ErrUnauthorizedClient, http.StatusBadRequest, "the client may not use grant type %q", grant))
		return
	}
	proof, e := s.checkDPoP(ctx, r, s.url(PathToken), "")
	if e != nil {
		writeJSONError(w, e)
		return
	}
	var resp *tokenResponse
	switch grant {
	case store.GrantAuthorizationCode:
		resp, e = s.grantAuthorizationCode(ctx, client, p, proof)
	case store.GrantRefreshToken:
		resp, e = s.grantRefreshToken(ctx, client, p, proof)
	case store.GrantClientCredentials:
		resp, e = s.grantClientCredentials(ctx, client, p, proof)
	case store.GrantDeviceCode:
		resp, e = s.grantDeviceCode(ctx, client, p, proof)
	}
	if e != nil {
		writeJSONError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// issued describes what tokens to mint for a grant.
type issued struct {
	client   store.Client
	user     *store.User // nil for client credentials
	scopes   []string
	familyID string
	authTime time.Time
	nonce    string
	proof    *dpop.Proof
}

// respond mints the access token (and ID token when the openid scope was
// granted to a user) and builds the token response.
func (s *Server) respond(ctx context.Context, g issued, refreshToken string) (*tokenResponse, *Error) {
	at, err := s.mintAccessToken(ctx, g)
	if err != nil {
		return nil, s.internalError(ctx, "sign access token", err)
	}
	resp := &tokenResponse{
		AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.opts.AccessTokenTTL / time.Second),
		RefreshToken: refreshToken, Scope: strings.Join(g.scopes, " "),
	}
	if g.proof != nil {
		resp.TokenType = "DPoP"
	}
	if g.user != nil && contains(g.scopes, "openid") {
		if resp.IDToken, err = s.mintIDToken(ctx, g); err != nil {
			return nil, s.internalError(ctx, "sign ID token", err)
		}
	}
	return resp, nil
}

// mintAccessToken signs an RFC 9068 access token.
func (s *Server) mintAccessToken(ctx context.Context, g issued) (string, error) {
	now := s.now()
	c := &accesstoken.Claims{
		Issuer:    s.issuer,
		Subject:   g.client.ID,
		Audience:  jwt.Audience{s.opts.Audience},
		Expiry:    jwt.NewNumericDate(now.Add(s.opts.AccessTokenTTL)),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        randomID(),
		ClientID:  g.client.ID,
		Scope:     strings.Join(g.scopes, " "),
		SessionID: g.familyID,
	}
	if g.user != nil {
		c.Subject, c.Groups = g.user.ID, g.user.Groups
		c.Username, c.Email = g.user.Name, g.user.Email
		if !g.authTime.IsZero() {
			c.AuthTime = g.authTime.Unix()
		}
	}
	if g.proof != nil {
		c.Confirmation = &accesstoken.Confirmation{JKT: g.proof.JKT}
	}
	signer, err := s.keys.Signer(ctx, accesstoken.Type)
	if err != nil {
		return "", err
	}
	return accesstoken.Sign(signer, c)
}

// mintIDToken signs an ID token (OpenID Connect Core section 2) with the
// claims the granted scopes allow (section 5.4).
func (s *Server) mintIDToken(ctx context.Context, g issued) (string, error) {
	now := s.now()
	c := map[string]any{
		"iss": s.issuer, "sub": g.user.ID, "aud": g.client.ID, "azp": g.client.ID,
		"exp": now.Add(s.opts.IDTokenTTL).Unix(), "iat": now.Unix(),
	}
	if !g.authTime.IsZero() {
		c["auth_time"] = g.authTime.Unix()
	}
	if g.nonce != "" {
		c["nonce"] = g.nonce
	}
	for k, v := range userClaims(*g.user, g.scopes) {
		c[k] = v
	}
	signer, err := s.keys.Signer(ctx, "JWT")
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}

// userClaims are the standard claims the scopes release (OpenID Connect
// Core section 5.4), plus groups.
func userClaims(u store.User, scopes []string) map[string]any {
	c := map[string]any{}
	if contains(scopes, "profile") {
		c["name"], c["preferred_username"] = u.Name, u.Name
	}
	if contains(scopes, "email") && u.Email != "" {
		c["email"] = u.Email
	}
	if contains(scopes, "groups") {
		groups := u.Groups
		if groups == nil {
			groups = []string{}
		}
		c["groups"] = groups
	}
	return c
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// newRefreshToken makes a refresh token of family f, expiring after the
// idle lifetime or with the family, whichever is first.
func (s *Server) newRefreshToken(f store.Family) (string, store.RefreshToken) {
	token := randomToken()
	now := s.now()
	exp := now.Add(s.opts.RefreshIdleTTL)
	if f.ExpiresAt.Before(exp) {
		exp = f.ExpiresAt
	}
	return token, store.RefreshToken{Hash: store.HashToken(token), FamilyID: f.ID, CreatedAt: now, ExpiresAt: exp}
}
