package imageupdate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/image"
)

var (
	app1   = image.Ref{Name: "registry.example/app", Tag: "1.0.0", Digest: "sha256:" + strings.Repeat("1", 64)}
	app2   = image.Ref{Name: "registry.example/app", Tag: "1.1.0", Digest: "sha256:" + strings.Repeat("2", 64)}
	app3   = image.Ref{Name: "registry.example/app", Tag: "1.2.0", Digest: "sha256:" + strings.Repeat("3", 64)}
	worker = image.Ref{Name: "registry.example/worker", Tag: "2024.2"}
	now    = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
)

// readDir loads every file under dir as edit input, by slash path.
func readDir(t *testing.T, dir string) ([]file, map[string]string) {
	t.Helper()
	var files []file
	contents := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		contents[rel] = string(data)
		files = append(files, file{path: rel, read: func() ([]byte, error) { return data, nil }})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, contents
}

func memFiles(m map[string]string) []file {
	var out []file
	for p, c := range m {
		out = append(out, file{path: p, read: func() ([]byte, error) { return []byte(c), nil }})
	}
	return out
}

func newRun(t *testing.T, policies map[string]Policy) *Run {
	t.Helper()
	tmpl, err := ParseTemplates("", "")
	if err != nil {
		t.Fatal(err)
	}
	return &Run{Automation: "auto", Namespace: "apps", Policies: policies, Templates: tmpl, Now: now, DetectHolds: true}
}

func ref(r image.Ref) *image.Ref { return &r }

// TestEditAllForms rewrites every marker form (whole reference, :name,
// :tag, :digest) in a kustomization's images, a Helm values file and a
// Deployment, and leaves every other byte, a marker inside a block scalar,
// non-YAML files and a Helm template alone.
func TestEditAllForms(t *testing.T) {
	files, _ := readDir(t, "testdata/all-forms/in")
	_, want := readDir(t, "testdata/all-forms/want")
	r := newRun(t, map[string]Policy{
		"app":    {Selected: true, Latest: ref(app2)},
		"worker": {Selected: true, Latest: ref(worker)},
	})
	changed, msg, err := r.edit(files)
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range changed {
		if string(data) != want[p] {
			t.Errorf("%s:\n%s\nwant:\n%s", p, data, want[p])
		}
	}
	for _, f := range files {
		data, _ := f.read()
		if _, ok := changed[f.path]; !ok && string(data) != want[f.path] {
			t.Errorf("%s not changed, want:\n%s", f.path, want[f.path])
		}
	}
	if len(changed) != 3 {
		t.Errorf("changed %d files, want 3 (deploy, kustomization, values)", len(changed))
	}
	out := r.Outcome()
	if out.Files != 3 || out.Markers != 9 || len(out.Changes) != 7 || len(out.Missing) != 0 {
		t.Errorf("outcome: %d files, %d markers, %d changes, %d missing; want 3, 9, 7, 0", out.Files, out.Markers, len(out.Changes), len(out.Missing))
	}
	wantMsg := "Update images\n\n" +
		"- apps/app: registry.example/app:1.0.0 → registry.example/app:1.1.0 (deploy.yaml:10)\n" +
		"- apps/worker: registry.example/worker:2024.1 → registry.example/worker:2024.2 (deploy.yaml:12)\n" +
		"- apps/app: registry.example/app:1.0.0 → registry.example/app:1.1.0 (deploy.yaml:20)\n" +
		"- apps/app: registry.example/app:1.0.0 → registry.example/app:1.1.0 (kustomization.yaml:9)\n" +
		"- apps/app: registry.example/app:1.0.0 → registry.example/app:1.1.0 (values.yaml:4)\n" +
		"- apps/app: sha256:" + strings.Repeat("1", 64) + " → sha256:" + strings.Repeat("2", 64) + " (values.yaml:5)\n" +
		"- apps/worker: registry.example/worker:2024.1 → registry.example/worker:2024.2 (values.yaml:7)\n"
	if msg != wantMsg {
		t.Errorf("message:\n%s\nwant:\n%s", msg, wantMsg)
	}
	if got := out.Seen; !reflect.DeepEqual(got, map[string]image.Ref{"apps/app": app2, "apps/worker": worker}) {
		t.Errorf("seen %v", got)
	}

	// Run again on the result: nothing left to change.
	r2 := newRun(t, r.Policies)
	r2.Observed = out.Seen
	changed, msg, err = r2.edit(memFiles(want))
	if err != nil || changed != nil || msg != "" || len(r2.Outcome().Holds) != 0 {
		t.Fatalf("second run: %v %q %v, holds %v", changed, msg, err, r2.Outcome().Holds)
	}
}

