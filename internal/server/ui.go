package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/internal/server/web"
)

const (
	flashCookie  = "cruise_flash"
	overviewPage = 200 // rows per overview page
)

type flash struct {
	Msg string `json:"m,omitempty"`
	Err string `json:"e,omitempty"`
}

type sessionKey struct{}

func (s *Server) uiRoutes(m *http.ServeMux) {
	m.Handle("GET /static/", http.StripPrefix("/static/", web.Static()))
	m.HandleFunc("GET /login", s.handleLogin)
	m.HandleFunc("GET /callback", s.handleCallback)
	m.HandleFunc("GET /loggedout", s.handleLoggedOut)
	m.Handle("POST /logout", s.uiAuth(http.HandlerFunc(s.handleLogout)))
	m.Handle("GET /{$}", s.uiAuth(http.HandlerFunc(s.handleOverview)))
	m.Handle("GET /apps/{ns}/{name}", s.uiAuth(http.HandlerFunc(s.handleAppPage)))
	m.Handle("GET /apps/{ns}/{name}/live", s.uiAuth(http.HandlerFunc(s.handleAppLive)))
	m.Handle("GET /apps/{ns}/{name}/diff", s.uiAuth(http.HandlerFunc(s.handleDiffPage)))
	m.Handle("POST /apps/{ns}/{name}/{action}", s.uiAuth(http.HandlerFunc(s.handleAppAction)))
}

// uiAuth is authenticate for pages: without a session it starts the login
// instead of answering 401.
func (s *Server) uiAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tokenInQuery(r) {
			s.errorPage(w, r, newError(http.StatusBadRequest, apiv1.CodeTokenInQuery, "tokens are never accepted in the URL"))
			return
		}
		sess, aerr := s.sessions.load(w, r)
		if aerr != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, aerr)
			return
		}
		id, aerr := s.admitSession(r, sess)
		if aerr != nil {
			s.errorPage(w, r, aerr)
			return
		}
		ctx := context.WithValue(withIdentity(r.Context(), id), sessionKey{}, sess)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// common fills what every page shows, taking the one-shot flash cookie.
func (s *Server) common(w http.ResponseWriter, r *http.Request, title string) web.Common {
	c := web.Common{Title: title, User: identityFrom(r.Context()).User, Now: time.Now()}
	if sess, ok := r.Context().Value(sessionKey{}).(*session); ok {
		c.CSRFToken = sess.CSRF
	}
	if ck, err := r.Cookie(flashCookie); err == nil {
		var f flash
		if s.sessions.open(flashCookie, ck.Value, &f) == nil {
			c.Flash, c.FlashErr = f.Msg, f.Err
		}
		s.sessions.clearCookie(w, flashCookie)
	}
	return c
}

func (s *Server) setFlash(w http.ResponseWriter, f flash) {
	if v, err := s.sessions.seal(flashCookie, f); err == nil {
		s.sessions.setCookie(w, flashCookie, v, time.Minute)
	}
}

func (s *Server) render(w http.ResponseWriter, status int, fn func(*strings.Builder) error) {
	var b strings.Builder
	if err := fn(&b); err != nil {
		s.log.Error("render page", "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = newError(http.StatusInternalServerError, apiv1.CodeInternal, "%v", err)
	}
	p := &web.ErrorPage{Common: s.common(w, r, "Error"), Status: ae.status, Code: ae.code, Message: ae.msg}
	s.render(w, ae.status, func(b *strings.Builder) error { return s.pages.Error(b, p) })
}

// handleLogin starts authorization code + PKCE, keeping state, verifier
// and the page to return to in a sealed short-lived cookie.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	pl := pendingLogin{State: randomString(24), Verifier: oauth2.GenerateVerifier(), Next: safeNext(r.URL.Query().Get("next"))}
	v, err := s.sessions.seal(loginCookie, pl)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.sessions.setCookie(w, loginCookie, v, 10*time.Minute)
	http.Redirect(w, r, s.uiOAuth.AuthCodeURL(pl.State, oauth2.S256ChallengeOption(pl.Verifier)), http.StatusSeeOther)
}

