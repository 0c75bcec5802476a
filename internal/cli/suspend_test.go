package cli_test

import (
	"testing"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

func TestSuspendResume(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")
	appRef, srcRef := "Application/"+k.ns+"/web", "GitRepository/"+k.ns+"/web"

	r := k.run(t, 0, "suspend", "app", "web")
	wantLines(t, r.stdout, "✓ "+appRef+" suspended")
	if !k.app(t, "web").Spec.Suspend {
		t.Error("suspend app: spec.suspend is false")
	}
	r = k.run(t, 0, "get", "app", "web")
	// No revision: the empty REVISION cell merges into the padding.
	if got := tableRow(t, r.stdout, "web"); got[2] != "true" {
		t.Errorf("get app after suspend: row %q, want SUSPENDED true", got)
	}
	// create leaves spec.suspend alone: it does not own the field.
	k.run(t, 0, "create", "app", "web", "--source", "web", "--path", "deploy")
	if !k.app(t, "web").Spec.Suspend {
		t.Error("create app resumed the suspended Application")
	}

	r = k.run(t, 0, "resume", "app", "web")
	wantLines(t, r.stdout, "✓ "+appRef+" resumed, reconcile requested")
	app := k.app(t, "web")
	if app.Spec.Suspend {
		t.Error("resume app: spec.suspend is still true")
	}
	requestedAt(t, app.Annotations)

	r = k.run(t, 0, "suspend", "source", "web")
	wantLines(t, r.stdout, "✓ "+srcRef+" suspended")
	if !k.source(t, "web").Spec.Suspend {
		t.Error("suspend source: spec.suspend is false")
	}
	r = k.run(t, 0, "resume", "source", "git", "web")
	wantLines(t, r.stdout, "✓ "+srcRef+" resumed, reconcile requested")
	repo := k.source(t, "web")
	if repo.Spec.Suspend {
		t.Error("resume source: spec.suspend is still true")
	}
	if _, ok := repo.Annotations[v1alpha1.ReconcileRequestAnnotation]; !ok {
		t.Error("resume source requested no reconcile")
	}
}