// TestEditMissing: markers naming a policy of another namespace, one that
// does not exist and one the selector leaves out are reported with their
// file and line; the rest of the file is still updated.
func TestEditMissing(t *testing.T) {
	in := map[string]string{"a.yaml": "" +
		"a: app:1.0.0 # {\"$imagepolicy\": \"other:app\"}\n" +
		"b: app:1.0.0 # {\"$imagepolicy\": \"apps:nope\"}\n" +
		"c: app:1.0.0 # {\"$imagepolicy\": \"apps:hidden\"}\n" +
		"d: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n"}
	r := newRun(t, map[string]Policy{
		"app":    {Selected: true, Latest: ref(app2)},
		"hidden": {Selected: false, Latest: ref(app2)},
	})
	changed, _, err := r.edit(memFiles(in))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(changed["a.yaml"]), "d: "+app2.String()+" #") {
		t.Errorf("the selected policy's marker was not updated:\n%s", changed["a.yaml"])
	}
	var got []string
	for _, m := range r.Outcome().Missing {
		got = append(got, m.String())
	}
	want := []string{
		"marker other:app at a.yaml:1: an automation uses only ImagePolicies of its own namespace (apps)",
		"marker apps:nope at a.yaml:2: no ImagePolicy apps/nope",
		"marker apps:hidden at a.yaml:3: ImagePolicy apps/hidden is not selected by spec.policySelector",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("missing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEditRefuses(t *testing.T) {
	for name, content := range map[string]string{
		"broken YAML":       "a: [ # {\"$imagepolicy\": \"apps:app\"}\n",
		"malformed marker":  "a: x # {\"$imagepolicy\": \"apps\"}\n",
		"digest not pinned": "a: x # {\"$imagepolicy\": \"apps:worker:digest\"}\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := newRun(t, map[string]Policy{"app": {Selected: true, Latest: ref(app2)}, "worker": {Selected: true, Latest: ref(worker)}})
			_, _, err := r.edit(memFiles(map[string]string{"dir/x.yaml": content}))
			if !errors.Is(err, ErrMarker) || !strings.Contains(err.Error(), "dir/x.yaml") {
				t.Fatalf("err %v, want ErrMarker naming dir/x.yaml", err)
			}
		})
	}
}