func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ck, err := r.Cookie(loginCookie)
	var pl pendingLogin
	if err != nil || s.sessions.open(loginCookie, ck.Value, &pl) != nil {
		s.errorPage(w, r, newError(http.StatusBadRequest, apiv1.CodeBadRequest, "no login in progress in this browser: start again from the home page"))
		return
	}
	s.sessions.clearCookie(w, loginCookie)
	if e := q.Get("error"); e != "" {
		s.errorPage(w, r, newError(http.StatusForbidden, apiv1.CodeUnauthenticated, "login refused by the authorization server: %s %s", e, q.Get("error_description")))
		return
	}
	if !constantTimeEqual(q.Get("state"), pl.State) {
		s.errorPage(w, r, newError(http.StatusBadRequest, apiv1.CodeBadRequest, "login state does not match: start again from the home page"))
		return
	}
	ctx, cancel := context.WithTimeout(s.oauthContext(r.Context()), 15*time.Second)
	defer cancel()
	tok, err := s.uiOAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pl.Verifier))
	if err != nil {
		s.errorPage(w, r, newError(http.StatusBadGateway, apiv1.CodeUnauthenticated, "redeem the login code: %v", err))
		return
	}
	sess := &session{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry, CSRF: randomString(32)}
	claims, err := s.verifier.VerifyBearer(r.Context(), sess.Access)
	if err != nil {
		s.errorPage(w, r, newError(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "access token refused: %v", err))
		return
	}
	if _, aerr := s.identityFor(claims); aerr != nil {
		s.errorPage(w, r, aerr)
		return
	}
	if err := s.sessions.save(w, sess); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, pl.Next, http.StatusSeeOther)
}

// handleLogout revokes the session's refresh token (RFC 7009) and drops
// the cookie.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	sess, _ := r.Context().Value(sessionKey{}).(*session)
	if sess != nil && sess.Refresh != "" && s.opts.Auth.RevocationURL != "" {
		ctx, cancel := context.WithTimeout(s.oauthContext(r.Context()), 10*time.Second)
		defer cancel()
		form := url.Values{"token": {sess.Refresh}, "token_type_hint": {"refresh_token"}, "client_id": {s.uiOAuth.ClientID}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.Auth.RevocationURL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			hc, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
			} else {
				s.log.Warn("revoke refresh token at logout", "err", err)
			}
		}
	}
	s.sessions.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/loggedout", http.StatusSeeOther)
}

func (s *Server) handleLoggedOut(w http.ResponseWriter, r *http.Request) {
	p := &web.LoginPage{Common: s.common(w, r, "Logged out"), LoginURL: "/login"}
	s.render(w, http.StatusOK, func(b *strings.Builder) error { return s.pages.Login(b, p) })
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	f := filtersFrom(r)
	all, _, err := s.listApplications(r.Context(), Filters{})
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	var nss []string
	counts := map[string]int{}
	var matched []apiv1.Application
	for i := range all {
		a := &all[i]
		if len(nss) == 0 || nss[len(nss)-1] != a.Namespace {
			nss = append(nss, a.Namespace)
		}
		if (f.Namespace == "" || a.Namespace == f.Namespace) && f.match(a) {
			matched = append(matched, *a)
			counts[a.Sync]++
			counts[a.Health]++
		}
	}
	cont := r.URL.Query().Get("continue")
	items, next, err := page(matched, cont, overviewPage)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	p := &web.OverviewPage{Common: s.common(w, r, "Applications"), Apps: items, Total: len(matched), Counts: counts,
		Namespaces: nss, Filters: web.Filters{Namespace: f.Namespace, Sync: f.Sync, Health: f.Health, Q: f.Query}}
	link := func(c string) string {
		q := r.URL.Query()
		q.Del("continue")
		if c != "" {
			q.Set("continue", c)
		}
		return "/?" + q.Encode()
	}
	if next != "" {
		p.NextURL = link(next)
	}
	if cont != "" {
		p.PrevURL = link("") // back to the first page: continue tokens only go forward
	}
	s.render(w, http.StatusOK, func(b *strings.Builder) error { return s.pages.Overview(b, p) })
}

