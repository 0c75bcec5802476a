package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Ref is the image a policy chose.
type Ref struct {
	Name   string
	Tag    string
	Digest string
}

// String is name:tag, with @digest when pinned: what a full marker writes.
func (r Ref) String() string {
	s := r.Name + ":" + r.Tag
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Marker is a setter comment, as Flux writes them:
//
//	image: app:1.2.3 # {"$imagepolicy": "ns:policy"}
//	newTag: 1.2.3    # {"$imagepolicy": "ns:policy:tag"}
//
// Field is "" (the whole reference), "tag", "name" or "digest".
type Marker struct {
	Namespace string
	Policy    string
	Field     string
}

// Key is "namespace:policy".
func (m Marker) Key() string { return m.Namespace + ":" + m.Policy }

var markerComment = regexp.MustCompile(`^#\s*(\{.*\})\s*$`)

// parseMarker reads a line comment; ok is false for any other comment.
func parseMarker(comment string) (m Marker, ok bool, err error) {
	sub := markerComment.FindStringSubmatch(strings.TrimSpace(comment))
	if sub == nil || !strings.Contains(sub[1], "$imagepolicy") {
		return Marker{}, false, nil
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(sub[1]), &body); err != nil {
		return Marker{}, false, fmt.Errorf("setter marker %s: %v", sub[1], err)
	}
	v, found := body["$imagepolicy"]
	if !found {
		return Marker{}, false, nil
	}
	parts := strings.Split(v, ":")
	switch {
	case len(parts) == 2:
	case len(parts) == 3 && (parts[2] == "tag" || parts[2] == "name" || parts[2] == "digest"):
		m.Field = parts[2]
	default:
		return Marker{}, false, fmt.Errorf("setter marker %q: want \"namespace:policy\" with an optional \":tag\", \":name\" or \":digest\"", v)
	}
	if parts[0] == "" || parts[1] == "" {
		return Marker{}, false, fmt.Errorf("setter marker %q: empty namespace or policy", v)
	}
	m.Namespace, m.Policy = parts[0], parts[1]
	return m, true, nil
}

// Value is what a marker of this field writes for r.
func (m Marker) Value(r Ref) (string, error) {
	switch m.Field {
	case "":
		return r.String(), nil
	case "tag":
		return r.Tag, nil
	case "name":
		return r.Name, nil
	default:
		if r.Digest == "" {
			return "", fmt.Errorf("marker %s:digest, but policy %s has no digest (set spec.digestReflectionPolicy)", m.Key(), m.Key())
		}
		return r.Digest, nil
	}
}

// Change is one marked value rewritten.
type Change struct {
	Line   int
	Marker Marker
	Old    string
	New    string
}

// Decision is what Lookup says to do with one marked value.
type Decision int

const (
	// Write the policy's choice.
	Write Decision = iota
	// Keep the value as it is (a held version, a policy not ready yet).
	Keep
	// Missing: no such policy, or one the automation may not use; the
	// marker is reported.
	Missing
)

// Lookup decides a marked value: current is the value in the file now.
type Lookup func(m Marker, current string) (Ref, Decision)

// UpdateResult is what Update did to one file.
type UpdateResult struct {
	// Data is the new content; the input itself when nothing changed.
	Data    []byte
	Changes []Change
	// Missing are markers whose policy Lookup did not know, by line.
	Missing map[int]Marker
	// Markers counts every marker found.
	Markers int
}

// Update rewrites the scalars that setter markers mark in a YAML stream.
// Only those scalars' bytes change: the comment, the quoting, the key
// order and every other byte of the file stay. The YAML is parsed (so a
// marker inside a block scalar or a comment line is not a marker), and
// each marked scalar is then edited in the source where the parser found
// it.
func Update(data []byte, lookup Lookup) (UpdateResult, error) {
	res := UpdateResult{Data: data, Missing: map[int]Marker{}}
	type edit struct {
		line, col int
		node      *yaml.Node
		marker    Marker
	}
	var edits []edit
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("parse YAML: %w", err)
		}
		var walkErr error
		walk(&doc, func(n *yaml.Node) {
			if walkErr != nil || n.Kind != yaml.ScalarNode || n.LineComment == "" {
				return
			}
			m, ok, err := parseMarker(n.LineComment)
			if err != nil {
				walkErr = fmt.Errorf("line %d: %w", n.Line, err)
				return
			}
			if ok {
				edits = append(edits, edit{line: n.Line, col: n.Column, node: n, marker: m})
			}
		})
		if walkErr != nil {
			return res, walkErr
		}
	}
	res.Markers = len(edits)
	if len(edits) == 0 {
		return res, nil
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	changed := false
	for _, e := range edits {
		r, d := lookup(e.marker, e.node.Value)
		switch d {
		case Missing:
			res.Missing[e.line] = e.marker
			continue
		case Keep:
			continue
		}
		want, err := e.marker.Value(r)
		if err != nil {
			return res, fmt.Errorf("line %d: %w", e.line, err)
		}
		if want == e.node.Value {
			continue
		}
		if e.line < 1 || e.line > len(lines) {
			return res, fmt.Errorf("line %d: marked value not found", e.line)
		}
		line := lines[e.line-1]
		start := byteOffset(line, e.col-1)
		end, err := scalarEnd(line, start, e.node)
		if err != nil {
			return res, fmt.Errorf("line %d: %w", e.line, err)
		}
		repl := quote(want, e.node)
		nl := make([]byte, 0, len(line)+len(repl))
		nl = append(nl, line[:start]...)
		nl = append(nl, repl...)
		nl = append(nl, line[end:]...)
		lines[e.line-1] = nl
		res.Changes = append(res.Changes, Change{Line: e.line, Marker: e.marker, Old: e.node.Value, New: want})
		changed = true
	}
	if changed {
		res.Data = bytes.Join(lines, nil)
	}
	return res, nil
}

