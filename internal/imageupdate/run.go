package imageupdate

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cruisegitops/cruise/internal/gitwrite"
	"github.com/cruisegitops/cruise/internal/image"
)

// ErrMarker: a file with setter markers that cannot be updated (YAML that
// does not parse, a malformed marker, a digest marker of a policy without
// a digest, a marked value that is not a one-line scalar).
var ErrMarker = errors.New("cannot update setter markers")

// Policy is an ImagePolicy of the automation's namespace, as markers see
// it.
type Policy struct {
	// Selected: the automation's policySelector selects it. A marker
	// naming a policy that is not selected is reported like one naming no
	// policy at all.
	Selected bool
	// Latest is the policy's choice; nil while it has none, and then its
	// markers are left as they are.
	Latest *image.Ref
}

// Run is one automation run over the files of one branch head. Its Edit
// is a gitwrite.Edit; Outcome tells what the last call of Edit found.
type Run struct {
	// Automation and Namespace name the ImageUpdateAutomation. Markers
	// may name only policies of its namespace.
	Automation, Namespace string
	// Policies are the namespace's ImagePolicies, by name.
	Policies map[string]Policy
	// Observed is what each policy ("namespace/name") chose at the last
	// successful run: what the automation wrote, or found already written.
	Observed map[string]image.Ref
	// Held are the holds in force before this run, by policy.
	Held map[string]Hold
	// DetectHolds turns on new holds (see doc.go). It must be off when
	// each update goes to a branch of its own: the checked-out branch
	// then never holds what the automation wrote.
	DetectHolds bool
	// ReleaseHolds drops every hold and writes what the policies choose.
	ReleaseHolds bool
	Templates    *Templates
	// Now stamps new holds.
	Now time.Time
	// Dry computes the outcome and the message but changes no file: for
	// naming a per-update push branch before the real run.
	Dry bool

	last *Outcome
}

// Hold is a version the automation does not write again until the
// policy chooses another one or the hold is lifted.
type Hold struct {
	// Policy is "namespace/name".
	Policy string
	// Ref is the held choice.
	Ref image.Ref
	// Commit is the branch head at which the change was noticed; set by
	// the caller once the run's head is known.
	Commit string
	Since  time.Time
	// Found is a value the files hold instead of Ref's (for messages;
	// empty for holds carried over when every marker agrees).
	Found string
}

// Released is a hold dropped because the policy chose something else.
type Released struct {
	Hold Hold
	Now  image.Ref
}

// Missing is a marker naming a policy the automation may not use.
type Missing struct {
	Marker image.Marker
	File   string
	Line   int
	// Why, in a few words.
	Why string
}

func (m Missing) String() string {
	return fmt.Sprintf("marker %s at %s:%d: %s", m.Marker.Key(), m.File, m.Line, m.Why)
}

// Outcome is what one run over a head found and did.
type Outcome struct {
	Changes []Change
	Missing []Missing
	// Seen maps each policy a marker named, with a choice, to it.
	Seen map[string]image.Ref
	// Holds are those in force after the run, by policy; NewHolds those
	// it started.
	Holds    map[string]Hold
	NewHolds []Hold
	Released []Released
	// Waiting are policies markers name that have chosen nothing yet.
	Waiting []string
	// Files with markers, and Markers in them.
	Files, Markers int
	// Message is the commit message ("" when nothing changed).
	Message string

	differs map[string]bool // held policies with a marker not at the held value
}

// Data is the template data of the outcome.
func (o *Outcome) Data(automation, namespace string) Data {
	return Data{AutomationName: automation, AutomationNamespace: namespace, Changes: o.Changes, ChangeID: ChangeID(o.Changes)}
}

// HoldList is Holds sorted by policy.
func (o *Outcome) HoldList() []Hold {
	out := make([]Hold, 0, len(o.Holds))
	for _, h := range o.Holds {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Policy < out[j].Policy })
	return out
}

// Outcome is what the last call of Edit found; nil before the first.
func (r *Run) Outcome() *Outcome { return r.last }

// Edit rewrites the setter markers of the .yaml and .yml files offered
// and returns the changed files and the commit message.
func (r *Run) Edit(files []gitwrite.File) (map[string][]byte, string, error) {
	in := make([]file, len(files))
	for i, f := range files {
		in[i] = file{path: f.Path, read: f.Read}
	}
	return r.edit(in)
}

// file is what edit needs of a gitwrite.File.
type file struct {
	path string
	read func() ([]byte, error)
}

