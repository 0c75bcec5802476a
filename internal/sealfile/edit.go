package sealfile

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// File is a YAML file whose cruise SealedSecrets are edited in place.
type File struct {
	src  []byte
	docs []*yaml.Node
	sss  []*Doc
}

// Doc is one SealedSecret document of a File.
type Doc struct {
	Name, Namespace string

	root, spec, data *yaml.Node
	// orig holds each encryptedData value as parsed, to tell changed
	// values from new keys.
	orig map[*yaml.Node]string
	// recipients is the spec.recipients entry as parsed (key, value);
	// nil when absent.
	recipientsKey, recipientsVal *yaml.Node
	// recipientsChanged: spec.recipients was set or dropped.
	recipientsChanged bool
	changed           bool
}

// ParseFile parses a YAML file and finds its cruise SealedSecrets: the
// documents of kind SealedSecret in API group cruise.dev (Bitnami's
// SealedSecrets, of group bitnami.com, are not ours). A SealedSecret
// without a name, a namespace or a spec.encryptedData mapping of strings
// is an error.
func ParseFile(data []byte) (*File, error) {
	docs, err := decodeDocuments(data)
	if err != nil {
		return nil, err
	}
	// Every document must decode (no duplicate keys, no runaway aliases),
	// so that Bytes can compare the result with the intent.
	if _, err := decodeAll(docs); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	f := &File{src: data, docs: docs}
	for _, d := range docs {
		root := d.Content[0]
		if !isSealedSecret(root) {
			continue
		}
		ss, err := newDoc(root)
		if err != nil {
			return nil, err
		}
		f.sss = append(f.sss, ss)
	}
	return f, nil
}

func isSealedSecret(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode || scalarAt(root, "kind") != v1alpha1.SealedSecretKind {
		return false
	}
	group, version, ok := strings.Cut(scalarAt(root, "apiVersion"), "/")
	return ok && version != "" && group == v1alpha1.GroupVersion.Group
}

func newDoc(root *yaml.Node) (*Doc, error) {
	md := lookup(root, "metadata")
	d := &Doc{root: root, Name: scalarAt(md, "name"), Namespace: scalarAt(md, "namespace"), orig: map[*yaml.Node]string{}}
	ref := "SealedSecret " + d.Namespace + "/" + d.Name
	if d.Name == "" || d.Namespace == "" {
		return nil, fmt.Errorf("SealedSecret %q (line %d) has no metadata.name or metadata.namespace", d.Name, root.Line)
	}
	d.spec = lookup(root, "spec")
	if d.spec == nil || d.spec.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s (line %d) has no spec mapping", ref, root.Line)
	}
	d.data = lookup(d.spec, "encryptedData")
	if d.data == nil || d.data.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s (line %d) has no spec.encryptedData mapping", ref, root.Line)
	}
	for i := 0; i+1 < len(d.data.Content); i += 2 {
		k, v := d.data.Content[i], d.data.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
			return nil, fmt.Errorf("%s: spec.encryptedData (line %d) must map keys to strings", ref, k.Line)
		}
		d.orig[v] = v.Value
	}
	for i := 0; i+1 < len(d.spec.Content); i += 2 {
		if d.spec.Content[i].Value == "recipients" {
			d.recipientsKey, d.recipientsVal = d.spec.Content[i], d.spec.Content[i+1]
		}
	}
	return d, nil
}

// SealedSecrets are the file's cruise SealedSecrets, in file order.
func (f *File) SealedSecrets() []*Doc { return f.sss }

// EncryptedData returns spec.encryptedData.
func (d *Doc) EncryptedData() map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(d.data.Content); i += 2 {
		out[d.data.Content[i].Value] = d.data.Content[i+1].Value
	}
	return out
}

// Recipients returns spec.recipients sorted; ok is false when the
// document records none (they are unknown).
func (d *Doc) Recipients() (rs []string, ok bool) {
	v := lookup(d.spec, "recipients")
	if v == nil || v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return nil, false
	}
	for _, item := range v.Content {
		rs = append(rs, item.Value)
	}
	sort.Strings(rs)
	return rs, true
}

