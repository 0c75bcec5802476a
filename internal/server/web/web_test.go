package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// evil is what a hostile commit or object could put in any string the UI
// shows: a script element and an attribute break-out with a handler.
const evil = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`

var (
	t0     = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	commit = "0123456789abcdef0123456789abcdef01234567"
)

func newRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func common(title string) Common {
	return Common{Title: title, User: "jane@example.com", CSRFToken: "tok-123", Flash: "Sync requested", Now: t0.Add(75 * time.Second)}
}

func shopApp() apiv1.Application {
	return apiv1.Application{
		Namespace: "shop", Name: "web", Source: apiv1.SourceRef{Namespace: "shop", Name: "shop-repo"},
		Path: "deploy/web", Sync: apiv1.SyncOutOfSync, Health: apiv1.HealthDegraded, Ready: "False",
		Reason: "HealthCheckFailed", Message: "Deployment/shop/web: 1 of 3 replicas unavailable",
		Revision: "main@sha1:" + commit, LastSyncTime: &t0, ResourceCount: 6,
	}
}

func appPage(app apiv1.Application, tree apiv1.ResourceTree) *AppPage {
	return &AppPage{
		Common: common(app.Namespace + "/" + app.Name), App: app, Tree: tree,
		History: []apiv1.HistoryEntry{
			{Revision: "main@sha1:ffffffffffffffffffffffffffffffffffffffff", Commit: "ffffffffffffffffffffffffffffffffffffffff",
				Subject: "Break it", Author: "bob", Time: t0, Result: "Failed", Error: "apply: invalid"},
			{Revision: "main@sha1:" + commit, Commit: commit, Subject: "Scale web to 3", Author: "jane", Time: t0.Add(-time.Hour), Result: "Succeeded"},
			{Revision: "main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Commit: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				Subject: "Initial", Author: "jane", Time: t0.Add(-2 * time.Hour), Result: "Succeeded"},
		},
		Events: []apiv1.Event{
			{Type: "Warning", Reason: "HealthCheckFailed", Message: "web: 1 of 3 replicas unavailable", Count: 4, Time: t0},
			{Type: "Normal", Reason: "Synced", Message: "applied main@sha1:" + commit + ": 6 objects", Count: 1, Time: t0.Add(-time.Hour)},
		},
		Images: shopImages(),
	}
}

func render(t *testing.T, f func(io.Writer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustContain(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %s", w)
		}
	}
}

func TestOverview(t *testing.T) {
	r := newRenderer(t)
	apps := []apiv1.Application{shopApp(), {Namespace: "ops", Name: "monitoring", Source: apiv1.SourceRef{Namespace: "infra", Name: "platform"},
		Sync: apiv1.SyncSynced, Health: apiv1.HealthHealthy, Ready: "True", Revision: "main@sha1:" + commit, Suspended: true,
		Message: "applied revision main@sha1:" + commit}}
	page := render(t, func(w io.Writer) error {
		return r.Overview(w, &OverviewPage{
			Common: common("Applications"), Apps: apps, Total: 40,
			Counts:     map[string]int{"Synced": 30, "OutOfSync": 10, "Healthy": 35, "Degraded": 5, "Custom": 1},
			Namespaces: []string{"ops", "shop"},
			Filters:    Filters{Namespace: "shop", Sync: "OutOfSync"},
			NextURL:    "/?continue=abc&namespace=shop",
		})
	})
	if n := strings.Count(page, `data-testid="app-row"`); n != 2 {
		t.Errorf("%d app rows, want 2", n)
	}
	mustContain(t, page,
		`<title>Applications · cruise</title>`,
		`<meta name="csrf-token" content="tok-123">`,
		`<tr data-testid="app-row" data-key="shop/web"><th scope="row"><a href="/apps/shop/web">web</a></th>`,
		`<span class="badge b-outofsync">OutOfSync</span>`,
		`<span class="badge b-degraded">Degraded</span>`,
		`<span class="badge r-false">Not ready</span>`,
		`<code title="main@sha1:`+commit+`">0123456</code>`,
		`<span class="msg">applied revision <abbr class="rev" title="main@sha1:`+commit+`">main@sha1:0123456789ab</abbr></span>`,
		`<td>infra/platform</td>`, // another namespace's source is qualified
		`<span class="tag">Suspended</span>`,
		`<option selected>shop</option>`,
		`<option selected>OutOfSync</option>`,
		`<input type="search" id="q" name="q" value=""`,
		`<label for="q">Search</label>`,
		// Chips keep the other filters and toggle their own.
		`<a class="chip c-outofsync on" href="/?namespace=shop" aria-current="true">OutOfSync <span class="n">10</span></a>`,
		`<a class="chip c-degraded" href="/?health=Degraded&amp;namespace=shop&amp;sync=OutOfSync">`,
		`<span class="chip c-custom">Custom <span class="n">1</span></span>`,
		`2 of 40 applications`,
		`href="/?continue=abc&amp;namespace=shop" rel="next"`,
		`data-watch-ns="shop"`,
		`data-testid="logout"`, `<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="tok-123">`,
		`<p class="flash ok" data-testid="flash">Sync requested</p>`,
		`<a class="skip" href="#main">Skip to content</a>`,
		`<main id="main" tabindex="-1">`,
	)
	if strings.Contains(page, "Previous") {
		t.Error("a Previous link without PrevURL")
	}
}

func TestOverviewEmpty(t *testing.T) {
	page := render(t, func(w io.Writer) error {
		return newRenderer(t).Overview(w, &OverviewPage{Common: common(""), Filters: Filters{Q: "nothing"}})
	})
	mustContain(t, page, `<title>cruise</title>`, `No applications match these filters.`)
	if strings.Contains(page, "<table") {
		t.Error("an empty table for no applications")
	}
}

func TestApplication(t *testing.T) {
	r := newRenderer(t)
	tree := apiv1.ResourceTree{Application: "web", Resources: []apiv1.Resource{
		deployment("web", 2), res("Service", "web", apiv1.HealthHealthy), res("ConfigMap", "web-config", ""),
	}}
	p := appPage(shopApp(), tree)
	page := render(t, func(w io.Writer) error { return r.Application(w, p) })
	mustContain(t, page,
		`<title>shop/web · cruise</title>`,
		`<h1>web</h1>`,
		`<dd><code>deploy/web</code></dd>`,
		`<form method="post" action="/apps/shop/web/sync"><input type="hidden" name="csrf" value="tok-123"><button type="submit" class="btn primary" data-testid="sync">`,
		`action="/apps/shop/web/suspend"`, `data-testid="suspend"`,
		`<a class="btn" href="/apps/shop/web/diff" data-testid="diff">`,
		`data-watch-ns="shop" data-watch-name="web" data-live-url="/apps/shop/web/live"`,
		`<div id="live">`,
		`<strong>HealthCheckFailed:</strong> Deployment/shop/web: 1 of 3 replicas unavailable`,
		`<svg data-testid="graph" class="graph"`,
		`<g class="node app" data-testid="node" transform="translate(0 `,
		`<g class="node n-healthy" data-testid="node"`,
		`<tr class="d2"><td>Pod</td>`,
		// Seconds tell syncs apart; the exact time is on hover.
		`<time datetime="2026-03-04T05:06:07Z" title="2026-03-04 05:06:07 UTC">1m 15s ago</time>`,
		`<time datetime="2026-03-04T04:06:07Z" title="2026-03-04 04:06:07 UTC">1h 1m ago</time>`,
		// A full revision in a message is shown short, whole on hover.
		`<td class="msg">applied <abbr class="rev" title="main@sha1:`+commit+`">main@sha1:0123456789ab</abbr>: 6 objects</td>`,
		`<span class="badge b-warning">Warning</span>`,
		`<dialog id="confirm-dialog"`, `data-testid="confirm"`,
	)
	if strings.Contains(page, `data-testid="resume"`) {
		t.Error("Resume shown for an application that is not suspended")
	}
	if n, want := strings.Count(page, `data-testid="node"`), 1+3+3; n != want {
		t.Errorf("%d graph nodes, want %d", n, want)
	}

	// The newest successful entry is what runs: no rollback to it.
	rollbacks := regexp.MustCompile(`data-testid="rollback" data-revision="([0-9a-f]+)"`).FindAllStringSubmatch(page, -1)
	var revs []string
	for _, m := range rollbacks {
		revs = append(revs, m[1])
	}
	if want := []string{"ffffffffffffffffffffffffffffffffffffffff", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}; strings.Join(revs, ",") != strings.Join(want, ",") {
		t.Errorf("rollback buttons for %v, want %v", revs, want)
	}
	// The form posts the revision with an empty confirm that only the
	// dialog sets, so the server refuses an unconfirmed rollback.
	mustContain(t, page,
		`<form method="post" action="/apps/shop/web/rollback" data-confirm="Roll web back to aaaaaaa (Initial)?`,
		`<input type="hidden" name="revision" value="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"><input type="hidden" name="confirm" value="">`,
	)

	p.App.Suspended = true
	page = render(t, func(w io.Writer) error { return r.Application(w, p) })
	mustContain(t, page, `action="/apps/shop/web/resume"`, `data-testid="resume"`)
	if strings.Contains(page, `data-testid="suspend"`) {
		t.Error("Suspend shown for a suspended application")
	}
}

