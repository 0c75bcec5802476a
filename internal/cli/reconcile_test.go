package cli_test

import (
	"testing"
	"time"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// requestedAt returns the reconcile request of an object, as a time.
func requestedAt(t *testing.T, annotations map[string]string) time.Time {
	t.Helper()
	v, ok := annotations[v1alpha1.ReconcileRequestAnnotation]
	if !ok {
		t.Fatalf("no %s annotation in %v", v1alpha1.ReconcileRequestAnnotation, annotations)
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("annotation %s: %v", v1alpha1.ReconcileRequestAnnotation, err)
	}
	return at
}

func TestReconcileRequests(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")
	appRef, srcRef := "Application/"+k.ns+"/web", "GitRepository/"+k.ns+"/web"

	before := time.Now()
	r := k.run(t, 0, "reconcile", "app", "web")
	wantLines(t, r.stdout, "► "+appRef+": reconcile requested")
	first := requestedAt(t, k.app(t, "web").Annotations)
	if first.Before(before.Add(-time.Second)) || first.After(time.Now().Add(time.Second)) {
		t.Errorf("reconcile requested at %s, want about now (%s)", first, before)
	}
	if _, ok := k.source(t, "web").Annotations[v1alpha1.ReconcileRequestAnnotation]; ok {
		t.Error("reconcile app without --with-source annotated the source")
	}

	// --with-source asks the source first, then the app.
	r = k.run(t, 0, "reconcile", "app", "web", "--with-source")
	if want := "► " + srcRef + ": reconcile requested\n► " + appRef + ": reconcile requested\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	src, app := requestedAt(t, k.source(t, "web").Annotations), requestedAt(t, k.app(t, "web").Annotations)
	if !app.After(first) || src.After(app) {
		t.Errorf("requests: first app %s, source %s, app %s; want the source's before the new app's", first, src, app)
	}

	r = k.run(t, 0, "reconcile", "source", "git", "web")
	wantLines(t, r.stdout, "► "+srcRef+": reconcile requested")
	if again := requestedAt(t, k.source(t, "web").Annotations); !again.After(src) {
		t.Errorf("reconcile source: request %s not newer than %s", again, src)
	}

	// A suspended object is not reconciled.
	k.run(t, 0, "suspend", "app", "web")
	r = k.run(t, 2, "reconcile", "app", "web")
	wantContains(t, r.stderr, appRef+" is suspended: resume it first")
}

// Without a controller nothing handles the request: --wait gives up after
// --timeout with exit code 1 and says why.
func TestReconcileWaitTimesOut(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")

	start := time.Now()
	r := k.run(t, 1, "reconcile", "app", "web", "--wait", "--timeout", "1s")
	if took := time.Since(start); took < time.Second || took > 30*time.Second {
		t.Errorf("--wait --timeout 1s took %s", took)
	}
	wantLines(t, r.stderr, "Error: Application/"+k.ns+"/web: the reconcile request was not handled within 1s "+
		"(last handled request: none; Ready: Unknown (no Ready condition yet)); is the cruise controller running?")

	// With --with-source the source is waited for first.
	r = k.run(t, 1, "reconcile", "app", "web", "--with-source", "--wait", "--timeout", "1s")
	wantContains(t, r.stderr, "Error: GitRepository/"+k.ns+"/web: the reconcile request was not handled within 1s")
	wantLines(t, r.stdout, "► GitRepository/"+k.ns+"/web: reconcile requested")

	// resume --wait waits the same way.
	k.run(t, 0, "suspend", "app", "web")
	r = k.run(t, 1, "resume", "app", "web", "--wait", "--timeout", "1s")
	wantContains(t, r.stderr, "Error: Application/"+k.ns+"/web: the reconcile request was not handled within 1s")
}
