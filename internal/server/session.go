package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/oauth/accesstoken"
)

const (
	sessionCookie = "cruise_session"
	loginCookie   = "cruise_login"
	// maxCookie bounds what we try to decrypt.
	maxCookie = 8 << 10
)

// session is what the sealed session cookie holds.
type session struct {
	Access  string    `json:"a"`
	Refresh string    `json:"r,omitempty"`
	Expiry  time.Time `json:"e"`
	CSRF    string    `json:"c"`

	claims *accesstoken.Claims
}

// pendingLogin is what the login cookie holds between /login and
// /callback.
type pendingLogin struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Next     string `json:"n"`
}

// sessions seals, opens and refreshes UI sessions.
type sessions struct {
	aead   cipher.AEAD
	secure bool
	server *Server

	// The browser sends parallel requests with the same old cookie, and
	// replaying a rotated refresh token would revoke the whole family: one
	// redemption runs per token (flights), and its successor is kept for
	// the requests that arrive a little later (refreshed).
	flights   singleflight.Group
	mu        sync.Mutex
	refreshed map[string]refreshedEntry // guarded by mu
}

type refreshedEntry struct {
	sess *session
	at   time.Time
}

func newSessions(key []byte, secure bool, s *Server) (*sessions, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	if len(key) != 32 {
		return nil, errors.New("session key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sessions{aead: aead, secure: secure, server: s,
		refreshed: map[string]refreshedEntry{}}, nil
}

// seal encrypts v, binding it to the cookie's name so one cookie cannot be
// replayed as another.
func (m *sessions) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, m.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := m.aead.Seal(nonce, nonce, plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (m *sessions) open(name, value string, v any) error {
	if len(value) > maxCookie {
		return errors.New("cookie too large")
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < m.aead.NonceSize() {
		return errors.New("malformed cookie")
	}
	n := m.aead.NonceSize()
	plain, err := m.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return errors.New("cookie does not decrypt (server restarted with a new key?)")
	}
	return json.Unmarshal(plain, v)
}

func (m *sessions) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode})
}

func (m *sessions) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode})
}

// save writes the session cookie; it lives as long as the refresh token
// may (the authorization server decides the real limit).
func (m *sessions) save(w http.ResponseWriter, sess *session) error {
	v, err := m.seal(sessionCookie, sess)
	if err != nil {
		return err
	}
	m.setCookie(w, sessionCookie, v, 30*24*time.Hour)
	return nil
}

var errNoSession = newError(http.StatusUnauthorized, apiv1.CodeUnauthenticated,
	"not logged in: send an access token in the Authorization header, or log in to the web UI")

// load opens the request's session, refreshing its access token when it
// has expired (and re-setting the cookie). The claims are verified on
// every request, exactly as a bearer token would be.
func (m *sessions) load(w http.ResponseWriter, r *http.Request) (*session, *apiError) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoSession
	}
	sess := &session{}
	if err := m.open(sessionCookie, c.Value, sess); err != nil {
		m.clearCookie(w, sessionCookie)
		return nil, errNoSession
	}
	if time.Until(sess.Expiry) < 15*time.Second {
		next, err := m.refresh(r.Context(), sess)
		if err != nil {
			m.clearCookie(w, sessionCookie)
			return nil, newError(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "session expired: log in again")
		}
		if err := m.save(w, next); err != nil {
			return nil, newError(http.StatusInternalServerError, apiv1.CodeInternal, "save session: %v", err)
		}
		own := *next // shared with the other requests of the same refresh
		sess = &own
	}
	claims, err := m.server.verifier.VerifyBearer(r.Context(), sess.Access)
	if err != nil {
		m.clearCookie(w, sessionCookie)
		return nil, newError(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "session token refused: %v", err)
	}
	sess.claims = claims
	return sess, nil
}

// refresh redeems the session's refresh token once, sharing the result
// with concurrent and closely following requests holding the same one;
// callers must not modify it.
func (m *sessions) refresh(ctx context.Context, sess *session) (*session, error) {
	if sess.Refresh == "" {
		return nil, errors.New("no refresh token")
	}
	key := sess.Refresh
	v, err, _ := m.flights.Do(key, func() (any, error) {
		m.mu.Lock()
		for k, e := range m.refreshed {
			if time.Since(e.at) > time.Minute {
				delete(m.refreshed, k)
			}
		}
		e, ok := m.refreshed[key]
		m.mu.Unlock()
		if ok {
			return e.sess, nil
		}
		next, err := m.redeem(ctx, sess)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		m.refreshed[key] = refreshedEntry{sess: next, at: time.Now()}
		m.mu.Unlock()
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*session), nil
}

func (m *sessions) redeem(ctx context.Context, sess *session) (*session, error) {
	ctx, cancel := context.WithTimeout(m.server.oauthContext(ctx), 15*time.Second)
	defer cancel()
	tok, err := m.server.uiOAuth.TokenSource(ctx, &oauth2.Token{RefreshToken: sess.Refresh, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		return nil, err
	}
	next := &session{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry, CSRF: sess.CSRF}
	if next.Refresh == "" {
		next.Refresh = sess.Refresh
	}
	return next, nil
}

// checkCSRF accepts a state-changing cookie request only with the
// session's token (form field csrf or header X-CSRF-Token) and, when the
// browser names one, our own Origin.
func (s *Server) checkCSRF(r *http.Request, sess *session) *apiError {
	if o := r.Header.Get("Origin"); o != "" && o != s.origin {
		return newError(http.StatusForbidden, apiv1.CodeCSRF, "cross-origin request from %s refused", o)
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return newError(http.StatusForbidden, apiv1.CodeCSRF, "missing or wrong CSRF token: reload the page")
	}
	return nil
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeNext keeps a post-login redirect on this server.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || next[0] != '/' || len(next) > 1 && (next[1] == '/' || next[1] == '\\') || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func constantTimeEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
