package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store"
)

const (
	sessionCookie = "cruise_session"
	csrfCookie    = "cruise_csrf"
	// interactionTTL bounds how long a user may take to log in and
	// consent.
	interactionTTL = 10 * time.Minute
)

// interaction is a login or consent in progress, stored under its ID.
type interaction struct {
	ID   string `json:"-"`
	CSRF string `json:"csrf"`
	// Exactly one of the following says what the user is doing.
	Authorize      *authRequest `json:"authorize,omitempty"`
	DeviceUserCode string       `json:"device_user_code,omitempty"`
	Consents       bool         `json:"consents,omitempty"`
}

func (s *Server) saveInteraction(ctx context.Context, in *interaction) error {
	if in.ID == "" {
		in.ID, in.CSRF = randomID(), randomToken()
	}
	b, _ := json.Marshal(in)
	return s.store.PutPending(ctx, "interaction:"+in.ID, b, s.now().Add(interactionTTL))
}

// loadInteraction reads the interaction named by the form and checks the
// CSRF token against it and against the browser's cookie (double submit).
func (s *Server) loadInteraction(r *http.Request) (*interaction, string) {
	id := r.PostForm.Get("interaction")
	if id == "" {
		return nil, "The request is missing its interaction."
	}
	b, err := s.store.GetPending(r.Context(), "interaction:"+id, s.now())
	if err != nil {
		return nil, "This login request has expired. Start again from the application."
	}
	var in interaction
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, "This login request is corrupt. Start again from the application."
	}
	in.ID = id
	if !s.csrfOK(r, in.CSRF) {
		return nil, "The form was not submitted from this server's page (CSRF check failed)."
	}
	return &in, ""
}

func (s *Server) csrfOK(r *http.Request, want string) bool {
	form := r.PostForm.Get("csrf")
	c, err := r.Cookie(csrfCookie)
	if err != nil || form == "" || want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(form), []byte(want)) == 1 &&
		subtle.ConstantTimeCompare([]byte(c.Value), []byte(want)) == 1
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	u, _ := url.Parse(s.issuer)
	path := s.base
	if path == "" {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, HttpOnly: true, Secure: u.Scheme == "https",
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds()),
	})
}

// currentSession returns the browser's login session and user, if any.
func (s *Server) currentSession(r *http.Request) (store.Session, store.User, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return store.Session{}, store.User{}, false
	}
	sess, err := s.store.GetSession(r.Context(), store.HashToken(c.Value), s.now())
	if err != nil {
		return store.Session{}, store.User{}, false
	}
	u, err := s.store.GetUser(r.Context(), sess.UserID)
	if err != nil {
		return store.Session{}, store.User{}, false
	}
	return sess, u, true
}

// startSession logs the user in on this browser.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, u store.User) (store.Session, error) {
	token := randomToken()
	now := s.now()
	sess := store.Session{Hash: store.HashToken(token), UserID: u.ID, AuthTime: now, ExpiresAt: now.Add(s.opts.SessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return store.Session{}, err
	}
	s.setCookie(w, sessionCookie, token, s.opts.SessionTTL)
	return sess, nil
}

// authorizeContinue decides what an authorization request needs next:
// login, consent, or (with both) a code. With prompt=none it answers
// login_required or consent_required instead of showing a page (OpenID
// Connect Core section 3.1.2.1).
func (s *Server) authorizeContinue(w http.ResponseWriter, r *http.Request, req *authRequest, in *interaction, justLoggedIn bool) {
	ctx := r.Context()
	if in == nil {
		in = &interaction{Authorize: req}
	}
	sess, user, ok := s.currentSession(r)
	if !ok || (req.Prompt == "login" && !justLoggedIn) {
		if req.Prompt == "none" {
			s.redirectError(w, r, req.RedirectURI, req.State, errorf(ErrLoginRequired, 0, "the user is not logged in"))
			return
		}
		s.showLogin(w, r, in, "", http.StatusOK)
		return
	}
	covered, err := s.consented(ctx, user, req)
	if err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	if !covered {
		if req.Prompt == "none" {
			s.redirectError(w, r, req.RedirectURI, req.State, errorf(ErrConsentRequired, 0, "the user has not consented"))
			return
		}
		s.showConsent(w, r, in, user)
		return
	}
	if in.ID != "" {
		s.store.TakePending(ctx, "interaction:"+in.ID, s.now())
	}
	s.issueCode(w, r, req, sess, user)
}

