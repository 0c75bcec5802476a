package controller_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/gitwrite"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// rollBack reverts the files under apps/ to their state at target, as
// cruise server's rollback does, and returns the revert commit.
func (f *imgFixture) rollBack(target string) string {
	f.t.Helper()
	res, err := gitwrite.Revert(context.Background(), gitwrite.Request{
		URL: f.url, Branch: "main", Target: target, Paths: []string{"apps"},
		Author:  gitwrite.Signature{Name: "Ada", Email: "ada@example.com"},
		Message: "Roll back apps to " + target[:7] + "\n",
	})
	if err != nil || res.NoOp {
		f.t.Fatalf("roll back to %s: %+v, %v", target, res, err)
	}
	return res.Commit
}

// TestImageUpdateHoldsAfterRollback is the whole story: the automation
// writes app:1.1.0; a rollback reverts that commit; the next runs keep
// app:1.0.0, saying why (status.held, the Ready message, an event); a
// newer tag ends the hold and is written. Reverted again, the newer tag is
// held in turn until `cruise resume image update` lifts the hold, and
// then it is written back.
func TestImageUpdateHoldsAfterRollback(t *testing.T) {
	const deploy = "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n"
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{"apps/deploy.yaml": deploy})
	start := f.head("main")
	f.sourceNamed("env", nil)
	f.policy("app", nil, app2)
	f.automation("web", "apps", nil)
	a := f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	bump := a.Status.LastPushCommit
	if got := f.file(bump, "apps/deploy.yaml"); !strings.HasPrefix(got, "image: "+app2.String()) {
		t.Fatalf("first run wrote %q", got)
	}

	// The bump is rolled back; the policy still chooses app:1.1.0.
	revert := f.rollBack(start)
	a = f.run("web")
	f.expectHeld(a, app2, revert, "registry.example/app:1.0.0")
	if ev := f.events("web", cruisev1.ReasonHeld); len(ev) != 1 || !strings.Contains(ev[0].Note, "held "+f.ns+"/app at "+app2.String()) {
		t.Errorf("Held events %v: want one", ev)
	}
	// And the run after that, too.
	a = f.run("web")
	f.expectHeld(a, app2, revert, "registry.example/app:1.0.0")
	if ev := f.events("web", cruisev1.ReasonHeld); len(ev) != 1 {
		t.Errorf("Held events %v: the hold is announced once", ev)
	}

	// A newer tag ends the hold and is written.
	app3 := imageRef("registry.example/app", "1.2.0")
	f.choose("app", *app3)
	bump3 := f.waitHead("main", revert)
	a = f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	if got := f.file(bump3, "apps/deploy.yaml"); !strings.HasPrefix(got, "image: "+app3.String()+" #") {
		t.Errorf("after the newer tag: %q", got)
	}
	if len(a.Status.Held) != 0 || a.Status.LastPushCommit != bump3 {
		t.Errorf("status after the newer tag: held %+v, last push %s", a.Status.Held, a.Status.LastPushCommit)
	}
	if ev := f.events("web", "HoldReleased"); len(ev) != 1 || !strings.Contains(ev[0].Note, "now chooses "+app3.String()) {
		t.Errorf("HoldReleased events %v", ev)
	}

	// Rolled back again: app:1.2.0 is held, until the hold is lifted.
	revert2 := f.rollBack(revert)
	a = f.run("web")
	f.expectHeld(a, app3, revert2, "registry.example/app:1.0.0")
	before := f.head("main")
	value := f.releaseHolds("web")
	lifted := f.waitHead("main", before)
	a = f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	if got := f.file(lifted, "apps/deploy.yaml"); !strings.HasPrefix(got, "image: "+app3.String()+" #") {
		t.Errorf("after lifting the hold: %q", got)
	}
	if len(a.Status.Held) != 0 || a.Status.LastHandledReleaseAt != value {
		t.Errorf("after lifting: held %+v, lastHandledReleaseAt %q, want %q", a.Status.Held, a.Status.LastHandledReleaseAt, value)
	}
	// The lifted hold does not come back on the next run.
	a = f.run("web")
	if conditionReason(a) != cruisev1.ReasonUpToDate || len(a.Status.Held) != 0 || f.head("main") != lifted {
		t.Errorf("run after lifting: %v, held %+v", a.Status.Conditions, a.Status.Held)
	}
}

// TestImageUpdateHoldEndsWhenGitAgrees: a hold whose revert is itself
// undone in Git (the file is back at the held version) has nothing left
// to hold: it ends without a commit.
func TestImageUpdateHoldEndsWhenGitAgrees(t *testing.T) {
	const deploy = "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n"
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{"apps/deploy.yaml": deploy})
	start := f.head("main")
	f.sourceNamed("env", nil)
	f.policy("app", nil, app2)
	f.automation("web", "apps", nil)
	bump := f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded).Status.LastPushCommit
	revert := f.rollBack(start)
	f.expectHeld(f.run("web"), app2, revert, "registry.example/app:1.0.0")

	redo := f.rollBack(bump)
	a := f.run("web")
	if len(a.Status.Held) != 0 || conditionReason(a) != cruisev1.ReasonUpToDate || f.head("main") != redo {
		t.Errorf("after the revert was undone: held %+v, %v, head %s (want %s)", a.Status.Held, a.Status.Conditions, f.head("main"), redo)
	}
}

// expectHeld checks a run that held ref: nothing committed on top of
// commit, status.held names it, Ready says so.
func (f *imgFixture) expectHeld(a *cruisev1.ImageUpdateAutomation, ref *cruisev1.ImageRef, commit, found string) {
	f.t.Helper()
	if h := f.head("main"); h != commit {
		f.t.Fatalf("head %s, want %s: a held version was written back", h, commit)
	}
	if got := f.file(commit, "apps/deploy.yaml"); !strings.Contains(got, found+" #") {
		f.t.Fatalf("file at %s: %q, want %s kept", commit[:7], got, found)
	}
	if len(a.Status.Held) != 1 {
		f.t.Fatalf("status.held %+v, want one", a.Status.Held)
	}
	h := a.Status.Held[0]
	if h.Policy != f.ns+"/app" || h.Ref != *ref || h.Commit != commit || h.Since.IsZero() {
		f.t.Errorf("held %+v, want %s/app at %s noticed at %s", h, f.ns, ref.String(), commit)
	}
	want := "held " + f.ns + "/app at " + ref.String() + ": Git has " + found + " instead (reverted or changed by hand; noticed at " +
		commit[:7] + "); a newer tag or `cruise resume image update web` releases it"
	if conditionReason(a) != cruisev1.ReasonHeld || !ready(a.Status.Conditions, a.Generation) || !strings.Contains(readyMessage(a.Status.Conditions), want) {
		f.t.Errorf("Ready %v, want True Held saying %q", a.Status.Conditions, want)
	}
}

// releaseHolds patches the release annotation as `cruise resume image
// update` will, and returns its value.
func (f *imgFixture) releaseHolds(name string) string {
	f.t.Helper()
	a := f.getAuto(name)
	meta, value := cruisev1.ReleaseHoldsRequest(time.Now())
	patch := map[string]any{"metadata": meta}
	if err := k8s.Patch(f.t.Context(), a, client.RawPatch("application/merge-patch+json", mustJSON(f.t, patch))); err != nil {
		f.t.Fatalf("release holds of %s: %v", name, err)
	}
	return value
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
