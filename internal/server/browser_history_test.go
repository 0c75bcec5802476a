package server_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// TestBrowserHistory reads an application's history as a person does:
// times to the second with the exact time on hover, and a Rollback button
// only where rolling back would change something. The third sync of the
// history rendered the same manifests as the current one (same digest),
// so it offers none, and the API refuses that rollback too.
func TestBrowserHistory(t *testing.T) {
	g := newGitops(t)
	g.deployed(g.head().SHA)
	ctx := t.Context()

	// A suspended application keeps the history written here: the
	// operator only marks it suspended and records no syncs.
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Name: "frozen", Namespace: g.ns},
		Spec: v1alpha1.ApplicationSpec{SourceRef: v1alpha1.SourceReference{Name: "env"}, Path: "apps/web", Suspend: true,
			Interval: metav1.Duration{Duration: time.Hour}}}
	must(t, k8s.Create(ctx, app))
	clustertestEventually(t, func() (bool, string) {
		must(t, k8s.Get(ctx, objKey(g.ns, "frozen"), app))
		ready := meta.FindStatusCondition(app.Status.Conditions, v1alpha1.ConditionReady)
		return ready != nil && ready.Reason == v1alpha1.ReasonSuspended && app.Status.ObservedGeneration == app.Generation,
			"waiting for the operator to mark it suspended"
	})
	sha := func(c string) string { return strings.Repeat(c, 40) }
	now := time.Now().UTC().Truncate(time.Second)
	times := []time.Time{now.Add(-20 * time.Second), now.Add(-50 * time.Second), now.Add(-80 * time.Second)}
	orig := app.DeepCopy()
	app.Status.LastAppliedRevision = "main@sha1:" + sha("3")
	app.Status.History = []v1alpha1.SyncResult{
		{Revision: "main@sha1:" + sha("3"), Message: "third", Time: metav1.NewTime(times[0]), Digest: "sha256:" + sha("d1"), Result: "Succeeded"},
		{Revision: "main@sha1:" + sha("2"), Message: "second", Time: metav1.NewTime(times[1]), Digest: "sha256:" + sha("d2"), Result: "Succeeded"},
		{Revision: "main@sha1:" + sha("1"), Message: "first", Time: metav1.NewTime(times[2]), Digest: "sha256:" + sha("d1"), Result: "Succeeded"},
	}
	must(t, k8s.Status().Patch(ctx, app, client.MergeFrom(orig)))

	alice := uniqueUser("alice")
	bindRole(t, g.ns, alice, "cruise-operator")
	ts := newTestServer(t, map[string][]string{alice: nil})

	// The API tells the same story: digests in the history, and no
	// rollback to a revision that deployed what runs now.
	token := ts.token(alice)
	base := "/api/v1/namespaces/" + g.ns + "/applications/frozen"
	var hist apiv1.History
	if code := ts.call("GET", base+"/history", token, nil, &hist); code != 200 || len(hist.Items) != 3 || hist.Items[2].Digest != "sha256:"+sha("d1") {
		t.Fatalf("history = %d %+v, want three entries with digests", code, hist.Items)
	}
	var e apiv1.ErrorResponse
	if code := ts.call("POST", base+"/rollback", token, apiv1.RollbackRequest{Revision: sha("1")}, &e); code != 422 ||
		e.Error.Code != apiv1.CodeNotRollbackable || !strings.Contains(e.Error.Message, "nothing to roll back") {
		t.Errorf("rollback to a revision with the current digest = %d %+v, want 422 nothing to roll back", code, e.Error)
	}

	bctx := newBrowser(t)
	run(t, bctx, "log in and open the application",
		chromedp.Navigate(ts.URL+"/apps/"+g.ns+"/frozen"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, alice),
		chromedp.SendKeys(`input[name=password]`, testPassword),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`.history`),
		screenshot(t, "7-history"),
	)
	rollbacks := value(t, bctx, "list the rollback buttons", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid=rollback]'), b => b.dataset.revision)`))
	if len(rollbacks) != 1 || rollbacks[0] != sha("2") {
		t.Errorf("rollback buttons for %q, want only %s (the others deployed what runs now)", rollbacks, sha("2"))
	}
	notes := value(t, bctx, "read the action cells", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('.history tbody tr'), r => r.cells[r.cells.length - 1].textContent.trim())`))
	if want := []string{"current", "Rollback", "same manifests"}; strings.Join(notes, "|") != strings.Join(want, "|") {
		t.Errorf("action cells = %q, want %q", notes, want)
	}

	// Each time reads to the second and carries the exact time, with
	// seconds, on hover.
	type shown struct{ Text, Title, DateTime string }
	stamps := value(t, bctx, "read the history times", chromedp.Evaluate[[]shown](
		`Array.from(document.querySelectorAll('.history time'), e => ({Text: e.textContent, Title: e.title, DateTime: e.dateTime}))`))
	relative := regexp.MustCompile(`^(\d+s|\d+m \d+s) ago$`)
	exact := regexp.MustCompile(`\b\d{1,2}:\d{2}:\d{2}\b`)
	if len(stamps) != 3 {
		t.Fatalf("history shows %d times, want 3", len(stamps))
	}
	for i, s := range stamps {
		// The title is in the browser's zone; its seconds are the same in any.
		secs := fmt.Sprintf(":%02d", times[i].Second())
		if !relative.MatchString(s.Text) || !strings.Contains(exact.FindString(s.Title), secs) || s.DateTime != times[i].Format(time.RFC3339) {
			t.Errorf("time %d = %+v, want seconds ago, the exact time with seconds as title, datetime %s", i, s, times[i].Format(time.RFC3339))
		}
		if i > 0 && s.Text == stamps[i-1].Text {
			t.Errorf("syncs 30 s apart both read %q", s.Text)
		}
	}
}