// TestHolds walks the rules of holds, one run each.
func TestHolds(t *testing.T) {
	const full = `image: %s # {"$imagepolicy": "apps:app"}` + "\n"
	line := func(r image.Ref) string { return strings.Replace(full, "%s", r.String(), 1) }
	held := Hold{Policy: "apps/app", Ref: app2, Commit: "abcdef0123456789", Since: now.Add(-time.Hour)}
	tests := []struct {
		name     string
		file     image.Ref // in the file now
		latest   *image.Ref
		observed *image.Ref
		held     *Hold
		detect   bool
		release  bool
		want     image.Ref // in the file after
		wantHold *image.Ref
		newHold  bool
		released bool
	}{
		{name: "first run writes", file: app1, latest: &app2, detect: true, want: app2},
		{name: "policy moved writes", file: app1, latest: &app2, observed: &app1, detect: true, want: app2},
		{name: "reverted: held", file: app1, latest: &app2, observed: &app2, detect: true, want: app1, wantHold: &app2, newHold: true},
		{name: "pinned newer by hand: held", file: app3, latest: &app2, observed: &app2, detect: true, want: app3, wantHold: &app2, newHold: true},
		{name: "detection off writes", file: app1, latest: &app2, observed: &app2, want: app2},
		{name: "held stays held", file: app1, latest: &app2, observed: &app2, held: &held, detect: true, want: app1, wantHold: &app2},
		{name: "newer tag releases and is written", file: app1, latest: &app3, observed: &app2, held: &held, detect: true, want: app3, released: true},
		{name: "lifted: written", file: app1, latest: &app2, observed: &app2, held: &held, detect: true, release: true, want: app2},
		{name: "revert undone in Git: hold dropped", file: app2, latest: &app2, observed: &app2, held: &held, detect: true, want: app2},
		{name: "policy not ready: kept, hold kept", file: app1, observed: &app2, held: &held, detect: true, want: app1, wantHold: &app2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t, map[string]Policy{"app": {Selected: true, Latest: tt.latest}})
			r.DetectHolds, r.ReleaseHolds = tt.detect, tt.release
			if tt.observed != nil {
				r.Observed = map[string]image.Ref{"apps/app": *tt.observed}
			}
			if tt.held != nil {
				r.Held = map[string]Hold{"apps/app": *tt.held}
			}
			changed, _, err := r.edit(memFiles(map[string]string{"a.yaml": line(tt.file)}))
			if err != nil {
				t.Fatal(err)
			}
			got := line(tt.file)
			if c, ok := changed["a.yaml"]; ok {
				got = string(c)
			}
			if got != line(tt.want) {
				t.Errorf("file %q, want %q", got, line(tt.want))
			}
			out := r.Outcome()
			h, holding := out.Holds["apps/app"]
			switch {
			case tt.wantHold == nil && holding:
				t.Errorf("hold %+v, want none", h)
			case tt.wantHold != nil && (!holding || h.Ref != *tt.wantHold):
				t.Errorf("holds %+v, want one at %s", out.Holds, tt.wantHold)
			}
			if (len(out.NewHolds) == 1) != tt.newHold {
				t.Errorf("new holds %+v, want new: %v", out.NewHolds, tt.newHold)
			}
			if tt.newHold && (!out.NewHolds[0].Since.Equal(now) || out.NewHolds[0].Found != tt.file.String()) {
				t.Errorf("new hold %+v: want since now, found %s", out.NewHolds[0], tt.file)
			}
			if tt.held != nil && holding && h.Commit != tt.held.Commit {
				t.Errorf("a hold carried over lost its commit: %+v", h)
			}
			if (len(out.Released) == 1) != tt.released {
				t.Errorf("released %+v, want released: %v", out.Released, tt.released)
			}
		})
	}
}

// TestHoldsTagMarkers: a revert of a kustomization's newTag is seen
// through a :tag marker; the :name marker beside it, unchanged, does not
// release the hold.
func TestHoldsTagMarkers(t *testing.T) {
	kust := func(tag string) string {
		return "images:\n- name: app\n  newName: registry.example/app # {\"$imagepolicy\": \"apps:app:name\"}\n" +
			"  newTag: " + tag + " # {\"$imagepolicy\": \"apps:app:tag\"}\n"
	}
	r := newRun(t, map[string]Policy{"app": {Selected: true, Latest: &app2}})
	r.Observed = map[string]image.Ref{"apps/app": app2}
	changed, _, err := r.edit(memFiles(map[string]string{"k.yaml": kust("1.0.0")}))
	if err != nil || changed != nil {
		t.Fatalf("changed %v, err %v: want the reverted tag kept", changed, err)
	}
	h := r.Outcome().Holds["apps/app"]
	if h.Ref != app2 || h.Found != "1.0.0" {
		t.Fatalf("hold %+v", h)
	}
	h.Commit = "0123456789abcdef"
	want := "held apps/app at " + app2.String() + ": Git has 1.0.0 instead (reverted or changed by hand; noticed at 0123456); " +
		"a newer tag or `cruise resume image update web` releases it"
	if got := h.Describe("web"); got != want {
		t.Errorf("describe:\n%s\nwant:\n%s", got, want)
	}
}

func TestEditDry(t *testing.T) {
	r := newRun(t, map[string]Policy{"app": {Selected: true, Latest: &app2}})
	r.Dry = true
	changed, msg, err := r.edit(memFiles(map[string]string{"a.yaml": "image: x:1 # {\"$imagepolicy\": \"apps:app\"}\n"}))
	if err != nil || changed != nil || msg == "" || len(r.Outcome().Changes) != 1 {
		t.Fatalf("dry run: %v %q %v %+v", changed, msg, err, r.Outcome())
	}
}
