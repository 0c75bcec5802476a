package oauthclient

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// BrowserOptions configure BrowserLogin.
type BrowserOptions struct {
	// Show hands the user the URL to open in a browser (print it, start
	// a browser on it). It is called once, with the callback listening.
	Show func(authURL string)
	// Timeout bounds the wait for the user; default 5 minutes.
	Timeout time.Duration
}

// BrowserLogin is the authorization code grant with PKCE (S256) for a
// native app (RFC 8252) as client cfg.ClientID: the redirect URI is
// http://127.0.0.1:PORT/callback on a port chosen now (section 7.3),
// served until one callback with this login's state arrives or the
// timeout passes (then a *TimeoutError). cfg's endpoint and redirect URL
// are set from md.
func BrowserLogin(ctx context.Context, cfg oauth2.Config, md *Metadata, o BrowserOptions) (*oauth2.Token, error) {
	ctx = withHTTPClient(ctx)
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the login callback: %w", err)
	}
	cfg.Endpoint = md.Endpoint()
	cfg.RedirectURL = "http://" + l.Addr().String() + "/callback"
	state := randomString()
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	cb := &callback{state: state, issuer: md.Issuer, requireIss: md.IssParameter, done: make(chan callbackResult, 1)}
	mux := http.NewServeMux()
	mux.Handle("/callback", cb)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer func() {
		// Let the browser receive its page, then stop listening.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	if o.Show != nil {
		o.Show(authURL)
	}
	wait, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var code string
	select {
	case r := <-cb.done:
		if r.err != nil {
			return nil, r.err
		}
		code = r.code
	case <-wait.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &TimeoutError{Timeout: o.Timeout}
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange the authorization code at %s: %w", md.TokenEndpoint, tokenError(err))
	}
	return tok, nil
}

// callbackResult is the outcome of the login callback: a code or why
// there is none.
type callbackResult struct {
	code string
	err  error
}

// callback serves the redirect URI. A request whose state is not this
// login's is refused and waiting goes on (it may come from a stale tab or
// another page); the first request with the right state ends the login.
type callback struct {
	state      string
	issuer     string
	requireIss bool
	done       chan callbackResult // buffered, receives once
	once       sync.Once
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	q := r.URL.Query()
	if r.Method != http.MethodGet || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(cb.state)) != 1 {
		writeCallbackPage(w, http.StatusBadRequest, "This login callback does not belong to the running cruise login (wrong state). Start again with cruise login.")
		return
	}
	res := callbackResult{code: q.Get("code")}
	iss, hasIss := q.Get("iss"), q.Has("iss")
	switch {
	case hasIss && iss != cb.issuer, !hasIss && cb.requireIss:
		// RFC 9207 section 2.4: a response from another issuer (mix-up).
		res = callbackResult{err: fmt.Errorf("the login answer came from issuer %q, not %q", iss, cb.issuer)}
	case q.Get("error") != "":
		msg := "the authorization server refused the login: " + q.Get("error")
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		res = callbackResult{err: errors.New(msg)}
	case res.code == "":
		res = callbackResult{err: errors.New("the login answer carries no authorization code")}
	}
	first := false
	cb.once.Do(func() { first = true })
	if !first {
		writeCallbackPage(w, http.StatusBadRequest, "This login has already been handled.")
		return
	}
	if res.err != nil {
		writeCallbackPage(w, http.StatusOK, "Login failed; see the terminal.")
	} else {
		writeCallbackPage(w, http.StatusOK, "You are logged in to cruise. You can close this window.")
	}
	cb.done <- res
}

// writeCallbackPage answers the browser with a fixed text, never with
// anything of the request.
func writeCallbackPage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>cruise login</title><p>%s</p></html>\n", text)
}

// randomString returns 256 random bits, base64url, for the state.
func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