func TestLiveIsTheInsideOfTheLiveElement(t *testing.T) {
	r := newRenderer(t)
	p := appPage(shopApp(), bigTree(30))
	page := render(t, func(w io.Writer) error { return r.Application(w, p) })
	live := render(t, func(w io.Writer) error { return r.Live(w, p) })
	if !strings.Contains(page, `<div id="live">`+live+`</div>`) {
		t.Error("the live fragment differs from what the page has in #live")
	}
	for _, outside := range []string{"<html", "<head", `data-testid="sync"`, "<dialog"} {
		if strings.Contains(live, outside) {
			t.Errorf("live fragment contains %s, which is not live", outside)
		}
	}
	mustContain(t, live, `data-testid="graph"`, `data-testid="rollback"`, `class="list res"`, `class="list events"`)
}

func TestDiff(t *testing.T) {
	r := newRenderer(t)
	patch := "--- live\n+++ git\n@@ -1,3 +1,3 @@\n spec:\n-  replicas: 1\n+  replicas: 3\n"
	page := render(t, func(w io.Writer) error {
		return r.Diff(w, &DiffPage{Common: common("web diff"), App: shopApp(), Diff: &apiv1.Diff{
			Revision: "main@sha1:" + commit,
			Changes: []apiv1.DiffChange{
				{Kind: "Deployment", Namespace: "shop", Name: "web", Action: "update", Patch: patch},
				{Kind: "ConfigMap", Namespace: "shop", Name: "old", Action: "prune"},
			},
		}})
	})
	mustContain(t, page,
		`<a class="back" href="/apps/shop/web" data-testid="back">`,
		`<span class="badge a-update">update</span> Deployment <strong>shop/web</strong>`,
		`<span class="l-file">--- live`+"\n</span>",
		`<span class="l-hunk">@@ -1,3 &#43;1,3 @@`+"\n</span>",
		`<span class="l-ctx"> spec:`+"\n</span>",
		`<span class="l-del">-  replicas: 1`+"\n</span>",
		`<span class="l-add">&#43;  replicas: 3`+"\n</span>",
		`revision <code title="main@sha1:`+commit+`">0123456</code>`,
		`2 objects differ.`,
		`No patch: the object is deleted.`,
	)

	failed := render(t, func(w io.Writer) error {
		return r.Diff(w, &DiffPage{Common: common("web diff"), App: shopApp(), Err: "render: kustomize build failed"})
	})
	mustContain(t, failed, `<p class="error-box" role="alert">The diff failed: render: kustomize build failed</p>`)

	none := render(t, func(w io.Writer) error {
		return r.Diff(w, &DiffPage{Common: common("web diff"), App: shopApp(), Diff: &apiv1.Diff{Revision: "main@sha1:" + commit}})
	})
	mustContain(t, none, `No differences: the cluster matches Git.`)
}

