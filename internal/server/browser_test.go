package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// chromium is Debian's Chromium (installed by hack/install-test-deps.sh);
// no browser is ever downloaded.
const chromium = "/usr/bin/chromium"

// newBrowser starts headless Chromium with a fresh profile and without the
// background services that would try to reach the internet.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromium); err != nil {
		t.Fatalf("Debian's chromium is required for browser tests (make test-deps installs it): %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser, with the test's context: a
	// timeout here would stop the whole browser later.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// artifacts is where screenshots go: bin/test-artifacts/ui (not committed).
func artifacts(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "bin", "test-artifacts", "ui"))
	must(t, err)
	must(t, os.MkdirAll(dir, 0o755))
	return dir
}

func screenshot(t testing.TB, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, tg) // 100: lossless PNG
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(artifacts(t), name+".png"), buf, 0o644)
	})
}

// value runs one action that returns a value, with a deadline.
func value[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

// run runs browser steps with a deadline, failing with the step's name.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(lctx, chromedp.Location())
		body, _ := chromedp.Run(lctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s (at %s): %v\npage: %.2000s", step, loc, err, body)
	}
}

// TestBrowser drives the UI in headless Chromium: log in through the
// authorization server, see the list, open an application and its graph,
// sync, roll back through the confirmation dialog (a real revert commit,
// deployed by the operator), and log out.
func TestBrowser(t *testing.T) {
	g := newGitops(t)
	c1 := g.head().SHA
	g.deployed(c1)
	c2 := g.commit("web v2", "2")
	g.deployed(c2)
	alice := uniqueUser("alice")
	bindRole(t, g.ns, alice, "cruise-operator")
	must(t, k8s.Create(t.Context(), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "read-push-creds", Namespace: g.ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"git-creds"}, Verbs: []string{"get"}}}}))
	must(t, k8s.Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-push", Namespace: g.ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "read-push-creds"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: alice}}}))
	ts := newTestServer(t, map[string][]string{alice: nil})
	ctx := newBrowser(t)

	run(t, ctx, "log in",
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, alice),
		chromedp.SendKeys(`input[name=password]`, testPassword),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`[data-testid=app-row]`),
		screenshot(t, "1-overview"),
	)
	text := value(t, ctx, "read the row", chromedp.Text(`[data-testid=app-row]`))
	if !strings.Contains(text, "web") || !strings.Contains(text, g.ns) {
		t.Fatalf("overview row = %q, want web in %s", text, g.ns)
	}

	// Live: suspending the application elsewhere updates its row in place.
	app := &v1alpha1.Application{}
	must(t, k8s.Get(t.Context(), objKey(g.ns, "web"), app))
	patch := client.MergeFrom(app.DeepCopy())
	app.Spec.Suspend = true
	must(t, k8s.Patch(t.Context(), app, patch))
	run(t, ctx, "see the row update live", chromedp.WaitVisible(`[data-testid=app-row] .tag`))
	value(t, ctx, "see the message update live", chromedp.Poll[bool](
		`document.querySelector('[data-testid=app-row] .msg').textContent.includes('suspended')`,
		chromedp.WithPollingTimeout(50*time.Second)))
	must(t, k8s.Get(t.Context(), objKey(g.ns, "web"), app))
	patch = client.MergeFrom(app.DeepCopy())
	app.Spec.Suspend = false
	must(t, k8s.Patch(t.Context(), app, patch))
	run(t, ctx, "see the row update live again", chromedp.WaitNotPresent(`[data-testid=app-row] .tag`))
	// The message the live update wrote shows the revision short, whole
	// on hover, as the server renders it.
	liveRev := value(t, ctx, "see the live message's revision", chromedp.Poll[[]string](
		`(() => { const a = document.querySelector('[data-testid=app-row] .msg abbr.rev'); return a && [a.textContent, a.title]; })()`,
		chromedp.WithPollingTimeout(50*time.Second)))
	if want := []string{"main@sha1:" + c2[:12], "main@sha1:" + c2}; strings.Join(liveRev, " ") != strings.Join(want, " ") {
		t.Errorf("overview message revision after a live update = %q, want %q", liveRev, want)
	}

	// By keyboard: "/" focuses the search, Escape leaves it, j selects
	// the first row and Enter opens it.
	run(t, ctx, "focus the search with /", chromedp.KeyEvent("/"))
	if ok := value(t, ctx, "check focus", chromedp.Evaluate[bool](`document.activeElement.matches('[data-search]')`)); !ok {
		t.Error(`"/" did not focus the search box`)
	}
	// chromedp sends a key's character as an event of its own, which the
	// page's preventDefault on keydown cannot stop as it does for a real
	// key press: take the stray "/" out of the box again.
	value(t, ctx, "clear the search", chromedp.Evaluate[bool](`document.activeElement.value = ''; true`))
	run(t, ctx, "open the application by keyboard",
		chromedp.KeyEvent(kb.Escape),
		chromedp.KeyEvent("j"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`svg[data-testid=graph]`),
		screenshot(t, "2-application"),
	)
	run(t, ctx, "switch to the dark theme",
		chromedp.Click(`#theme-toggle`),
		screenshot(t, "2-application-dark"),
	)
	if theme := value(t, ctx, "read the theme", chromedp.Evaluate[string](`document.documentElement.dataset.theme || ""`)); theme != "dark" {
		t.Errorf("theme after the toggle = %q, want dark", theme)
	}
	// Full revisions in the Ready message and in events show short, with
	// the full one on hover.
	revs := value(t, ctx, "read the revisions in messages", chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll('.status .message abbr.rev, .events abbr.rev'), a => [a.textContent, a.title])`))
	if len(revs) < 2 {
		t.Errorf("%d shortened revisions in the status message and events, want one in each", len(revs))
	}
	for _, r := range revs {
		if len(r) != 2 || !strings.HasPrefix(r[1], r[0]) || !regexp.MustCompile(`^main@sha1:[0-9a-f]{12}$`).MatchString(r[0]) || len(r[1]) != len("main@sha1:")+40 {
			t.Errorf("revision shown as %q, want main@sha1: and 12 hex digits, with the full one as title", r)
		}
	}
	nodes := value(t, ctx, "count graph nodes", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=node]').length`))
	if nodes < 2 {
		t.Errorf("graph has %d nodes, want the application and its ConfigMap", nodes)
	}

	run(t, ctx, "sync",
		chromedp.Click(`[data-testid=sync]`),
		chromedp.WaitVisible(`[data-testid=flash]`),
	)
	if text := value(t, ctx, "read the flash", chromedp.Text(`[data-testid=flash]`)); !strings.Contains(text, "Sync requested") {
		t.Errorf("flash after sync = %q", text)
	}

	// Drop the sync's message, so the next one seen is the rollback's.
	value(t, ctx, "clear the flash", chromedp.Evaluate[bool](`document.querySelectorAll('[data-testid=flash]').forEach(e => e.remove()); true`))
	run(t, ctx, "roll back",
		chromedp.Click(`[data-testid=rollback][data-revision="`+c1+`"]`),
		chromedp.WaitVisible(`[data-testid=confirm]`),
		screenshot(t, "3-confirm"),
		chromedp.Click(`[data-testid=confirm]`),
		chromedp.WaitVisible(`[data-testid=flash]`),
	)
	if text := value(t, ctx, "read the flash", chromedp.Text(`[data-testid=flash]`)); !strings.Contains(text, "Rolled back to "+c1[:7]) {
		t.Fatalf("flash after rollback = %q", text)
	}
	h := g.head()
	if h.Parent != c2 || h.Author != alice {
		t.Fatalf("head after rollback = %+v, want alice's commit on %s", h, c2)
	}
	g.deployed(h.SHA)
	if v := g.liveVersion(); v != "1" {
		t.Errorf("live v = %s after the rollback, want 1", v)
	}

	run(t, ctx, "see the rollback deployed, live",
		chromedp.WaitVisible(`code[title$="`+h.SHA+`"]`),
		screenshot(t, "4-rolled-back"),
	)

	// A commit not deployed yet: the diff view shows what a sync would do.
	// A dry-run needs the rights of the write, so alice may patch
	// ConfigMaps here.
	must(t, k8s.Create(t.Context(), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "configmaps", Namespace: g.ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "patch", "create"}}}}))
	must(t, k8s.Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-configmaps", Namespace: g.ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "configmaps"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: alice}}}))
	g.commit("web v3", "3")
	run(t, ctx, "view the diff",
		chromedp.Click(`[data-testid=diff]`),
		chromedp.WaitVisible(`details.change pre.patch`),
		screenshot(t, "5-diff"),
	)
	diffText := value(t, ctx, "read the diff", chromedp.Text(`details.change pre.patch`))
	if !strings.Contains(diffText, `-  v: "1"`) || !strings.Contains(diffText, `+  v: "3"`) {
		t.Errorf("diff = %q, want v 1 → 3", diffText)
	}
	run(t, ctx, "back", chromedp.Click(`[data-testid=back]`), chromedp.WaitVisible(`[data-testid=logout]`))

	run(t, ctx, "log out",
		chromedp.Click(`[data-testid=logout]`),
		chromedp.WaitVisible(`[data-testid=login]`),
		screenshot(t, "6-logged-out"),
	)
}
