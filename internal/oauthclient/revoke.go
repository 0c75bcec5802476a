package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Revoke revokes the refresh token of l (or, without one, its access
// token) at the issuer's revocation endpoint (RFC 7009 section 2.1), as a
// public client: client_id in the form, no secret. Revoking the refresh
// token ends the grant's access tokens too.
func Revoke(ctx context.Context, l *Login) error {
	token, hint := l.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = l.AccessToken, "access_token"
	}
	if token == "" {
		return nil
	}
	md, err := Discover(ctx, l.Issuer)
	if err != nil {
		return err
	}
	if md.RevocationEndpoint == "" {
		return errors.New("the authorization server has no revocation endpoint")
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {l.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(ctx).Do(req)
	if err != nil {
		// The *url.Error names the endpoint, not the form.
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	// Section 2.2.1: an error response as in RFC 6749 section 5.2.
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
	msg := resp.Status
	if e.Error != "" {
		msg += ": " + e.Error
		if e.Description != "" {
			msg += ": " + e.Description
		}
	}
	return fmt.Errorf("POST %s: %s", md.RevocationEndpoint, msg)
}