func TestErrorAndLogin(t *testing.T) {
	r := newRenderer(t)
	page := render(t, func(w io.Writer) error {
		return r.Error(w, &ErrorPage{Common: common("Forbidden"), Status: 403, Code: apiv1.CodeForbidden, Message: "you may not list applications in shop"})
	})
	mustContain(t, page, `<h1>403 Forbidden</h1>`, `you may not list applications in shop`, `<code>forbidden</code>`)

	page = render(t, func(w io.Writer) error {
		return r.Login(w, &LoginPage{Common: Common{Title: "Logged out"}, LoginURL: "/login?next=%2F"})
	})
	mustContain(t, page, `<h1>You are logged out</h1>`, `<a class="btn primary" href="/login?next=%2F" data-testid="login">Log in</a>`)
	if strings.Contains(page, `data-testid="logout"`) {
		t.Error("a logout button for nobody")
	}
}

// hostilePages renders every page with evil in each string a user or a
// repository controls.
func hostilePages(t *testing.T) map[string]string {
	r := newRenderer(t)
	app := shopApp()
	app.Name, app.Message, app.Reason, app.Path, app.Revision = evil, evil, evil, evil, evil
	app.Source.Name = evil
	c := Common{Title: evil, User: evil, CSRFToken: evil, Flash: evil, FlashErr: evil}
	tree := apiv1.ResourceTree{Resources: []apiv1.Resource{{Kind: evil, Namespace: evil, Name: evil, Health: evil, Sync: evil, Message: evil,
		Children: []apiv1.Resource{{Kind: "Pod", Name: evil, Health: evil}}}}}
	ap := appPage(app, tree)
	ap.Common = c
	ap.History[0].Subject, ap.History[0].Author, ap.History[0].Error, ap.History[2].Subject = evil, evil, evil, evil
	ap.Events[0].Message, ap.Events[0].Reason, ap.Events[0].Type = evil, evil, evil
	ap.Images, ap.ImagesErr = hostileImages(), evil
	pages := map[string]func(io.Writer) error{
		"overview": func(w io.Writer) error {
			return r.Overview(w, &OverviewPage{Common: c, Apps: []apiv1.Application{app}, Total: 1,
				Counts: map[string]int{evil: 1}, Namespaces: []string{evil},
				Filters: Filters{Namespace: evil, Sync: evil, Health: evil, Q: evil}, NextURL: evil, PrevURL: "javascript:alert(3)"})
		},
		"application": func(w io.Writer) error { return r.Application(w, ap) },
		"live":        func(w io.Writer) error { return r.Live(w, ap) },
		"diff": func(w io.Writer) error {
			return r.Diff(w, &DiffPage{Common: c, App: app, Diff: &apiv1.Diff{Revision: evil, Changes: []apiv1.DiffChange{
				{Kind: evil, Namespace: evil, Name: evil, Action: evil, Patch: "+" + evil + "\n-" + evil + "\n " + evil},
			}}})
		},
		"diff error": func(w io.Writer) error { return r.Diff(w, &DiffPage{Common: c, App: app, Err: evil}) },
		"error": func(w io.Writer) error {
			return r.Error(w, &ErrorPage{Common: c, Status: 500, Code: evil, Message: evil})
		},
		"login": func(w io.Writer) error { return r.Login(w, &LoginPage{Common: c, LoginURL: "javascript:alert(4)"}) },
	}
	out := map[string]string{}
	for name, f := range pages {
		out[name] = render(t, f)
	}
	return out
}