// appPage gathers everything the application page shows.
func (s *Server) appPage(w http.ResponseWriter, r *http.Request) (*web.AppPage, error) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	app, err := s.getApplication(r.Context(), ns, name)
	if err != nil {
		return nil, err
	}
	tree, err := s.resourceTree(r.Context(), app)
	if err != nil {
		return nil, err
	}
	events, err := s.listEvents(r.Context(), ns, name)
	if err != nil {
		events = nil // a user who may not read Events still sees the rest
	}
	p := &web.AppPage{Common: s.common(w, r, ns+"/"+name), App: toApplication(app), Tree: tree,
		History: toHistory(app), Events: events}
	// Images are an extra: when they cannot be read the page says so in
	// their section and shows the rest.
	if p.Images, err = s.applicationImages(r.Context(), app); err != nil {
		p.ImagesErr = err.Error()
	}
	return p, nil
}

func (s *Server) handleAppPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.appPage(w, r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, http.StatusOK, func(b *strings.Builder) error { return s.pages.Application(b, p) })
}

func (s *Server) handleAppLive(w http.ResponseWriter, r *http.Request) {
	p, err := s.appPage(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.render(w, http.StatusOK, func(b *strings.Builder) error { return s.pages.Live(b, p) })
}

func (s *Server) handleDiffPage(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	app, err := s.getApplication(r.Context(), ns, name)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	p := &web.DiffPage{Common: s.common(w, r, "Diff "+ns+"/"+name), App: toApplication(app)}
	if p.Diff, err = s.diff(r.Context(), app); err != nil {
		p.Err = err.Error()
	}
	s.render(w, http.StatusOK, func(b *strings.Builder) error { return s.pages.Diff(b, p) })
}

// handleAppAction runs a button's action and redirects back to the page
// (post/redirect/get) with the outcome as a flash message.
func (s *Server) handleAppAction(w http.ResponseWriter, r *http.Request) {
	ns, name, action := r.PathValue("ns"), r.PathValue("name"), r.PathValue("action")
	ctx := r.Context()
	var msg string
	var err error
	switch action {
	case "sync":
		_, err = s.requestSync(ctx, ns, name)
		msg = "Sync requested for " + ns + "/" + name
	case "suspend", "resume":
		err = s.setSuspend(ctx, ns, name, action == "suspend")
		msg = map[string]string{"suspend": "Suspended ", "resume": "Resumed "}[action] + ns + "/" + name
	case "rollback":
		if r.PostFormValue("confirm") != "yes" {
			err = newError(http.StatusBadRequest, apiv1.CodeBadRequest, "rollback needs confirmation")
			break
		}
		var res *apiv1.RollbackResult
		res, err = s.rollback(ctx, ns, name, r.PostFormValue("revision"))
		if err == nil {
			if res.NoOp {
				msg = "Already at " + res.Target[:7] + ": nothing to roll back"
			} else {
				msg = "Rolled back to " + res.Target[:7] + ": pushed " + res.Commit[:7] + " to " + res.Branch
			}
		}
	default:
		s.errorPage(w, r, newError(http.StatusNotFound, apiv1.CodeNotFound, "no action %q", action))
		return
	}
	if err == nil {
		s.audit(ctx, action+" (ui)", ns, name)
		s.setFlash(w, flash{Msg: msg})
	} else {
		var ae *apiError
		if errors.As(err, &ae) && len(ae.files) > 0 {
			s.setFlash(w, flash{Err: ae.msg})
		} else {
			s.setFlash(w, flash{Err: err.Error()})
		}
	}
	http.Redirect(w, r, "/apps/"+url.PathEscape(ns)+"/"+url.PathEscape(name), http.StatusSeeOther)
}