// consented reports whether the authorization request needs no consent
// page: the client is first-party, or the user's recorded consent covers
// the scopes; prompt=consent always asks.
func (s *Server) consented(ctx context.Context, user store.User, req *authRequest) (bool, error) {
	if req.Prompt == "consent" {
		return false, nil
	}
	if slices.Contains(s.opts.FirstPartyClients, req.ClientID) {
		return true, nil
	}
	consent, err := s.store.GetConsent(ctx, user.ID, req.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return subset(req.Scopes, consent.Scopes), nil
}

func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// issueCode creates the authorization code and redirects the user agent
// back (section 4.1.2): a single-use value of 256 bits, bound to client,
// redirect URI, PKCE challenge and user, valid for CodeTTL.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, req *authRequest, sess store.Session, user store.User) {
	code := randomToken()
	now := s.now()
	err := s.store.CreateCode(r.Context(), store.AuthCode{
		Hash: store.HashToken(code), ClientID: req.ClientID, UserID: user.ID,
		RedirectURI: req.RedirectURI, RedirectURISent: req.RedirectURISent, Scopes: req.Scopes,
		CodeChallenge: req.CodeChallenge, Nonce: req.Nonce, DPoPJKT: req.DPoPJKT, FamilyID: randomID(),
		AuthTime: sess.AuthTime, CreatedAt: now, ExpiresAt: now.Add(s.opts.CodeTTL),
	})
	if err != nil {
		s.log.ErrorContext(r.Context(), "store code", "error", err)
		s.redirectError(w, r, req.RedirectURI, req.State, serverError(err))
		return
	}
	s.redirectToClient(w, r, req.RedirectURI, req.State, url.Values{"code": {code}})
}

// handleLogin checks a local account's password (argon2id), starts a
// session and resumes the interaction. Wrong passwords are throttled per
// account at the source address, so that guessing from one address never
// locks the account's owner out at another, and, with a larger budget,
// per source address against one password tried on many accounts.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.parsePageForm(w, r) {
		return
	}
	in, msg := s.loadInteraction(r)
	if msg != "" {
		s.errorPage(w, r, http.StatusBadRequest, msg)
		return
	}
	name, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	src := s.sourceAddress(r)
	// src first: an address holds no "|", so keys cannot collide.
	userKey := src + "|" + name
	if wait := max(s.loginThrottle.wait(userKey), s.sourceThrottle.wait(src)); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		s.showLogin(w, r, in, "Too many failed attempts. Wait a moment and try again.", http.StatusTooManyRequests)
		return
	}
	user, err := s.store.GetUserByName(r.Context(), name)
	ok := false
	if err == nil && user.PasswordHash != "" {
		ok, _ = password.Verify(pw, user.PasswordHash)
	} else {
		// Spend the same work for unknown accounts.
		password.Verify(pw, dummyHash)
	}
	if !ok {
		s.loginThrottle.fail(userKey)
		s.sourceThrottle.fail(src)
		s.showLogin(w, r, in, "Wrong user name or password.", http.StatusUnauthorized)
		return
	}
	s.loginThrottle.succeed(userKey)
	sess, err := s.startSession(r.Context(), w, user)
	if err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	s.resume(w, r, in, sess, user)
}

// dummyHash is verified for unknown accounts so that they cost as much
// as known ones.
var dummyHash = "$argon2id$v=19$m=65536,t=2,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// resume continues an interaction after login.
func (s *Server) resume(w http.ResponseWriter, r *http.Request, in *interaction, sess store.Session, user store.User) {
	switch {
	case in.Authorize != nil:
		ctx := r.Context()
		req := in.Authorize
		if ok, err := s.consented(ctx, user, req); err == nil && ok {
			s.store.TakePending(ctx, "interaction:"+in.ID, s.now())
			s.issueCode(w, r, req, sess, user)
			return
		}
		s.showConsent(w, r, in, user)
	case in.DeviceUserCode != "":
		s.showDeviceConsent(w, r, in, user)
	default:
		s.store.TakePending(r.Context(), "interaction:"+in.ID, s.now())
		noStore(w)
		http.Redirect(w, r, s.url(PathConsents), http.StatusSeeOther)
	}
}

