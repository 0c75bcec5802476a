package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/oauth2"
)

// TokenSource supplies the access token of one server's login, an
// oauth2.TokenSource. When the token has expired it refreshes it under
// the store's lock: it reads the file again first (another process may
// have refreshed already, which spent the refresh token this one holds),
// then exchanges the refresh token and saves the answer at once, because
// the server rotates refresh tokens: the old one is invalid from then on.
type TokenSource struct {
	ctx    context.Context // of the command; carries the HTTP client
	store  *Store
	server string

	mu  sync.Mutex    // guards tok
	tok *oauth2.Token // the last token read or refreshed
}

// NewTokenSource returns the source of login, the login of server in
// store. ctx bounds the refreshes.
func NewTokenSource(ctx context.Context, store *Store, server string, login *Login) *TokenSource {
	return &TokenSource{ctx: withHTTPClient(ctx), store: store, server: server, tok: login.Token()}
}

// Token returns a valid access token, refreshing it when needed. When the
// login is gone, or its refresh token has expired or was revoked, the
// error wraps ErrLoginEnded.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok, nil
	}
	err := s.store.Update(func(c *Credentials) (bool, error) {
		l := c.Servers[s.server]
		if l == nil {
			return false, fmt.Errorf("not logged in to %s: %w", s.server, ErrLoginEnded)
		}
		if cur := l.Token(); cur.Valid() {
			s.tok = cur // refreshed by another process meanwhile
			return false, nil
		}
		if l.RefreshToken == "" {
			return false, fmt.Errorf("the login to %s has expired: %w", s.server, ErrLoginEnded)
		}
		tok, err := refresh(s.ctx, l)
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
				return false, fmt.Errorf("the login to %s has expired or was revoked: %w", s.server, ErrLoginEnded)
			}
			return false, fmt.Errorf("refresh the login to %s: %w", s.server, tokenError(err))
		}
		l.SetToken(tok)
		s.tok = l.Token()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return s.tok, nil
}

// refresh exchanges the refresh token of l for new tokens at the
// issuer's token endpoint (draft-ietf-oauth-v2-1 section 4.3).
func refresh(ctx context.Context, l *Login) (*oauth2.Token, error) {
	md, err := Discover(ctx, l.Issuer)
	if err != nil {
		return nil, err
	}
	cfg := &oauth2.Config{ClientID: l.ClientID, Endpoint: md.Endpoint()}
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: l.RefreshToken}).Token()
}
