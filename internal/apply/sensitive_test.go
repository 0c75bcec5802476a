package apply_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/render"
)

// sensitive marks every object as render marks those decrypted from SOPS
// files.
func sensitive(objs []render.Object) []render.Object {
	for i := range objs {
		objs[i].Sensitive = true
	}
	return objs
}

// TestDiffMasksSensitiveObjects: a ConfigMap whose values were decrypted
// shows in a diff with its keys and names only, before and after a change.
func TestDiffMasksSensitiveObjects(t *testing.T) {
	ctx := t.Context()
	e, _, opts := setup(t)
	dopts := apply.DiffOptions{Owner: opts.Owner, Inventory: opts.Inventory, Namespaces: opts.Namespaces}
	const cm = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: hidden
  labels:
    tier: decrypted-label-value
data:
  endpoint: https://first-decrypted.example
  plain: same-decrypted-value
`
	leaks := []string{"first-decrypted", "second-decrypted", "same-decrypted-value", "decrypted-label-value"}
	check := func(d apply.ObjectDiff, want ...string) {
		t.Helper()
		for _, leak := range leaks {
			if strings.Contains(d.Diff, leak) {
				t.Errorf("diff leaks %q:\n%s", leak, d.Diff)
			}
		}
		for _, w := range want {
			if !strings.Contains(d.Diff, w) {
				t.Errorf("diff lacks %q:\n%s", w, d.Diff)
			}
		}
	}
	diffs, err := e.Diff(ctx, sensitive(objects(t, "cm.yaml", cm)), dopts)
	if err != nil {
		t.Fatal(err)
	}
	check(diffs[0], "+  name: hidden", "+  endpoint: '***'", "+kind: ConfigMap")

	if _, err := e.Apply(ctx, sensitive(objects(t, "cm.yaml", cm)), opts); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(cm, "first-decrypted", "second-decrypted", 1)
	diffs, err = e.Diff(ctx, sensitive(objects(t, "cm.yaml", changed)), dopts)
	if err != nil {
		t.Fatal(err)
	}
	if diffs[0].Action != apply.Configured {
		t.Fatalf("action %s, want configured", diffs[0].Action)
	}
	check(diffs[0], "-  endpoint: '*** (before)'", "+  endpoint: '*** (after)'", "   plain: '***'")

	// The same change on an object not marked sensitive shows the values:
	// the masking is the mark's doing.
	diffs, err = e.Diff(ctx, objects(t, "cm.yaml", changed), dopts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(diffs[0].Diff, "second-decrypted") {
		t.Errorf("an ordinary ConfigMap's diff is masked:\n%s", diffs[0].Diff)
	}
}

// TestApplyScrubsSensitiveErrors: the API server quotes invalid values in
// its answer; for a sensitive object they are scrubbed from the error,
// which still says what is wrong.
func TestApplyScrubsSensitiveErrors(t *testing.T) {
	e, _, opts := setup(t)
	const bad = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: bad
  labels:
    token: "s3cret value with spaces"
data:
  k: v
`
	_, err := e.Apply(t.Context(), sensitive(objects(t, "bad.yaml", bad)), opts)
	if !errors.Is(err, apply.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error quotes the value: %v", err)
	}
	if !strings.Contains(err.Error(), "ConfigMap/") || !strings.Contains(err.Error(), "metadata.labels") {
		t.Errorf("error no longer says what is wrong: %v", err)
	}
	// Not sensitive: the server's words as they are.
	_, err = e.Apply(t.Context(), objects(t, "bad.yaml", bad), opts)
	if err == nil || !strings.Contains(err.Error(), "s3cret") {
		t.Errorf("an ordinary object's error was changed: %v", err)
	}
}