func (r *Run) edit(files []file) (map[string][]byte, string, error) {
	out := &Outcome{Seen: map[string]image.Ref{}, Holds: map[string]Hold{}, differs: map[string]bool{}}
	if !r.ReleaseHolds {
		for k, h := range r.Held {
			h.Found = ""
			out.Holds[k] = h
		}
	}
	changed := map[string][]byte{}
	for _, f := range files {
		if ext := path.Ext(f.path); ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := f.read()
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", f.path, err)
		}
		// Most files carry no marker: they are not even parsed (Helm
		// templates under the path, say, are not YAML).
		if !bytes.Contains(data, []byte("$imagepolicy")) {
			continue
		}
		res, err := image.Update(data, r.lookup(out))
		if err != nil {
			return nil, "", fmt.Errorf("%w: %s: %v", ErrMarker, f.path, err)
		}
		out.Files++
		out.Markers += res.Markers
		for _, line := range sortedLines(res.Missing) {
			m := res.Missing[line]
			out.Missing = append(out.Missing, Missing{Marker: m, File: f.path, Line: line, Why: r.whyMissing(m)})
		}
		for _, c := range res.Changes {
			out.Changes = append(out.Changes, r.change(f.path, c))
		}
		if len(res.Changes) > 0 {
			changed[f.path] = res.Data
		}
	}
	r.settleHolds(out)
	r.last = out
	if len(out.Changes) == 0 {
		return nil, "", nil
	}
	msg, err := r.Templates.Message(out.Data(r.Automation, r.Namespace))
	if err != nil {
		return nil, "", err
	}
	out.Message = msg
	if r.Dry {
		return nil, msg, nil
	}
	return changed, msg, nil
}

// lookup decides each marked value; see doc.go for the rules of holds.
func (r *Run) lookup(out *Outcome) image.Lookup {
	return func(m image.Marker, current string) (image.Ref, image.Decision) {
		p, ok := r.Policies[m.Policy]
		if m.Namespace != r.Namespace || !ok || !p.Selected {
			return image.Ref{}, image.Missing
		}
		key := r.Namespace + "/" + m.Policy
		if p.Latest == nil {
			if !slices.Contains(out.Waiting, key) {
				out.Waiting = append(out.Waiting, key)
			}
			return image.Ref{}, image.Keep
		}
		latest := *p.Latest
		out.Seen[key] = latest
		if h, held := out.Holds[key]; held {
			if h.Ref != latest {
				delete(out.Holds, key)
				out.Released = append(out.Released, Released{Hold: h, Now: latest})
				return latest, image.Write
			}
			if v, err := m.Value(latest); err == nil && v != current {
				out.differs[key] = true
				if h.Found == "" {
					h.Found = current
					out.Holds[key] = h
				}
			}
			return image.Ref{}, image.Keep
		}
		if r.DetectHolds && !r.ReleaseHolds {
			if last, ok := r.Observed[key]; ok && last == latest {
				if wrote, err := m.Value(last); err == nil && wrote != current {
					h := Hold{Policy: key, Ref: latest, Since: r.Now, Found: current}
					out.Holds[key] = h
					out.NewHolds = append(out.NewHolds, h)
					out.differs[key] = true
					return image.Ref{}, image.Keep
				}
			}
		}
		return latest, image.Write
	}
}

// settleHolds drops holds with nothing left to hold: every marker of the
// policy is at the held value again (someone undid the revert), no marker
// names the policy any more, or the policy is gone. A policy that has
// chosen nothing for now keeps its hold.
func (r *Run) settleHolds(out *Outcome) {
	for k := range out.Holds {
		_, seen := out.Seen[k]
		switch {
		case seen && !out.differs[k]:
			delete(out.Holds, k)
		case !seen && !slices.Contains(out.Waiting, k):
			delete(out.Holds, k)
		}
	}
}

func (r *Run) whyMissing(m image.Marker) string {
	if m.Namespace != r.Namespace {
		return fmt.Sprintf("an automation uses only ImagePolicies of its own namespace (%s)", r.Namespace)
	}
	if p, ok := r.Policies[m.Policy]; ok && !p.Selected {
		return fmt.Sprintf("ImagePolicy %s/%s is not selected by spec.policySelector", m.Namespace, m.Policy)
	}
	return fmt.Sprintf("no ImagePolicy %s/%s", m.Namespace, m.Policy)
}

func (r *Run) change(file string, c image.Change) Change {
	latest := r.Policies[c.Marker.Policy].Latest
	ch := Change{
		Policy: c.Marker.Namespace + "/" + c.Marker.Policy, Image: latest.Name,
		Old: c.Old, New: c.New, File: file, Line: c.Line,
	}
	switch c.Marker.Field {
	case "":
		ch.OldTag, ch.NewTag = tagOf(c.Old), latest.Tag
	case "tag":
		ch.OldTag, ch.NewTag = c.Old, c.New
	}
	return ch
}

// tagOf is the tag of "name:tag[@digest]", "" if none.
func tagOf(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[i+1:]
	}
	return ""
}

func sortedLines(m map[int]image.Marker) []int {
	lines := make([]int, 0, len(m))
	for l := range m {
		lines = append(lines, l)
	}
	slices.Sort(lines)
	return lines
}

// Describe says what a hold keeps and how it ends, for the Ready message
// and events.
func (h Hold) Describe(automation string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "held %s at %s", h.Policy, h.Ref.String())
	switch {
	case h.Found != "" && h.Commit != "":
		fmt.Fprintf(&b, ": Git has %s instead (reverted or changed by hand; noticed at %s)", h.Found, shortSHA(h.Commit))
	case h.Found != "":
		fmt.Fprintf(&b, ": Git has %s instead (reverted or changed by hand)", h.Found)
	case h.Commit != "":
		fmt.Fprintf(&b, ": reverted or changed by hand in Git (noticed at %s)", shortSHA(h.Commit))
	}
	fmt.Fprintf(&b, "; a newer tag or `cruise resume image update %s` releases it", automation)
	return b.String()
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}