// SetValue sets spec.encryptedData.key. A new key goes where it sorts
// among the existing ones (at the end when they are not sorted).
func (d *Doc) SetValue(key, value string) {
	d.changed = true
	c := d.data.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value == key {
			v := c[i+1]
			v.Value, v.Style, v.Tag = value, 0, "!!str"
			if !readsAsString(value) {
				v.Style = yaml.DoubleQuotedStyle
			}
			return
		}
	}
	at := len(c)
	if keysSorted(c) {
		at = sort.Search(len(c)/2, func(i int) bool { return c[2*i].Value > key }) * 2
	}
	entry := []*yaml.Node{str(key), str(value)}
	d.data.Content = append(c[:at:at], append(entry, c[at:]...)...)
}

func keysSorted(c []*yaml.Node) bool {
	for i := 2; i+1 < len(c); i += 2 {
		if c[i-2].Value > c[i].Value {
			return false
		}
	}
	return true
}

// SetRecipients records rs (sorted) as spec.recipients.
func (d *Doc) SetRecipients(rs []string) {
	d.changed, d.recipientsChanged = true, true
	sorted := append([]string(nil), rs...)
	sort.Strings(sorted)
	c := d.spec.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value == "recipients" {
			c[i+1] = stringList(sorted)
			return
		}
	}
	d.spec.Content = append(c, str("recipients"), stringList(sorted))
}

// DropRecipients removes spec.recipients: the recipients become unknown,
// so that `cruise seal --reencrypt` seals the document again.
func (d *Doc) DropRecipients() {
	if lookup(d.spec, "recipients") == nil {
		return
	}
	d.changed, d.recipientsChanged = true, true
	d.removeRecipients()
}

func (d *Doc) removeRecipients() {
	c := d.spec.Content
	out := c[:0:0]
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value != "recipients" {
			out = append(out, c[i], c[i+1])
		}
	}
	d.spec.Content = out
}

// Changed reports whether any document was edited.
func (f *File) Changed() bool {
	for _, d := range f.sss {
		if d.changed {
			return true
		}
	}
	return false
}

