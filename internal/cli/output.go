package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/source"
)

// outputFormat is the value of -o/--output: text for people, json for
// machines.
type outputFormat string

const (
	outputText outputFormat = "text"
	outputJSON outputFormat = "json"
)

func (f *outputFormat) String() string { return string(*f) }

func (f *outputFormat) Set(s string) error {
	switch outputFormat(s) {
	case outputText, outputJSON:
		*f = outputFormat(s)
		return nil
	}
	return fmt.Errorf("unknown output format %q (want text or json)", s)
}

func (f *outputFormat) Type() string { return "format" }

// fail makes err the command's outcome with exit code code; Run prints it
// as one "Error: ..." line.
func fail(code int, err error) error {
	return &ExitError{Code: code, Err: oneLineError{err}}
}

// oneLineError folds the message of err (API server and kustomize messages
// may span lines) onto one line, keeping the chain for errors.Is.
type oneLineError struct{ err error }

func (e oneLineError) Error() string { return strings.Join(strings.Fields(e.err.Error()), " ") }
func (e oneLineError) Unwrap() error { return e.err }

// flagError turns cobra's flag and argument errors into exit code 2, so
// that a typo is never mistaken for drift (exit 1).
func flagError(_ *cobra.Command, err error) error { return fail(2, err) }

// noArgs refuses positional arguments with exit code 2.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fail(2, fmt.Errorf("unexpected argument %q (the source goes in --source)", args[0]))
	}
	return nil
}

// describeSource names what was deployed in summaries: the short Git
// revision, or the directory.
func describeSource(revision, src string) string {
	if revision == "" {
		return redactURL(src)
	}
	return "revision " + shortRevision(revision)
}

// shortRevision shortens the SHA of "main@sha1:<40 hex>" to 12 digits;
// anything else is shown whole.
func shortRevision(rev string) string {
	// A chart from a repository: "<version>@sha256:<64 hex>".
	if i := strings.LastIndex(rev, "@sha256:"); i >= 0 && len(rev) == i+len("@sha256:")+64 {
		return rev[:i+len("@sha256:")+12]
	}
	r, ok := source.ParseRevision(rev)
	if !ok {
		return rev
	}
	r.Commit = r.Commit[:12]
	return r.String()
}

// changeLine is the text form of one change: "Deployment/ns/web created".
func changeLine(c apply.Change, dryRun bool) string {
	s := c.Ref.String() + " " + string(c.Action)
	if c.Message != "" {
		s += " (" + c.Message + ")"
	}
	if dryRun {
		s += " (dry run)"
	}
	return s
}

// healthLine is the text form of one object's health:
// "Deployment/ns/web InProgress: Replicas: 0/1".
func healthLine(h apply.Health) string {
	s := h.Ref.String() + " " + string(h.Status)
	if h.Message != "" && h.Status != apply.Current {
		s += ": " + h.Message
	}
	return s
}

// countActions summarizes actions as "3 created, 1 configured, 5
// unchanged, 1 pruned"; the four main actions always appear, the rare
// ones only when they happened.
func countActions(actions []apply.Action, names map[apply.Action]string) string {
	n := map[apply.Action]int{}
	for _, a := range actions {
		n[a]++
	}
	var parts []string
	for _, a := range []apply.Action{apply.Created, apply.Configured, apply.Recreated, apply.Unchanged, apply.Pruned, apply.PruneSkipped} {
		rare := a == apply.Recreated || a == apply.PruneSkipped
		if rare && n[a] == 0 {
			continue
		}
		name := names[a]
		if name == "" {
			name = string(a)
		}
		parts = append(parts, fmt.Sprintf("%d %s", n[a], name))
	}
	return strings.Join(parts, ", ")
}

// writeJSON prints v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// errorText is the error of a JSON report: empty when there is none.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return oneLineError{err}.Error()
}

// terminalWidth reports whether w is a terminal and, if so, its width.
// Only an *os.File can be one; tests pass buffers.
func terminalWidth(w io.Writer) (int, bool) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width <= 0 {
		width = 80
	}
	return width, true
}

// liveStatus is the display `apply --wait` redraws on a terminal: the
// objects that are not Current yet, each with its status and message,
// below the lines printed so far. Calls come from one goroutine at a time
// (apply.ApplyOptions.Progress promises that).
type liveStatus struct {
	w     io.Writer
	width int
	// order lists the tracked objects by key, as first seen.
	order  []string
	health map[string]apply.Health
	// waiting turns on with the first health event; before it nothing is
	// drawn.
	waiting bool
	// drawn is the number of lines of the last drawing.
	drawn int
}

func newLiveStatus(w io.Writer, width int) *liveStatus {
	return &liveStatus{w: w, width: width, health: map[string]apply.Health{}}
}

// track adds an object that will be waited for.
func (l *liveStatus) track(ref apply.ObjRef) {
	if _, ok := l.health[ref.Key()]; !ok {
		l.order = append(l.order, ref.Key())
		l.health[ref.Key()] = apply.Health{Ref: ref, Status: apply.Unknown, Message: "waiting for the first status"}
	}
}

// update records a health change and redraws.
func (l *liveStatus) update(h apply.Health) {
	l.track(h.Ref)
	l.health[h.Ref.Key()] = h
	l.waiting = true
	l.redraw()
}

// println prints a line above the display.
func (l *liveStatus) println(s string) {
	l.clear()
	fmt.Fprintln(l.w, s)
	l.redraw()
}

// clear erases the display: cursor up over the lines drawn, then clear to
// the end of the screen.
func (l *liveStatus) clear() {
	if l.drawn > 0 {
		fmt.Fprintf(l.w, "\x1b[%dA\r\x1b[J", l.drawn)
		l.drawn = 0
	}
}

func (l *liveStatus) redraw() {
	l.clear()
	if !l.waiting {
		return
	}
	var pending []apply.Health
	for _, k := range l.order {
		if h := l.health[k]; h.Status != apply.Current {
			pending = append(pending, h)
		}
	}
	if len(pending) == 0 {
		return
	}
	lines := []string{fmt.Sprintf("Waiting for %d of %d objects to become Current:", len(pending), len(l.order))}
	for _, h := range pending {
		lines = append(lines, "  "+healthLine(h))
	}
	for _, s := range lines {
		// A wrapped line would throw the cursor-up count off.
		if r := []rune(s); l.width > 1 && len(r) >= l.width {
			s = string(r[:l.width-2]) + "…"
		}
		fmt.Fprintln(l.w, s)
	}
	l.drawn = len(lines)
}

// writeTable prints tab-separated cells aligned, without trailing spaces.
func writeTable(out io.Writer, header string, rows [][]string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush() // writes to a buffer
	_, err := io.WriteString(out, trimTrailingSpaces(buf.String()))
	return err
}

// trimTrailingSpaces removes the padding tabwriter leaves after the last
// non-empty cell of each line.
func trimTrailingSpaces(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	return b.String()
}