func walk(n *yaml.Node, f func(*yaml.Node)) {
	f(n)
	for _, c := range n.Content {
		walk(c, f)
	}
}

// byteOffset turns the parser's column (in characters) into a byte index.
func byteOffset(line []byte, col int) int {
	off := 0
	for i := 0; i < col && off < len(line); i++ {
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	return off
}

// scalarEnd finds where the marked scalar's source text ends on its line,
// and checks it is what the parser read: a value spread over several lines
// or written with escapes is refused rather than half rewritten.
func scalarEnd(line []byte, start int, n *yaml.Node) (int, error) {
	rest := line[start:]
	switch n.Style {
	case 0:
		if !bytes.HasPrefix(rest, []byte(n.Value)) {
			return 0, errors.New("the marked value is not a one-line plain scalar")
		}
		return start + len(n.Value), nil
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := byte('"')
		if n.Style == yaml.SingleQuotedStyle {
			q = '\''
		}
		want := append(append([]byte{q}, n.Value...), q)
		if !bytes.HasPrefix(rest, want) {
			return 0, errors.New("the marked value is not a one-line quoted scalar without escapes")
		}
		return start + len(want), nil
	}
	return 0, errors.New("the marked value is a block scalar; mark a one-line value")
}

// quote writes v in the scalar's style. A plain string whose new value
// would read as a number or a boolean (a tag "1.10") is double-quoted, so
// the file keeps meaning a string.
func quote(v string, n *yaml.Node) string {
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		return `"` + v + `"`
	case yaml.SingleQuotedStyle:
		return "'" + v + "'"
	}
	if n.ShortTag() == "!!str" {
		var probe yaml.Node
		if yaml.Unmarshal([]byte(v), &probe) != nil || len(probe.Content) != 1 || probe.Content[0].ShortTag() != "!!str" {
			return `"` + v + `"`
		}
	}
	return v
}
