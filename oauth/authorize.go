package oauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cruisegitops/cruise/oauth/pkce"
	"github.com/cruisegitops/cruise/oauth/store"
)

// authRequest is a validated authorization request, kept while the user
// logs in and consents.
type authRequest struct {
	ClientID        string   `json:"client_id"`
	RedirectURI     string   `json:"redirect_uri"`
	RedirectURISent bool     `json:"redirect_uri_sent"`
	Scopes          []string `json:"scopes"`
	State           string   `json:"state,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	CodeChallenge   string   `json:"code_challenge"`
	DPoPJKT         string   `json:"dpop_jkt,omitempty"`
	Prompt          string   `json:"prompt,omitempty"`
}

// handleAuthorize is the authorization endpoint (draft-ietf-oauth-v2-1
// section 3.1 and 4.1.1) for the authorization code grant, the only
// response type OAuth 2.1 keeps.
//
// Parse: the client and redirect URI are checked first; if either is
// wrong the user sees an error page and is never redirected (section
// 4.1.2.1, 7.12.2: no open redirector). Validate: every other error is
// sent to the redirect URI with state and iss (RFC 9207). PKCE with S256
// is required of every client (section 4.1.1, 7.5.1). Create and respond:
// see authorizeContinue.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	var vals url.Values
	switch r.Method {
	case http.MethodGet:
		vals = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil || r.URL.RawQuery != "" {
			s.errorPage(w, r, http.StatusBadRequest, "The authorization request is malformed.")
			return
		}
		vals = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		s.errorPage(w, r, http.StatusMethodNotAllowed, "The authorization endpoint accepts GET and POST.")
		return
	}
	client, redirectURI, sent, msg := s.checkClientRedirect(r, vals)
	if msg != "" {
		s.errorPage(w, r, http.StatusBadRequest, msg)
		return
	}
	state := vals.Get("state")
	p, perr := parseParams(vals)
	if perr != nil {
		s.redirectError(w, r, redirectURI, state, perr)
		return
	}
	req, e := s.validateAuthorizeRequest(client, p)
	if e != nil {
		s.redirectError(w, r, redirectURI, state, e)
		return
	}
	req.RedirectURI, req.RedirectURISent = redirectURI, sent
	s.authorizeContinue(w, r, req, nil, false)
}

// checkClientRedirect finds the client and the redirect URI (section
// 2.3.2, 4.1.1: redirect_uri optional only when exactly one is
// registered). A non-empty message means an error page.
func (s *Server) checkClientRedirect(r *http.Request, vals url.Values) (store.Client, string, bool, string) {
	ids := vals["client_id"]
	if len(ids) != 1 || ids[0] == "" {
		return store.Client{}, "", false, "The request names no client, or more than one."
	}
	client, err := s.store.GetClient(r.Context(), ids[0])
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, "", false, "The client is not registered."
	} else if err != nil {
		s.log.ErrorContext(r.Context(), "get client", "error", err)
		return store.Client{}, "", false, "The server failed; try again later."
	}
	uris := vals["redirect_uri"]
	switch {
	case len(uris) > 1:
		return store.Client{}, "", false, "The request names more than one redirect URI."
	case len(uris) == 1 && uris[0] != "":
		for _, reg := range client.RedirectURIs {
			if RedirectURIMatches(reg, uris[0]) {
				return client, uris[0], true, ""
			}
		}
		return store.Client{}, "", false, "The redirect URI is not registered for this client."
	case len(client.RedirectURIs) == 1:
		return client, client.RedirectURIs[0], false, ""
	default:
		return store.Client{}, "", false, "The request must name one of the client's redirect URIs."
	}
}

// validateAuthorizeRequest checks everything but client and redirect URI.
func (s *Server) validateAuthorizeRequest(client store.Client, p params) (*authRequest, *Error) {
	bad := func(code, desc string) (*authRequest, *Error) {
		return nil, errorf(code, http.StatusFound, "%s", desc)
	}
	switch rt := p["response_type"]; {
	case rt == "":
		return bad(ErrInvalidRequest, "response_type is required")
	case rt != "code":
		return bad(ErrUnsupportedResponseType, "only response_type=code is supported")
	}
	if p["request"] != "" {
		return bad(ErrRequestNotSupported, "request objects are not supported")
	}
	if p["request_uri"] != "" {
		return bad(ErrRequestURINotSupported, "request_uri is not supported")
	}
	if !client.AllowsGrant(store.GrantAuthorizationCode) {
		return bad(ErrUnauthorizedClient, "the client may not use the authorization code grant")
	}
	if rm := p["response_mode"]; rm != "" && rm != "query" {
		return bad(ErrInvalidRequest, "only response_mode=query is supported")
	}
	challenge, method := p["code_challenge"], p["code_challenge_method"]
	switch {
	case challenge == "":
		return bad(ErrInvalidRequest, "code_challenge is required (PKCE)")
	case method == "":
		return bad(ErrInvalidRequest, "code_challenge_method is required and must be S256")
	case method != pkce.MethodS256:
		return bad(ErrInvalidRequest, "code_challenge_method must be S256")
	case !pkce.ValidChallenge(challenge):
		return bad(ErrInvalidRequest, "code_challenge is not a base64url SHA-256 digest")
	}
	scopes := splitScopes(p["scope"])
	if e := s.checkScopes(client, scopes); e != nil {
		e.Status = http.StatusFound
		return nil, e
	}
	prompt := p["prompt"]
	if prompt != "" && prompt != "none" && prompt != "login" && prompt != "consent" {
		return bad(ErrInvalidRequest, "prompt must be none, login or consent")
	}
	if jkt := p["dpop_jkt"]; jkt != "" {
		if b, err := base64.RawURLEncoding.DecodeString(jkt); err != nil || len(b) != 32 {
			return bad(ErrInvalidRequest, "dpop_jkt is not a SHA-256 JWK thumbprint")
		}
	}
	if len(p["state"]) > 2048 || len(p["nonce"]) > 512 {
		return bad(ErrInvalidRequest, "state or nonce too long")
	}
	return &authRequest{
		ClientID:      client.ID,
		Scopes:        scopes,
		State:         p["state"],
		Nonce:         p["nonce"],
		CodeChallenge: challenge,
		DPoPJKT:       p["dpop_jkt"],
		Prompt:        prompt,
	}, nil
}

// checkScopes refuses scopes the server does not know or the client may
// not ask for (section 3.2.2.1, invalid_scope).
func (s *Server) checkScopes(client store.Client, scopes []string) *Error {
	supported := s.supportedScopes()
	for _, sc := range scopes {
		if !slices.Contains(supported, sc) || (len(client.Scopes) > 0 && !slices.Contains(client.Scopes, sc)) {
			return errorf(ErrInvalidScope, http.StatusBadRequest, "scope %q is unknown or not allowed for this client", sc)
		}
	}
	return nil
}

// RedirectURIMatches compares a registered redirect URI with one from a
// request: exact string equality (draft-ietf-oauth-v2-1 section 2.3.2),
// except that the port of an http loopback IP literal may differ (RFC 8252
// section 7.3, draft-ietf-oauth-v2-1 section 8.4.2).
func RedirectURIMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	reg, err1 := url.Parse(registered)
	req, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || reg.Scheme != "http" || req.Scheme != "http" {
		return false
	}
	if !isLoopbackIP(reg.Hostname()) || reg.Hostname() != req.Hostname() || reg.User != nil || req.User != nil {
		return false
	}
	return withoutPort(registered) == withoutPort(requested)
}

// withoutPort removes the port from an http URL's authority.
func withoutPort(raw string) string {
	rest := strings.TrimPrefix(raw, "http://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host := rest[:end]
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return "http://" + host + rest[end:]
}

// isLoopbackIP: only the IP literals 127.0.0.1 and ::1; "localhost" may
// resolve elsewhere (RFC 8252 section 8.3).
func isLoopbackIP(host string) bool { return host == "127.0.0.1" || host == "::1" }

// ValidateRedirectURI checks a URI for registration: absolute, no
// fragment; https, or http only on a loopback IP literal, or a private-use
// scheme with a dot for native apps (RFC 8252 section 7.1).
func ValidateRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("redirect URI must be absolute")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("redirect URI must not contain a fragment")
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http":
		if !isLoopbackIP(u.Hostname()) {
			return errors.New("http redirect URIs must use the loopback IP literal 127.0.0.1 or [::1]")
		}
		return nil
	case strings.Contains(u.Scheme, "."):
		return nil
	default:
		return errors.New("redirect URI scheme must be https, loopback http or a reverse-domain private-use scheme")
	}
}