// Bytes returns the edited file. Lines not edited keep their bytes; when
// the edits cannot be made line by line, the whole file is written in
// cruise's layout and reformatted is true (comments are kept, the
// formatting of every document is not).
func (f *File) Bytes() (out []byte, reformatted bool, err error) {
	if !f.Changed() {
		return f.src, false, nil
	}
	want, err := decodeAll(f.docs)
	if err != nil {
		return nil, false, err
	}
	if b, err := f.editLines(); err == nil {
		if got, err := decodeStream(b); err == nil && reflect.DeepEqual(got, want) {
			return b, false, nil
		}
	}
	b, err := encode(f.docs...)
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func decodeAll(docs []*yaml.Node) ([]any, error) {
	out := make([]any, 0, len(docs))
	for _, d := range docs {
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeStream(b []byte) ([]any, error) {
	docs, err := decodeDocuments(b)
	if err != nil {
		return nil, err
	}
	return decodeAll(docs)
}

// errLayout: the document's layout does not allow editing it line by
// line.
var errLayout = errors.New("layout not editable line by line")

// lineEdits are the edits of one file, by 1-based line number.
type lineEdits struct {
	replace map[int]string
	del     map[int]bool
	before  map[int][]string
	after   map[int][]string
}

func (f *File) editLines() ([]byte, error) {
	e := lineEdits{replace: map[int]string{}, del: map[int]bool{}, before: map[int][]string{}, after: map[int][]string{}}
	lines := strings.SplitAfter(string(f.src), "\n")
	eol := "\n"
	if len(lines) > 0 && strings.HasSuffix(lines[0], "\r\n") {
		eol = "\r\n"
	}
	for _, d := range f.sss {
		if d.changed {
			if err := d.edits(lines, eol, &e); err != nil {
				return nil, err
			}
		}
	}
	var b bytes.Buffer
	for i, l := range lines {
		n := i + 1
		for _, s := range e.before[n] {
			b.WriteString(s)
		}
		switch {
		case e.del[n]:
		case e.replace[n] != "":
			b.WriteString(e.replace[n])
		default:
			b.WriteString(l)
		}
		if len(e.after[n]) > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
			b.WriteString(eol)
		}
		for _, s := range e.after[n] {
			b.WriteString(s)
		}
	}
	return b.Bytes(), nil
}

// edits records the line edits that turn the parsed document into d.
func (d *Doc) edits(lines []string, eol string, e *lineEdits) error {
	if d.data.Style&yaml.FlowStyle != 0 || d.spec.Style&yaml.FlowStyle != 0 {
		return errLayout
	}
	indent := -1
	c := d.data.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Line > 0 {
			indent = c[i].Column - 1
			break
		}
	}
	if indent < 0 {
		return errLayout
	}
	for i := 0; i+1 < len(c); i += 2 {
		k, v := c[i], c[i+1]
		if k.Line == 0 {
			text, err := entryLines(k, v, indent, eol)
			if err != nil {
				return err
			}
			// Before the next parsed key, else after the previous one.
			if next := nextParsed(c, i+2); next != nil {
				e.before[next.Line] = append(e.before[next.Line], text...)
			} else if prev := prevParsed(c, i-2); prev >= 0 {
				last := lastLine(c[prev], c[prev+1])
				e.after[last] = append(e.after[last], text...)
			} else {
				return errLayout
			}
			continue
		}
		if v.Value == d.orig[v] {
			continue
		}
		line, err := replaceScalar(lines, v, eol)
		if err != nil {
			return err
		}
		e.replace[v.Line] = line
	}
	if d.recipientsChanged {
		return d.recipientEdits(eol, e)
	}
	return nil
}

// recipientEdits deletes the parsed spec.recipients lines and writes the
// new entry, if any, in their place or after spec's last entry.
func (d *Doc) recipientEdits(eol string, e *lineEdits) error {
	at := 0
	if d.recipientsKey != nil {
		if d.recipientsVal.Kind != yaml.SequenceNode && d.recipientsVal.Kind != yaml.ScalarNode {
			return errLayout
		}
		for n := d.recipientsKey.Line; n <= lastLine(d.recipientsKey, d.recipientsVal); n++ {
			e.del[n] = true
		}
		at = d.recipientsKey.Line
	}
	v := lookup(d.spec, "recipients")
	if v == nil {
		return nil
	}
	var first *yaml.Node
	sc := d.spec.Content
	for i := 0; i+1 < len(sc); i += 2 {
		if sc[i].Line > 0 {
			first = sc[i]
			break
		}
	}
	if first == nil {
		return errLayout
	}
	text, err := entryLines(str("recipients"), v, first.Column-1, eol)
	if err != nil {
		return err
	}
	if at > 0 {
		e.before[at] = append(e.before[at], text...)
		return nil
	}
	prev := prevParsed(sc, len(sc)-2)
	if prev < 0 {
		return errLayout
	}
	last := lastLine(sc[prev], sc[prev+1])
	e.after[last] = append(e.after[last], text...)
	return nil
}

// entryLines renders one mapping entry as lines indented by indent.
func entryLines(k, v *yaml.Node, indent int, eol string) ([]string, error) {
	b, err := encode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}})
	if err != nil {
		return nil, err
	}
	pad := strings.Repeat(" ", indent)
	var out []string
	for _, l := range strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n") {
		out = append(out, pad+strings.TrimSuffix(l, "\n")+eol)
	}
	return out, nil
}

// replaceScalar rewrites the line of scalar v from its column on with its
// new value, keeping a comment at the end of the line.
func replaceScalar(lines []string, v *yaml.Node, eol string) (string, error) {
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || v.Line < 1 || v.Line > len(lines) {
		return "", errLayout
	}
	runes := []rune(lines[v.Line-1])
	if v.Column < 1 || v.Column > len(runes) {
		return "", errLayout
	}
	b, err := encode(&yaml.Node{Kind: yaml.ScalarNode, Tag: v.Tag, Style: v.Style, Value: v.Value})
	if err != nil {
		return "", err
	}
	text := strings.TrimSuffix(string(b), "\n")
	if strings.Contains(text, "\n") {
		return "", errLayout
	}
	line := string(runes[:v.Column-1]) + text
	if v.LineComment != "" {
		line += " " + v.LineComment
	}
	return line + eol, nil
}

func nextParsed(c []*yaml.Node, from int) *yaml.Node {
	for i := from; i+1 < len(c); i += 2 {
		if c[i].Line > 0 {
			return c[i]
		}
	}
	return nil
}

func prevParsed(c []*yaml.Node, from int) int {
	for i := from; i >= 0; i -= 2 {
		if c[i].Line > 0 {
			return i
		}
	}
	return -1
}

// lastLine is the last line a parsed node of the subtrees touches. A
// block scalar may run further; the check in Bytes catches that.
func lastLine(nodes ...*yaml.Node) int {
	last := 0
	for _, n := range nodes {
		last = max(last, n.Line)
		for _, c := range n.Content {
			last = max(last, lastLine(c))
		}
	}
	return last
}
