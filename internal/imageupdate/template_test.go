package imageupdate

import (
	"errors"
	"strings"
	"testing"
)

func TestTemplates(t *testing.T) {
	changes := []Change{
		{Policy: "apps/app", Image: "app", OldTag: "1", NewTag: "2", Old: "app:1", New: "app:2", File: "a.yaml", Line: 3},
		{Policy: "apps/db", Image: "db", Old: "sha256:aa", New: "sha256:bb", File: "b.yaml", Line: 9},
	}
	d := Data{AutomationName: "web", AutomationNamespace: "apps", Changes: changes, ChangeID: ChangeID(changes)}

	tmpl, err := ParseTemplates(
		"{{ .AutomationNamespace }}/{{ .AutomationName }}: {{ len .Changes }} image(s)\n\n{{ range .Changes }}{{ .Image }} {{ .NewTag }}\n{{ end }}",
		"image-updates/{{ .ChangeID }}")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tmpl.Message(d)
	if want := "apps/web: 2 image(s)\n\napp 2\ndb \n"; err != nil || msg != want {
		t.Errorf("message %q, %v; want %q", msg, err, want)
	}
	branch, err := tmpl.Branch(d)
	if err != nil || branch != "image-updates/"+d.ChangeID || !tmpl.PerUpdateBranch() {
		t.Errorf("branch %q, %v", branch, err)
	}

	plain, err := ParseTemplates("", "updates")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := plain.Branch(d); b != "updates" || plain.PerUpdateBranch() {
		t.Errorf("plain branch %q", b)
	}
	msg, _ = plain.Message(d)
	want := "Update images\n\n- apps/app: app:1 → app:2 (a.yaml:3)\n- apps/db: sha256:aa → sha256:bb (b.yaml:9)\n"
	if msg != want {
		t.Errorf("default message %q, want %q", msg, want)
	}
}

func TestTemplatesRefused(t *testing.T) {
	tests := []struct {
		name, message, branch, want string
	}{
		{"message does not parse", "{{ .Changes ", "", "spec.git.commit.messageTemplate"},
		{"message field misspelt", "{{ .ChangeId }}", "", "spec.git.commit.messageTemplate"},
		{"message empty", "{{ if false }}x{{ end }}", "", "empty message"},
		{"branch does not parse", "", "updates/{{ .ChangeID", "spec.git.push.branch"},
		{"branch field misspelt", "", "updates/{{ .Id }}", "spec.git.push.branch"},
		{"branch not a branch name", "", "updates/{{ .ChangeID }}..x", "not a valid branch name"},
		{"branch empty", "", "{{ if false }}x{{ end }}", "not a valid branch name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTemplates(tt.message, tt.branch)
			if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want ErrTemplate with %q", err, tt.want)
			}
		})
	}
}

// TestChangeID: the same update has the same ID, whatever the order or
// the lines; a different update has another.
func TestChangeID(t *testing.T) {
	a := Change{Policy: "apps/app", Old: "app:1", New: "app:2", File: "a.yaml", Line: 3}
	b := Change{Policy: "apps/db", Old: "db:1", New: "db:2", File: "b.yaml", Line: 9}
	moved := a
	moved.Line = 30
	newer := a
	newer.New = "app:3"
	id := ChangeID([]Change{a, b})
	if len(id) != 10 {
		t.Errorf("id %q: want 10 hex digits", id)
	}
	if ChangeID([]Change{b, moved}) != id {
		t.Error("order or line numbers changed the ID")
	}
	if ChangeID([]Change{newer, b}) == id || ChangeID([]Change{a}) == id {
		t.Error("a different update has the same ID")
	}
}
