package imageupdate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"github.com/go-git/go-git/v5/plumbing"
)

// ErrTemplate: a commit message or push branch template that does not
// parse, or fails when executed.
var ErrTemplate = errors.New("invalid template")

// Change is one marked value rewritten, as templates see it.
type Change struct {
	// Policy is "namespace/name".
	Policy string
	// Image is the policy's image name.
	Image string
	// OldTag and NewTag are the tag before and after: set for markers of a
	// whole reference and of a tag, empty for name and digest markers.
	OldTag, NewTag string
	// Old and New are the values as written in the file: a whole
	// reference, a tag, a name or a digest, as the marker says.
	Old, New string
	// File is repo-relative; Line counts from 1.
	File string
	Line int
}

// Data is what the commit message and push branch templates see.
type Data struct {
	AutomationName      string
	AutomationNamespace string
	// Changes in file order, then line order.
	Changes []Change
	// ChangeID is a short hash of the changes (which policies set which
	// values in which files; not the line numbers), the same whenever the
	// same update is made: a push branch named after it is one branch per
	// update.
	ChangeID string
}

// DefaultMessage is the commit message template when none is given.
const DefaultMessage = `Update images

{{ range .Changes -}}
- {{ .Policy }}: {{ if .OldTag }}{{ .Image }}:{{ .OldTag }} → {{ .Image }}:{{ .NewTag }}{{ else }}{{ .Old }} → {{ .New }}{{ end }} ({{ .File }}:{{ .Line }})
{{ end -}}
`

// Templates are an automation's commit message and push branch templates,
// parsed.
type Templates struct {
	message *template.Template
	// branch is nil when the push branch is a plain name.
	branch *template.Template
	// plainBranch is the push branch when it is not a template.
	plainBranch string
}

// ParseTemplates parses the commit message template (DefaultMessage when
// empty) and the push branch, which is a template when it holds "{{".
// Both are tried on a sample update, so that a misspelt field is refused
// before any Git work rather than at the first real change.
func ParseTemplates(message, branch string) (*Templates, error) {
	if message == "" {
		message = DefaultMessage
	}
	t := &Templates{}
	var err error
	if t.message, err = template.New("messageTemplate").Option("missingkey=error").Parse(message); err != nil {
		return nil, fmt.Errorf("%w: spec.git.commit.messageTemplate: %v", ErrTemplate, err)
	}
	if strings.Contains(branch, "{{") {
		if t.branch, err = template.New("push branch").Option("missingkey=error").Parse(branch); err != nil {
			return nil, fmt.Errorf("%w: spec.git.push.branch: %v", ErrTemplate, err)
		}
	} else {
		t.plainBranch = branch
	}
	sample := sampleData()
	if _, err := t.Message(sample); err != nil {
		return nil, fmt.Errorf("%w (tried on a sample update)", err)
	}
	if _, err := t.Branch(sample); err != nil {
		return nil, fmt.Errorf("%w (tried on a sample update)", err)
	}
	return t, nil
}

// PerUpdateBranch reports whether the push branch is a template: a
// branch per update, named only once the changes are known.
func (t *Templates) PerUpdateBranch() bool { return t.branch != nil }

// Message executes the commit message template.
func (t *Templates) Message(d Data) (string, error) {
	var b strings.Builder
	if err := t.message.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%w: spec.git.commit.messageTemplate: %v", ErrTemplate, err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("%w: spec.git.commit.messageTemplate gives an empty message", ErrTemplate)
	}
	return b.String(), nil
}

// Branch is the push branch for d: the plain name (empty when none was
// given), or the template's result, which must be a valid branch name.
func (t *Templates) Branch(d Data) (string, error) {
	if t.branch == nil {
		return t.plainBranch, nil
	}
	var b strings.Builder
	if err := t.branch.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%w: spec.git.push.branch: %v", ErrTemplate, err)
	}
	name := strings.TrimSpace(b.String())
	if name == "" || plumbing.ReferenceName("refs/heads/"+name).Validate() != nil {
		return "", fmt.Errorf("%w: spec.git.push.branch gives %q, not a valid branch name", ErrTemplate, name)
	}
	return name, nil
}

func sampleData() Data {
	d := Data{
		AutomationName: "sample", AutomationNamespace: "sample",
		Changes: []Change{{
			Policy: "sample/app", Image: "registry.example/app", OldTag: "1.0.0", NewTag: "1.0.1",
			Old: "registry.example/app:1.0.0", New: "registry.example/app:1.0.1", File: "app/deploy.yaml", Line: 1,
		}},
	}
	d.ChangeID = ChangeID(d.Changes)
	return d
}

// ChangeID hashes what changes say: which policy set which value, from
// what, in which file. Line numbers are left out, so that an edit
// elsewhere in a file does not make the same update a new one.
func ChangeID(changes []Change) string {
	lines := make([]string, 0, len(changes))
	for _, c := range changes {
		lines = append(lines, strings.Join([]string{c.File, c.Policy, c.Old, c.New}, "\x00"))
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])[:10]
}
