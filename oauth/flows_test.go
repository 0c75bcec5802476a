package oauth_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cruisegitops/cruise/oauth"
)

// TestCodeFlowWithXOAuth2 is the native-app happy path: x/oauth2 as the
// client, PKCE, a loopback redirect URI with an ephemeral port, then an ID
// token verified by go-oidc and a refresh through the token source.
func TestCodeFlowWithXOAuth2(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// The native app's redirect listener: loopback, any free port
		// (RFC 8252 section 7.3).
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		redirect := "http://" + l.Addr().String() + "/callback"
		cfg := oauth2.Config{
			ClientID: e.public.ID, RedirectURL: redirect, Scopes: []string{"openid", "profile", "groups", "cruise:read"},
			Endpoint: oauth2.Endpoint{AuthURL: e.url(oauth.PathAuthorize), TokenURL: e.url(oauth.PathToken), AuthStyle: oauth2.AuthStyleInParams},
		}
		verifier := oauth2.GenerateVerifier()
		authURL := cfg.AuthCodeURL("xyz state/+?", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-0S6"))
		u, _ := url.Parse(authURL)
		loc := e.authorizeVia(e.browser(), u.Query())
		if loc.Host != l.Addr().String() || loc.Path != "/callback" {
			t.Fatalf("redirected to %s, want the loopback listener %s", loc, redirect)
		}
		q := loc.Query()
		if q.Get("state") != "xyz state/+?" || q.Get("iss") != e.issuer {
			t.Fatalf("state %q, iss %q; want verbatim state and iss %q", q.Get("state"), q.Get("iss"), e.issuer)
		}
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || tok.RefreshToken == "" || time.Until(tok.Expiry) > 15*time.Minute {
			t.Fatalf("token type %q, refresh %v, expiry %v", tok.TokenType, tok.RefreshToken != "", tok.Expiry)
		}
		provider, err := oidc.NewProvider(ctx, e.issuer)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := provider.Verifier(&oidc.Config{ClientID: e.public.ID}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Groups []string `json:"groups"`
			Name   string   `json:"preferred_username"`
		}
		idt.Claims(&claims)
		if idt.Subject != e.user.ID || idt.Nonce != "n-0S6" || claims.Name != "alice" || strings.Join(claims.Groups, ",") != "dev,ops" {
			t.Fatalf("ID token sub %q nonce %q claims %+v", idt.Subject, idt.Nonce, claims)
		}
		// Userinfo with the access token.
		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil || ui.Subject != e.user.ID {
			t.Fatalf("userinfo = %+v, %v", ui, err)
		}
		// Refresh through the token source once the token has expired.
		tok.Expiry = time.Now().Add(-time.Minute)
		next, err := cfg.TokenSource(ctx, tok).Token()
		if err != nil {
			t.Fatal(err)
		}
		if next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken || next.RefreshToken == "" {
			t.Fatal("refresh did not rotate the access and refresh tokens")
		}
	})
}

// TestClientCredentialsWithXOAuth2 covers the CI pipeline path.
func TestClientCredentialsWithXOAuth2(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cfg := clientcredentials.Config{ClientID: e.confidential.ID, ClientSecret: e.secret, TokenURL: e.url(oauth.PathToken),
				Scopes: []string{"cruise:read"}, AuthStyle: style}
			tok, err := cfg.Token(context.Background())
			if err != nil {
				t.Fatalf("auth style %v: %v", style, err)
			}
			if tok.RefreshToken != "" {
				t.Error("client credentials issued a refresh token")
			}
			c := parseAccessToken(t, tok.AccessToken)
			if c["sub"] != e.confidential.ID || c["client_id"] != e.confidential.ID || c["scope"] != "cruise:read" {
				t.Errorf("claims %v", c)
			}
		}
	})
}

// TestDeviceFlowWithXOAuth2: the CLI on a headless machine asks for a
// device code, the user approves in a browser elsewhere, x/oauth2 polls.
func TestDeviceFlowWithXOAuth2(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		cfg := oauth2.Config{ClientID: e.public.ID, Scopes: []string{"openid", "cruise:read"},
			Endpoint: oauth2.Endpoint{DeviceAuthURL: e.url(oauth.PathDeviceAuthorization), TokenURL: e.url(oauth.PathToken), AuthStyle: oauth2.AuthStyleInParams}}
		da, err := cfg.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if da.VerificationURI != e.url(oauth.PathDevice) || len(da.UserCode) != 9 {
			t.Fatalf("device auth %+v", da)
		}
		// Before the user decides, polling says authorization_pending.
		r := e.post(oauth.PathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {e.public.ID}, "device_code": {da.DeviceCode}}, nil)
		wantError(t, r, http.StatusBadRequest, "authorization_pending")

		b := e.browser()
		resp, err := b.Get(e.url(oauth.PathDevice) + "?user_code=" + url.QueryEscape(strings.ToLower(da.UserCode)))
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		form := formFields(body)
		form.Set("username", "alice")
		form.Set("password", e.password)
		if resp, err = b.PostForm(e.url(oauth.PathLogin), form); err != nil {
			t.Fatal(err)
		}
		body = readBody(t, resp)
		if !strings.Contains(body, "cruise CLI") || !strings.Contains(body, "cruise:read") {
			t.Fatalf("device consent page lacks client name or scopes: %s", body)
		}
		form = formFields(body)
		form.Set("decision", "approve")
		if resp, err = b.PostForm(e.url(oauth.PathConsent), form); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("approve: %v %v", resp.Status, err)
		}
		resp.Body.Close()
		e.clock.Advance(2 * time.Second) // past the polling interval
		tok, err := cfg.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatal(err)
		}
		if c := parseAccessToken(t, tok.AccessToken); c["sub"] != e.user.ID {
			t.Fatalf("device token sub = %v", c["sub"])
		}
		// The device code is single use.
		e.clock.Advance(2 * time.Second)
		r = e.post(oauth.PathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {e.public.ID}, "device_code": {da.DeviceCode}}, nil)
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	})
}
