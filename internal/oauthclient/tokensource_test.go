package oauthclient_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/cruisegitops/cruise/internal/oauthclient"
)

const server = "https://cruise.example"

// TestTokenSourceRefreshesOnce: sources in several processes (each with
// its own Store of the one file) that find the access token expired at
// once refresh it once between them: the first saves the answer under
// the lock and the others read it. Spending the rotating refresh token
// twice would have revoked the grant (draft-ietf-oauth-v2-1 section
// 4.3.1).
func TestTokenSourceRefreshesOnce(t *testing.T) {
	is := newIssuer(t)
	s := is.store(t, server)
	before := loginOf(t, s, server)
	expire(t, s, server)

	tokens := make([]string, 4)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() {
			st := oauthclient.OpenStore(s.Path())
			c, err := st.Load()
			if err != nil {
				t.Error(err)
				return
			}
			tok, err := oauthclient.NewTokenSource(t.Context(), st, server, c.Servers[server]).Token()
			if err != nil {
				t.Errorf("source %d: %v", i, err)
				return
			}
			tokens[i] = tok.AccessToken
		})
	}
	wg.Wait()
	after := loginOf(t, s, server)
	for i, tok := range tokens {
		if tok != after.AccessToken {
			t.Errorf("source %d got another access token than the saved one: the login was refreshed more than once", i)
		}
	}
	if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || !after.Token().Valid() {
		t.Fatal("the refresh was not saved")
	}
	// The grant is intact: the saved refresh token still works.
	if _, err := is.refresh(t, after.RefreshToken); err != nil {
		t.Fatalf("refresh with the saved token: %v", err)
	}
}

// TestTokenSourceLoginEnded: a revoked grant, or a login deleted from the
// file meanwhile, is ErrLoginEnded: the user must log in again.
func TestTokenSourceLoginEnded(t *testing.T) {
	is := newIssuer(t)
	s := is.store(t, server)
	l := loginOf(t, s, server)
	if err := oauthclient.Revoke(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	expire(t, s, server)
	expired := loginOf(t, s, server)
	_, err := oauthclient.NewTokenSource(t.Context(), s, server, expired).Token()
	if !errors.Is(err, oauthclient.ErrLoginEnded) || err.Error() != "the login to "+server+" has expired or was revoked: log in again" {
		t.Errorf("refresh of a revoked grant: %v, want ErrLoginEnded", err)
	}

	res, err := s.Logout(t.Context(), "")
	if err != nil || res.Server != server || res.Removed == nil {
		t.Fatalf("Logout: %+v, %v", res, err)
	}
	if _, err := oauthclient.NewTokenSource(t.Context(), s, server, expired).Token(); !errors.Is(err, oauthclient.ErrLoginEnded) {
		t.Errorf("token of a deleted login: %v, want ErrLoginEnded", err)
	}
}
