package oauth

import (
	"crypto/rand"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"

	"github.com/cruisegitops/cruise/oauth/store"
)

// userCodeAlphabet has no vowels (no words) and no look-alikes; eight
// characters give 20^8 ≈ 2^34.6 codes (RFC 8628 section 6.1), guessed
// online only, under throttling.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	b := make([]byte, 8)
	n := big.NewInt(int64(len(userCodeAlphabet)))
	for i := range b {
		v, _ := rand.Int(rand.Reader, n)
		b[i] = userCodeAlphabet[v.Int64()]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// normalizeUserCode accepts what a person types: any case, with or without
// the dash or spaces (RFC 8628 section 6.1).
func normalizeUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != 8 {
		return ""
	}
	return s[:4] + "-" + s[4:]
}

// handleDeviceAuthorization is the device authorization endpoint (RFC 8628
// section 3.1 and 3.2) for CLIs on machines without a browser.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, client, ok := s.authenticatedRequest(w, r)
	if !ok {
		return
	}
	if !client.AllowsGrant(store.GrantDeviceCode) {
		writeJSONError(w, errorf(ErrUnauthorizedClient, http.StatusBadRequest, "the client may not use the device grant"))
		return
	}
	scopes := splitScopes(p["scope"])
	if e := s.checkScopes(client, scopes); e != nil {
		writeJSONError(w, e)
		return
	}
	now := s.now()
	deviceCode := randomToken()
	var userCode string
	for attempt := 0; ; attempt++ {
		userCode = newUserCode()
		err := s.store.CreateDeviceCode(ctx, store.DeviceCode{
			Hash: store.HashToken(deviceCode), UserCode: userCode, ClientID: client.ID, Scopes: scopes,
			Status: store.DevicePending, Interval: s.opts.DeviceInterval, CreatedAt: now, ExpiresAt: now.Add(s.opts.DeviceCodeTTL),
		})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrExists) || attempt == 4 {
			writeJSONError(w, s.internalError(ctx, "create device code", err))
			return
		}
	}
	verification := s.url(PathDevice)
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               deviceCode,
		"user_code":                 userCode,
		"verification_uri":          verification,
		"verification_uri_complete": verification + "?user_code=" + url.QueryEscape(userCode),
		"expires_in":                int64(s.opts.DeviceCodeTTL.Seconds()),
		"interval":                  int64(s.opts.DeviceInterval.Seconds() + 0.999),
	})
}

// handleDevicePage is the verification URI (RFC 8628 section 3.3): the
// user enters the code, logs in, and approves or denies. Wrong codes are
// throttled per source address (section 5.1).
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	raw := r.URL.Query().Get("user_code")
	page := map[string]any{"Title": "Connect a device", "DeviceURL": s.url(PathDevice)}
	if raw == "" {
		s.render(w, r, http.StatusOK, "device", page)
		return
	}
	ipKey := "device:" + s.sourceAddress(r)
	if wait := s.loginThrottle.wait(ipKey); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		page["Error"] = "Too many wrong codes. Wait a moment and try again."
		s.render(w, r, http.StatusTooManyRequests, "device", page)
		return
	}
	code := normalizeUserCode(raw)
	d, err := s.store.GetDeviceCodeByUserCode(r.Context(), code, s.now())
	if err != nil || d.Status != store.DevicePending {
		s.loginThrottle.fail(ipKey)
		page["Error"] = "That code is unknown or expired."
		s.render(w, r, http.StatusBadRequest, "device", page)
		return
	}
	in := &interaction{DeviceUserCode: code}
	_, user, ok := s.currentSession(r)
	if !ok {
		s.showLogin(w, r, in, "", http.StatusOK)
		return
	}
	s.showDeviceConsent(w, r, in, user)
}

func (s *Server) showDeviceConsent(w http.ResponseWriter, r *http.Request, in *interaction, user store.User) {
	d, err := s.store.GetDeviceCodeByUserCode(r.Context(), in.DeviceUserCode, s.now())
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "That code is unknown or expired.")
		return
	}
	client, err := s.store.GetClient(r.Context(), d.ClientID)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The client is not registered.")
		return
	}
	s.renderConsent(w, r, in, user, client, d.Scopes)
}

func (s *Server) decideDevice(w http.ResponseWriter, r *http.Request, userCode string, user store.User, sess store.Session, approve bool) {
	decision := store.DeviceDenied
	if approve {
		decision = store.DeviceApproved
	}
	if err := s.store.DecideDeviceCode(r.Context(), userCode, decision, user.ID, sess.AuthTime); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "That code was already used or has expired.")
		return
	}
	if approve {
		d, err := s.store.GetDeviceCodeByUserCode(r.Context(), userCode, s.now())
		if err == nil {
			s.saveConsent(r.Context(), user.ID, d.ClientID, d.Scopes)
		}
		s.messagePage(w, r, "Device connected", "You may close this page and return to your device.")
		return
	}
	s.messagePage(w, r, "Request denied", "The device was not connected.")
}