func TestUserStringsAreEscaped(t *testing.T) {
	for name, page := range hostilePages(t) {
		t.Run(name, func(t *testing.T) {
			for _, raw := range []string{"<script>alert", "<img", "javascript:alert"} {
				if strings.Contains(page, raw) {
					t.Errorf("unescaped %q in the page", raw)
				}
			}
			if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("the hostile string is missing instead of escaped; the test checks nothing")
			}
		})
	}
}

var (
	tagRE  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s/>"'=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*/?>`)
	attrRE = regexp.MustCompile(`([^\s/>"'=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?`)
)

// cspViolations lists what the server's Content-Security-Policy would
// block: style attributes, on* handler attributes and inline scripts. It
// looks at attribute names in tags, not at text or attribute values, so an
// escaped "onerror=" in a message does not count but a real one would.
// With raw it also scans the whole text, in case the tag pattern missed
// something; only for benign data, as hostile data puts look-alikes in
// attribute values.
func cspViolations(page string, raw bool) []string {
	var bad []string
	for _, tag := range tagRE.FindAllStringSubmatch(page, -1) {
		hasSrc := false
		for _, a := range attrRE.FindAllStringSubmatch(tag[2], -1) {
			name := strings.ToLower(a[1])
			switch {
			case name == "style":
				bad = append(bad, "style attribute in "+tag[0])
			case handlerRE.MatchString(name):
				bad = append(bad, "event handler attribute in "+tag[0])
			case name == "src":
				hasSrc = true
			}
		}
		switch strings.ToLower(tag[1]) {
		case "script":
			if !hasSrc {
				bad = append(bad, "inline script "+tag[0])
			}
		case "style":
			bad = append(bad, "inline <style> element")
		}
	}
	if raw {
		for _, re := range rawCSPRE {
			if m := re.FindString(page); m != "" {
				bad = append(bad, m+" matches "+re.String())
			}
		}
	}
	return bad
}

