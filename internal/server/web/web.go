package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"sync"
	"time"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

//go:embed templates
var templateFS embed.FS

// Common is on every page.
type Common struct {
	Title string
	// User is the logged-in user, shown in the header with a logout
	// button; empty on the logged-out page.
	User string
	// CSRFToken goes in the hidden input "csrf" of every POST form and in
	// <meta name="csrf-token">.
	CSRFToken string
	// Flash and FlashErr are one-line success and error messages, shown
	// in an aria-live region; either may be empty.
	Flash    string
	FlashErr string
	// Now is what relative times ("12s ago") are counted from; zero means
	// the time of rendering.
	Now time.Time
}

// Filters are the overview's query parameters, echoed into its form.
type Filters struct {
	Namespace, Sync, Health, Q string
}

// OverviewPage is "/": the list of applications.
type OverviewPage struct {
	Common
	Apps []apiv1.Application
	// Total counts the applications matching the filters, on all pages.
	Total int
	// Counts are by sync and health value ("Synced", "Degraded", ...).
	Counts map[string]int
	// Namespaces fill the namespace filter.
	Namespaces []string
	Filters    Filters
	// NextURL and PrevURL are paging links, empty when there is none.
	NextURL, PrevURL string
}

// AppPage is /apps/{namespace}/{name}.
type AppPage struct {
	Common
	App     apiv1.Application
	Tree    apiv1.ResourceTree
	History []apiv1.HistoryEntry // newest first
	Events  []apiv1.Event
	// Images are the containers' images and what ImagePolicies say of
	// them; ImagesErr, when set, says why they could not be read.
	Images    apiv1.ApplicationImages
	ImagesErr string
}

// DiffPage is /apps/{namespace}/{name}/diff.
type DiffPage struct {
	Common
	App apiv1.Application
	// Diff is nil, with Err set, when the diff failed.
	Diff *apiv1.Diff
	Err  string
}

// ErrorPage shows a failed request; Code is an apiv1 error code.
type ErrorPage struct {
	Common
	Status  int
	Code    string
	Message string
}

// LoginPage is the "you are logged out" page.
type LoginPage struct {
	Common
	LoginURL string
}

// Renderer renders the pages from templates parsed once, at New. It is
// safe for concurrent use.
type Renderer struct {
	overview, app, diff, errorPage, login *template.Template
	// bufs hold a page until it rendered completely, so a failed render
	// writes nothing and the caller can still send an error instead.
	bufs sync.Pool
}

// New parses the embedded templates.
func New() (*Renderer, error) {
	assets, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: read static assets: %w", err)
	}
	base, err := template.New("layout").Funcs(funcs(assets)).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	page := func(file string) (*template.Template, error) {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: clone layout for %s: %w", file, err)
		}
		if t, err = t.ParseFS(templateFS, "templates/"+file); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", file, err)
		}
		return t, nil
	}
	r := &Renderer{bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
	for _, p := range []struct {
		t    **template.Template
		file string
	}{
		{&r.overview, "overview.html"},
		{&r.app, "app.html"},
		{&r.diff, "diff.html"},
		{&r.errorPage, "error.html"},
		{&r.login, "login.html"},
	} {
		if *p.t, err = page(p.file); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Overview renders the list of applications.
func (r *Renderer) Overview(w io.Writer, p *OverviewPage) error {
	return r.execute(w, "overview", r.overview, "layout", p)
}

// Application renders an application's page.
func (r *Renderer) Application(w io.Writer, p *AppPage) error {
	return r.execute(w, "application", r.app, "layout", p)
}

// Live renders only the part of the application page that live updates
// replace (status badges, graph, resource table, history, events): the
// inner HTML of the element with id="live".
func (r *Renderer) Live(w io.Writer, p *AppPage) error {
	return r.execute(w, "live fragment", r.app, "live", p)
}

// Diff renders what syncing an application would change.
func (r *Renderer) Diff(w io.Writer, p *DiffPage) error {
	return r.execute(w, "diff", r.diff, "layout", p)
}

// Error renders a failed request for a person; the caller sets the status.
func (r *Renderer) Error(w io.Writer, p *ErrorPage) error {
	return r.execute(w, "error page", r.errorPage, "layout", p)
}

// Login renders the logged-out page.
func (r *Renderer) Login(w io.Writer, p *LoginPage) error {
	return r.execute(w, "login page", r.login, "layout", p)
}

// maxPooledBuf keeps one huge page from pinning its buffer forever.
const maxPooledBuf = 8 << 20

func (r *Renderer) execute(w io.Writer, what string, t *template.Template, name string, data any) error {
	buf := r.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			r.bufs.Put(buf)
		}
	}()
	if err := t.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("web: render %s: %w", what, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("web: write %s: %w", what, err)
	}
	return nil
}
