package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/oauth/store"
)

const upstreamCookie = "cruise_upstream"

// upstream federates login to an OpenID provider (OpenID Connect Core
// section 3.1, as a relying party): the authorization code flow with PKCE,
// state bound to the browser, nonce, and a verified ID token whose groups
// claim becomes the user's groups.
type upstream struct {
	name        string
	issuer      string
	config      oauth2.Config
	verifier    *oidc.IDTokenVerifier
	groupsClaim string
	client      *http.Client
}

func newUpstream(ctx context.Context, s *Server, o *UpstreamOptions) (*upstream, error) {
	ctx = oidc.ClientContext(ctx, o.HTTPClient)
	p, err := oidc.NewProvider(ctx, o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oauth: upstream provider %s: %w", o.Issuer, err)
	}
	return &upstream{
		name:   o.Name,
		issuer: o.Issuer,
		config: oauth2.Config{
			ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: s.url(PathUpstreamCallback), Scopes: o.Scopes,
		},
		verifier:    p.Verifier(&oidc.Config{ClientID: o.ClientID}),
		groupsClaim: o.GroupsClaim,
		client:      o.HTTPClient,
	}, nil
}

type upstreamState struct {
	Interaction string `json:"interaction"`
	Nonce       string `json:"nonce"`
	Verifier    string `json:"verifier"`
}

func (s *Server) getInteraction(ctx context.Context, id string) (*interaction, error) {
	b, err := s.store.GetPending(ctx, "interaction:"+id, s.now())
	if err != nil {
		return nil, err
	}
	var in interaction
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, err
	}
	in.ID = id
	return &in, nil
}

// handleUpstreamLogin sends the user to the upstream provider.
func (s *Server) handleUpstreamLogin(w http.ResponseWriter, r *http.Request) {
	if s.upstream == nil {
		s.errorPage(w, r, http.StatusNotFound, "No single sign-on provider is configured.")
		return
	}
	id := r.URL.Query().Get("interaction")
	if _, err := s.getInteraction(r.Context(), id); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "This login request has expired. Start again from the application.")
		return
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	b, _ := json.Marshal(upstreamState{Interaction: id, Nonce: nonce, Verifier: verifier})
	if err := s.store.PutPending(r.Context(), "upstream:"+state, b, s.now().Add(interactionTTL)); err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	s.setCookie(w, upstreamCookie, state, interactionTTL)
	noStore(w)
	http.Redirect(w, r, s.upstream.config.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
}

// handleUpstreamCallback receives the upstream authorization response,
// redeems the code, verifies the ID token and logs the user in.
func (s *Server) handleUpstreamCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.upstream == nil {
		s.errorPage(w, r, http.StatusNotFound, "No single sign-on provider is configured.")
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(upstreamCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		s.errorPage(w, r, http.StatusBadRequest, "The login response does not belong to this browser.")
		return
	}
	b, err := s.store.TakePending(ctx, "upstream:"+state, s.now())
	var st upstreamState
	if err != nil || json.Unmarshal(b, &st) != nil {
		s.errorPage(w, r, http.StatusBadRequest, "This login response has expired or was used.")
		return
	}
	// RFC 9207 section 2.4: if the provider names itself, it must be the
	// one we asked.
	if iss := q.Get("iss"); iss != "" && iss != s.upstream.issuer {
		s.errorPage(w, r, http.StatusBadRequest, "The login response came from an unexpected issuer.")
		return
	}
	if e := q.Get("error"); e != "" {
		s.errorPage(w, r, http.StatusForbidden, "The single sign-on provider refused the login: "+e)
		return
	}
	user, err := s.upstreamUser(ctx, q.Get("code"), st)
	if err != nil {
		s.log.WarnContext(ctx, "upstream login failed", "error", err)
		s.errorPage(w, r, http.StatusBadGateway, "The single sign-on login could not be verified.")
		return
	}
	in, err := s.getInteraction(ctx, st.Interaction)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "This login request has expired. Start again from the application.")
		return
	}
	sess, err := s.startSession(ctx, w, user)
	if err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	s.setCookie(w, upstreamCookie, "", -1)
	s.resume(w, r, in, sess, user)
}

func (s *Server) upstreamUser(ctx context.Context, code string, st upstreamState) (store.User, error) {
	up := s.upstream
	ctx = oidc.ClientContext(ctx, up.client)
	if code == "" {
		return store.User{}, errors.New("no code in the response")
	}
	tok, err := up.config.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return store.User{}, fmt.Errorf("redeem code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return store.User{}, errors.New("no ID token in the token response")
	}
	idt, err := up.verifier.Verify(ctx, raw)
	if err != nil {
		return store.User{}, fmt.Errorf("verify ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return store.User{}, errors.New("ID token nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return store.User{}, err
	}
	str := func(k string) string { v, _ := claims[k].(string); return v }
	var groups []string
	if gs, ok := claims[up.groupsClaim].([]any); ok {
		for _, g := range gs {
			if g, ok := g.(string); ok {
				groups = append(groups, g)
			}
		}
	}
	name := str("preferred_username")
	if name == "" {
		name = str("email")
	}
	if name == "" {
		name = idt.Subject
	}
	u := store.User{ID: randomID(), Name: name, Email: str("email"), Groups: groups,
		Upstream: idt.Issuer + " " + idt.Subject, CreatedAt: s.now()}
	user, err := s.store.UpsertUpstreamUser(ctx, u)
	if errors.Is(err, store.ErrExists) {
		// The name belongs to another account (say, a local one): qualify it.
		host := idt.Issuer
		if pu, perr := url.Parse(idt.Issuer); perr == nil {
			host = pu.Host
		}
		u.Name = name + "@" + host
		user, err = s.store.UpsertUpstreamUser(ctx, u)
	}
	return user, err
}