var (
	handlerRE = regexp.MustCompile(`^on[a-z]+$`)
	rawCSPRE  = []*regexp.Regexp{
		regexp.MustCompile(`<[^>]*\sstyle\s*=`),
		regexp.MustCompile(`<[a-zA-Z][^>]*\son[a-z]+\s*=\s*["'a-zA-Z]`),
		regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`),
	}
)

func checkCSP(t *testing.T, page string, raw bool) {
	t.Helper()
	if n := len(tagRE.FindAllString(page, -1)); n < 10 {
		t.Fatalf("found %d tags; the tag pattern is broken", n)
	}
	for _, v := range cspViolations(page, raw) {
		t.Error(v)
	}
}

func TestCSPCheckCatchesViolations(t *testing.T) {
	for _, snippet := range []string{
		`<div class="a" style="color:red">`,
		`<button type="button" onclick="go()">`,
		`<a href="/" ONMOUSEOVER='x'>`,
		`<script>alert(1)</script>`,
		`<script type="module">import "/x.js"</script>`,
		`<style>body{}</style>`,
		`<svg><rect width="1" style="fill:red"/></svg>`,
	} {
		for _, raw := range []bool{false, true} {
			if len(cspViolations(snippet, raw)) == 0 {
				t.Errorf("no violation found in %s (raw=%v)", snippet, raw)
			}
		}
	}
	if v := cspViolations(`<p title="x onclick=y">onclick="z" style="q"</p><script src="/a.js" defer></script>`, false); len(v) != 0 {
		t.Errorf("false positives: %v", v)
	}
}

func TestPagesKeepTheCSP(t *testing.T) {
	r := newRenderer(t)
	app := shopApp()
	benign := map[string]func(io.Writer) error{
		"overview": func(w io.Writer) error {
			return r.Overview(w, &OverviewPage{Common: common("x"), Apps: []apiv1.Application{app}})
		},
		"application": func(w io.Writer) error { return r.Application(w, appPage(app, bigTree(12))) },
		"diff": func(w io.Writer) error {
			return r.Diff(w, &DiffPage{Common: common("x"), App: app, Diff: &apiv1.Diff{Changes: []apiv1.DiffChange{{Kind: "Service", Name: "a", Action: "update", Patch: "+a\n-b"}}}})
		},
		"error": func(w io.Writer) error { return r.Error(w, &ErrorPage{Common: common("x"), Status: 404}) },
		"login": func(w io.Writer) error { return r.Login(w, &LoginPage{LoginURL: "/login"}) },
	}
	for name, f := range benign {
		t.Run(name, func(t *testing.T) { checkCSP(t, render(t, f), true) })
	}
	for name, page := range hostilePages(t) {
		t.Run("hostile "+name, func(t *testing.T) { checkCSP(t, page, false) })
	}
}

func TestStatic(t *testing.T) {
	page := render(t, func(w io.Writer) error {
		return newRenderer(t).Login(w, &LoginPage{LoginURL: "/login"})
	})
	links := regexp.MustCompile(`/static/([a-z/.]+)\?v=([0-9a-f]+)`).FindAllStringSubmatch(page, -1)
	if len(links) != 4 {
		t.Fatalf("page links %d versioned assets, want 4 (css, two scripts, icon): %v", len(links), links)
	}
	h := Static()
	get := func(target string, hdr ...string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	for _, l := range links {
		name, hash := l[1], l[2]
		res := get("/static/" + name + "?v=" + hash)
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", name, res.StatusCode)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s with its hash: Cache-Control %q, want immutable", name, cc)
		}
		if et := res.Header.Get("ETag"); et != `"`+hash+`"` {
			t.Errorf("%s: ETag %q, want the hash in the link %q", name, et, hash)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
		if res := get("/static/"+name, "If-None-Match", `"`+hash+`"`); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s revalidated with its ETag: status %d, want 304", name, res.StatusCode)
		}
	}

	res := get("/static/app.css?v=stale")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stale link: %d %q %q", res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"))
	}
	// Mounted behind http.StripPrefix the path arrives without /static/.
	if res := get("/app.js"); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("stripped path: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/static/nope.js", "/static/", "/static/../web.go", "/static/icons"} {
		if res := get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/static/app.css", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
}

// TestStylesheetURLsExist catches an icon renamed without its CSS rule.
func TestStylesheetURLsExist(t *testing.T) {
	assets, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	urls := regexp.MustCompile(`url\(([^)]+)\)`).FindAllStringSubmatch(string(assets["app.css"].body), -1)
	if len(urls) == 0 {
		t.Fatal("no url() in app.css; the pattern is broken")
	}
	for _, u := range urls {
		if _, ok := assets[u[1]]; !ok {
			t.Errorf("app.css refers to %s, which is not embedded", u[1])
		}
	}
}

func BenchmarkRenderApplication1500(b *testing.B) {
	r := newRenderer(b)
	p := appPage(shopApp(), bigTree(1500))
	var n int
	b.ReportAllocs()
	for b.Loop() {
		var w countingWriter
		if err := r.Application(&w, p); err != nil {
			b.Fatal(err)
		}
		n = int(w)
	}
	b.ReportMetric(float64(n), "page-bytes")
}

// countingWriter is io.Discard that remembers how much it discarded.
type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

func BenchmarkRenderOverview5000(b *testing.B) {
	r := newRenderer(b)
	p := &OverviewPage{Common: common("Applications"), Total: 5000, Counts: map[string]int{"Synced": 4000, "OutOfSync": 1000}}
	for i := range 5000 {
		a := shopApp()
		a.Name = fmt.Sprintf("app-%04d", i)
		p.Apps = append(p.Apps, a)
	}
	var n int
	b.ReportAllocs()
	for b.Loop() {
		var w countingWriter
		if err := r.Overview(&w, p); err != nil {
			b.Fatal(err)
		}
		n = int(w)
	}
	b.ReportMetric(float64(n), "page-bytes")
}

// TestApplicationOfRepositoryChart: the page names the chart and its
// repository instead of a GitRepository path, and offers no rollback (a
// repository chart's version changes by a commit to its Application).
func TestApplicationOfRepositoryChart(t *testing.T) {
	r := newRenderer(t)
	app := shopApp()
	app.Source, app.Path = apiv1.SourceRef{}, ""
	app.Revision = "6.14.0@sha256:" + strings.Repeat("ab", 32)
	app.Chart = &apiv1.Chart{RepoURL: "oci://ghcr.io/stefanprodan/charts", Name: "podinfo", Version: "6.14.0", AppVersion: "6.14.0"}
	p := appPage(app, apiv1.ResourceTree{Application: "web"})
	p.History = []apiv1.HistoryEntry{
		{Revision: app.Revision, Subject: "chart podinfo 6.14.0", Time: t0, Result: "Succeeded"},
		{Revision: "6.13.0@sha256:" + strings.Repeat("cd", 32), Subject: "chart podinfo 6.13.0", Time: t0.Add(-time.Hour), Result: "Succeeded"},
	}
	page := render(t, func(w io.Writer) error { return r.Application(w, p) })
	mustContain(t, page,
		`<dd>oci://ghcr.io/stefanprodan/charts podinfo</dd>`,
		`<dd data-testid="chart">podinfo 6.14.0 <span class="msg">(app 6.14.0)</span></dd>`,
	)
	if strings.Contains(page, `<dt>Path</dt>`) {
		t.Error("a Path shown for a repository chart")
	}
	if strings.Contains(page, `data-testid="rollback"`) {
		t.Error("a rollback offered for a repository chart")
	}
}
