package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Error codes of the protocol. Each endpoint answers only with the codes
// its specification defines.
const (
	// Authorization and token endpoints (draft-ietf-oauth-v2-1 sections
	// 4.1.2.1 and 3.2.4).
	ErrInvalidRequest          = "invalid_request"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrInvalidScope            = "invalid_scope"
	ErrAccessDenied            = "access_denied"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrServerError             = "server_error"
	ErrTemporarilyUnavailable  = "temporarily_unavailable"
	// OpenID Connect Core section 3.1.2.6.
	ErrLoginRequired          = "login_required"
	ErrConsentRequired        = "consent_required"
	ErrRequestNotSupported    = "request_not_supported"
	ErrRequestURINotSupported = "request_uri_not_supported"
	// RFC 8628 section 3.5.
	ErrAuthorizationPending = "authorization_pending"
	ErrSlowDown             = "slow_down"
	ErrExpiredToken         = "expired_token"
	// RFC 9449 section 5.
	ErrInvalidDPoPProof = "invalid_dpop_proof"
	// RFC 7009 section 2.2.1.
	ErrUnsupportedTokenType = "unsupported_token_type"
)

// Error is a protocol error: a code from the specification, a description
// for developers, and the HTTP status it is sent with.
type Error struct {
	Code        string
	Description string
	Status      int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration
	// basic marks a failed HTTP Basic authentication, answered with a
	// WWW-Authenticate challenge (section 3.2.4).
	basic bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func errorf(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Description: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *Error {
	return errorf(ErrInvalidRequest, http.StatusBadRequest, format, args...)
}

func invalidGrant(format string, args ...any) *Error {
	return errorf(ErrInvalidGrant, http.StatusBadRequest, format, args...)
}

func invalidClient(format string, args ...any) *Error {
	return errorf(ErrInvalidClient, http.StatusUnauthorized, format, args...)
}

func serverError(err error) *Error {
	return &Error{Code: ErrServerError, Status: http.StatusInternalServerError, Description: "internal error"}
}

// writeJSONError answers a token, revocation, introspection or device
// endpoint request with the JSON error of section 3.2.4.
func writeJSONError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	if e.basic || e.Code == ErrInvalidClient {
		h.Set("WWW-Authenticate", `Basic realm="cruise", charset="UTF-8"`)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()+0.999)))
	}
	body := map[string]string{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	writeJSON(w, e.Status, body)
}

// writeJSON sends v with the caching headers every token-bearing response
// needs (section 3.2.3: Cache-Control no-store).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	writeJSONBody(w, status, v)
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// redirectError sends an authorization error to the client's redirect URI
// (section 4.1.2.1) with state and, per RFC 9207 section 2, iss.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *Error) {
	q := url.Values{"error": {e.Code}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	s.redirectToClient(w, r, redirectURI, state, q)
}

// redirectToClient adds state and iss to q and redirects with 303, which
// makes the browser GET the redirect URI even after a POST (section 7.5.4
// forbids 307).
func (s *Server) redirectToClient(w http.ResponseWriter, r *http.Request, redirectURI, state string, q url.Values) {
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", s.issuer)
	u, err := url.Parse(redirectURI)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The redirect URI is invalid.")
		return
	}
	existing := u.Query()
	for k, v := range q {
		existing[k] = v
	}
	u.RawQuery = existing.Encode()
	noStore(w)
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