// handleConsent records the user's decision on an authorization or device
// request. Approving saves the consent and issues the code; denying sends
// access_denied (section 4.1.2.1).
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	if !s.parsePageForm(w, r) {
		return
	}
	in, msg := s.loadInteraction(r)
	if msg != "" {
		s.errorPage(w, r, http.StatusBadRequest, msg)
		return
	}
	sess, user, ok := s.currentSession(r)
	if !ok {
		s.showLogin(w, r, in, "Your session ended; log in again.", http.StatusOK)
		return
	}
	ctx := r.Context()
	// Single use: of two submissions only one proceeds.
	if _, err := s.store.TakePending(ctx, "interaction:"+in.ID, s.now()); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "This request was already answered.")
		return
	}
	approve := r.PostForm.Get("decision") == "approve"
	if in.DeviceUserCode != "" {
		s.decideDevice(w, r, in.DeviceUserCode, user, sess, approve)
		return
	}
	req := in.Authorize
	if req == nil {
		s.errorPage(w, r, http.StatusBadRequest, "Nothing to consent to.")
		return
	}
	if !approve {
		s.redirectError(w, r, req.RedirectURI, req.State, errorf(ErrAccessDenied, 0, "the user denied the request"))
		return
	}
	if err := s.saveConsent(ctx, user.ID, req.ClientID, req.Scopes); err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	s.issueCode(w, r, req, sess, user)
}

func (s *Server) saveConsent(ctx context.Context, userID, clientID string, scopes []string) error {
	merged := slices.Clone(scopes)
	if old, err := s.store.GetConsent(ctx, userID, clientID); err == nil {
		for _, sc := range old.Scopes {
			if !slices.Contains(merged, sc) {
				merged = append(merged, sc)
			}
		}
	}
	return s.store.SaveConsent(ctx, store.Consent{UserID: userID, ClientID: clientID, Scopes: merged, CreatedAt: s.now()})
}

// handleConsents lets a logged-in user see and revoke consents; revoking
// one also revokes every grant the client holds for the user.
func (s *Server) handleConsents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, user, ok := s.currentSession(r)
	switch r.Method {
	case http.MethodGet:
		if !ok {
			s.showLogin(w, r, &interaction{Consents: true}, "", http.StatusOK)
			return
		}
		s.showConsents(w, r, user)
	case http.MethodPost:
		if !s.parsePageForm(w, r) {
			return
		}
		c, err := r.Cookie(csrfCookie)
		if !ok || err != nil || !s.csrfOK(r, c.Value) {
			s.errorPage(w, r, http.StatusForbidden, "The form was not submitted from this server's page.")
			return
		}
		if err := s.store.RevokeConsent(ctx, user.ID, r.PostForm.Get("client_id"), s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
			return
		}
		noStore(w)
		http.Redirect(w, r, s.url(PathConsents), http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, POST")
		s.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

// handleLogout ends the browser session.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if !s.parsePageForm(w, r) {
		return
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !s.csrfOK(r, c.Value) {
		s.errorPage(w, r, http.StatusForbidden, "The form was not submitted from this server's page.")
		return
	}
	if sc, err := r.Cookie(sessionCookie); err == nil {
		s.store.DeleteSession(r.Context(), store.HashToken(sc.Value))
	}
	s.setCookie(w, sessionCookie, "", -time.Second)
	s.messagePage(w, r, "Signed out", "You are signed out.")
}

// parsePageForm accepts a bounded POST form from one of the server's pages.
func (s *Server) parsePageForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The form is malformed.")
		return false
	}
	return true
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(d.Seconds() + 0.999))
}
