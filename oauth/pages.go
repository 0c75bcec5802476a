package oauth

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/cruisegitops/cruise/oauth/store"
)

// setPageHeaders makes every HTML page unframeable (draft-ietf-oauth-v2-1
// section 7.12.5, clickjacking: X-Frame-Options and CSP frame-ancestors),
// uncacheable and free of scripts. No form-action directive: browsers
// apply it to the redirect back to the client.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}} · cruise</title><style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem;margin:.2rem 0}label{display:block;margin-top:.6rem}.err{color:#a00}</style></head><body>
<h1>{{.Title}}</h1>{{end}}
{{define "foot"}}</body></html>{{end}}

{{define "message"}}{{template "head" .}}<p {{if .Error}}class="err"{{end}}>{{.Message}}</p>{{template "foot" .}}{{end}}

{{define "login"}}{{template "head" .}}
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
{{if .ClientName}}<p>Log in to continue to <strong>{{.ClientName}}</strong>.</p>{{end}}
<form method="post" action="{{.LoginURL}}">
<input type="hidden" name="interaction" value="{{.Interaction}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label>User name <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form>
{{if .UpstreamURL}}<p><a href="{{.UpstreamURL}}">Log in with {{.UpstreamName}}</a></p>{{end}}
{{template "foot" .}}{{end}}

{{define "consent"}}{{template "head" .}}
<p>Signed in as <strong>{{.UserName}}</strong>.</p>
<p><strong>{{.ClientName}}</strong> asks to:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{else}}<li>know who you are</li>{{end}}</ul>
<form method="post" action="{{.ConsentURL}}">
<input type="hidden" name="interaction" value="{{.Interaction}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>
<p>You can revoke this later at <a href="{{.ConsentsURL}}">your authorizations</a>.</p>
{{template "foot" .}}{{end}}

{{define "device"}}{{template "head" .}}
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<form method="get" action="{{.DeviceURL}}"><label>Code shown on your device <input name="user_code" required autofocus></label>
<button type="submit">Continue</button></form>
{{template "foot" .}}{{end}}

{{define "consents"}}{{template "head" .}}
<p>Signed in as <strong>{{.UserName}}</strong>. Applications you allowed:</p>
<ul>{{range .Consents}}<li><strong>{{.ClientName}}</strong>: <code>{{.Scopes}}</code>
<form method="post" action="{{$.ConsentsURL}}" style="display:inline"><input type="hidden" name="csrf" value="{{$.CSRF}}">
<input type="hidden" name="client_id" value="{{.ClientID}}"><button type="submit">Revoke</button></form></li>
{{else}}<li>none</li>{{end}}</ul>
<form method="post" action="{{.LogoutURL}}"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form>
{{template "foot" .}}{{end}}
`))

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	setPageHeaders(w)
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
	}
}

// errorPage shows an error to the user without redirecting anywhere.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "message", map[string]any{"Title": "Request refused", "Message": msg, "Error": true})
}

func (s *Server) messagePage(w http.ResponseWriter, r *http.Request, title, msg string) {
	s.render(w, r, http.StatusOK, "message", map[string]any{"Title": title, "Message": msg})
}

// showLogin stores the interaction and renders the login form.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, in *interaction, errMsg string, status int) {
	if err := s.saveInteraction(r.Context(), in); err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	s.setCookie(w, csrfCookie, in.CSRF, interactionTTL)
	data := map[string]any{"Title": "Log in", "Error": errMsg, "Interaction": in.ID, "CSRF": in.CSRF, "LoginURL": s.url(PathLogin)}
	if in.Authorize != nil {
		if c, err := s.store.GetClient(r.Context(), in.Authorize.ClientID); err == nil {
			data["ClientName"] = c.Name
		}
	}
	if s.upstream != nil {
		data["UpstreamURL"] = s.url(PathUpstreamLogin) + "?interaction=" + in.ID
		data["UpstreamName"] = s.upstream.name
	}
	s.render(w, r, status, "login", data)
}

// showConsent renders the consent form with the client's name and the
// requested scopes.
func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, in *interaction, user store.User) {
	client, err := s.store.GetClient(r.Context(), in.Authorize.ClientID)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The client is not registered.")
		return
	}
	s.renderConsent(w, r, in, user, client, in.Authorize.Scopes)
}

func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, in *interaction, user store.User, client store.Client, scopes []string) {
	if err := s.saveInteraction(r.Context(), in); err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	s.setCookie(w, csrfCookie, in.CSRF, interactionTTL)
	s.render(w, r, http.StatusOK, "consent", map[string]any{
		"Title": "Authorize " + client.Name, "UserName": user.Name, "ClientName": client.Name, "Scopes": scopes,
		"Interaction": in.ID, "CSRF": in.CSRF, "ConsentURL": s.url(PathConsent), "ConsentsURL": s.url(PathConsents),
	})
}

// showConsents lists the user's consents with revoke buttons.
func (s *Server) showConsents(w http.ResponseWriter, r *http.Request, user store.User) {
	consents, err := s.store.ListConsents(r.Context(), user.ID)
	if err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed; try again later.")
		return
	}
	type row struct{ ClientID, ClientName, Scopes string }
	rows := make([]row, 0, len(consents))
	for _, c := range consents {
		name := c.ClientID
		if cl, err := s.store.GetClient(r.Context(), c.ClientID); err == nil {
			name = cl.Name
		}
		rows = append(rows, row{ClientID: c.ClientID, ClientName: name, Scopes: strings.Join(c.Scopes, " ")})
	}
	csrf := randomToken()
	s.setCookie(w, csrfCookie, csrf, interactionTTL)
	s.render(w, r, http.StatusOK, "consents", map[string]any{
		"Title": "Your authorizations", "UserName": user.Name, "Consents": rows, "CSRF": csrf,
		"ConsentsURL": s.url(PathConsents), "LogoutURL": s.url(PathLogout),
	})
}
