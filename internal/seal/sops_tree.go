package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The tree a SOPS file is read into, shaped as sops's own: the MAC covers
// the values in the order sops walks them, and which values are encrypted
// may depend on the comments before them, so comments are items too.
type (
	// sopsMap is a mapping in file order. An item whose key is a
	// sopsComment is a comment line; its value is nil.
	sopsMap []sopsItem
	// sopsItem is one key and its value: a sopsMap, a []any (whose
	// elements may be sopsComments), or a scalar (string, int, float64,
	// bool, time.Time, nil).
	sopsItem struct {
		key   any
		value any
	}
	// sopsComment is one comment line without its "#".
	sopsComment struct {
		text   string
		inline bool
	}
)

// treeBudget bounds the tree a file expands to.
type treeBudget struct {
	nodes int
}

func (b *treeBudget) spend(depth int) error {
	if depth > maxSOPSDepth {
		return fmt.Errorf("%w: nested deeper than %d levels", ErrSOPSTooLarge, maxSOPSDepth)
	}
	b.nodes++
	if b.nodes > maxSOPSNodes {
		return fmt.Errorf("%w: more than %d keys, values and comments (YAML aliases included)", ErrSOPSTooLarge, maxSOPSNodes)
	}
	return nil
}

// loadSOPSYAML reads every document of a YAML stream as sops's YAML store
// does: comments become items, aliases are expanded, a document must be a
// mapping (or empty).
func loadSOPSYAML(data []byte) ([]sopsMap, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	l := &yamlLoader{}
	var docs []sopsMap
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The input is the encrypted file: its text is ciphertext or
			// already public, so the parser's message may be shown.
			return nil, fmt.Errorf("%w: yaml: %v", ErrSOPSMalformed, err)
		}
		m, err := l.appendNode(&n, nil, false, 0)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		docs = append(docs, m)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrSOPSMalformed)
	}
	return docs, nil
}

type yamlLoader struct {
	budget treeBudget
}

func commentItems(m sopsMap, comment string, inline bool) sopsMap {
	for _, line := range strings.Split(comment, "\n") {
		if line != "" {
			m = append(m, sopsItem{key: sopsComment{text: line[1:], inline: inline}})
		}
	}
	return m
}

func commentElems(l []any, comment string, inline bool) []any {
	for _, line := range strings.Split(comment, "\n") {
		if line != "" {
			l = append(l, sopsComment{text: line[1:], inline: inline})
		}
	}
	return l
}

// appendNode appends the mapping (or document) n to m, with the comments
// around it unless the caller handled them.
func (l *yamlLoader) appendNode(n *yaml.Node, m sopsMap, commentsHandled bool, depth int) (sopsMap, error) {
	if err := l.budget.spend(depth); err != nil {
		return nil, err
	}
	if m == nil {
		m = sopsMap{}
	}
	if !commentsHandled {
		m = commentItems(m, n.HeadComment, false)
		m = commentItems(m, n.LineComment, false)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			var err error
			if m, err = l.appendNode(c, m, false, depth+1); err != nil {
				return nil, err
			}
		}
	case yaml.SequenceNode:
		return nil, fmt.Errorf("%w: a document that is a list", ErrSOPSMalformed)
	case yaml.MappingNode:
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			m = commentItems(m, k.HeadComment, false)
			m = commentItems(m, k.LineComment, false)
			scalar := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode
			if scalar {
				m = commentItems(m, v.HeadComment, false)
				m = commentItems(m, v.LineComment, true)
			}
			key, err := l.key(k, depth)
			if err != nil {
				return nil, err
			}
			if seen[key] {
				return nil, fmt.Errorf("%w: line %d: key %q appears twice", ErrSOPSMalformed, k.Line, key)
			}
			seen[key] = true
			value, err := l.value(v, scalar, depth+1)
			if err != nil {
				return nil, err
			}
			m = append(m, sopsItem{key: key, value: value})
			if scalar {
				m = commentItems(m, v.FootComment, false)
			}
			m = commentItems(m, k.FootComment, false)
		}
	case yaml.ScalarNode:
		// "---" with nothing after it.
		if n.ShortTag() == "!!null" {
			return m, nil
		}
		return nil, fmt.Errorf("%w: line %d: a document that is a single value", ErrSOPSMalformed, n.Line)
	case yaml.AliasNode:
		var err error
		if m, err = l.appendNode(n.Alias, m, false, depth+1); err != nil {
			return nil, err
		}
	}
	if !commentsHandled {
		m = commentItems(m, n.FootComment, false)
	}
	return m, nil
}

// key decodes a mapping key, which must be a string (sops refuses others
// when it walks the tree).
func (l *yamlLoader) key(k *yaml.Node, depth int) (string, error) {
	if err := l.budget.spend(depth); err != nil {
		return "", err
	}
	for i := 0; k.Kind == yaml.AliasNode && i < maxSOPSDepth; i++ {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		// Decoding a mapping or a list used as a key would expand it
		// outside the budget; sops refuses such keys anyway.
		return "", fmt.Errorf("%w: line %d: a key that is not a string", ErrSOPSMalformed, k.Line)
	}
	var v any
	if err := k.Decode(&v); err != nil {
		return "", fmt.Errorf("%w: line %d: key: %v", ErrSOPSMalformed, k.Line, err)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: line %d: a key of type %T; sops keys are strings", ErrSOPSMalformed, k.Line, v)
	}
	return s, nil
}

func (l *yamlLoader) value(n *yaml.Node, commentsHandled bool, depth int) (any, error) {
	if err := l.budget.spend(depth); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.SequenceNode:
		var out []any
		if !commentsHandled {
			out = commentElems(out, n.HeadComment, false)
			out = commentElems(out, n.LineComment, false)
		}
		for _, e := range n.Content {
			out = commentElems(out, e.HeadComment, false)
			out = commentElems(out, e.LineComment, true)
			v, err := l.value(e, true, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			out = commentElems(out, e.FootComment, false)
		}
		if !commentsHandled {
			out = commentElems(out, n.FootComment, false)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	case yaml.MappingNode:
		return l.appendNode(n, nil, commentsHandled, depth)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrSOPSMalformed, n.Line, err)
		}
		return scalarValue(v, n.Line)
	case yaml.AliasNode:
		return l.value(n.Alias, false, depth+1)
	}
	return nil, nil
}

// scalarValue keeps the scalar types sops walks and refuses the others
// (integers beyond int64, for instance), as sops does.
func scalarValue(v any, line int) (any, error) {
	switch v := v.(type) {
	case nil, string, int, float64, bool, time.Time:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return nil, fmt.Errorf("%w: line %d: a value of type %T, which sops cannot encrypt", ErrSOPSMalformed, line, v)
}

// loadSOPSJSON reads one JSON object as sops's JSON store does: numbers
// are ints when they fit in 64 bits, floats otherwise.
func loadSOPSJSON(data []byte) ([]sopsMap, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: json: %v", ErrSOPSMalformed, err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: json: the top level is not an object", ErrSOPSMalformed)
	}
	l := &jsonLoader{dec: dec}
	m, err := l.object(1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: json: more after the top-level object", ErrSOPSMalformed)
	}
	return []sopsMap{m}, nil
}

type jsonLoader struct {
	dec    *json.Decoder
	budget treeBudget
}

func (l *jsonLoader) syntax(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: json: %v", ErrSOPSMalformed, err)
}

// object reads the members of an object whose "{" was read.
func (l *jsonLoader) object(depth int) (sopsMap, error) {
	m := sopsMap{}
	seen := map[string]bool{}
	for {
		if err := l.budget.spend(depth); err != nil {
			return nil, err
		}
		t, err := l.dec.Token()
		if err != nil {
			return nil, l.syntax(err)
		}
		if d, ok := t.(json.Delim); ok && d == '}' {
			return m, nil
		}
		key, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("%w: json: an object key that is not a string", ErrSOPSMalformed)
		}
		if seen[key] {
			return nil, fmt.Errorf("%w: json: key %q appears twice", ErrSOPSMalformed, key)
		}
		seen[key] = true
		v, err := l.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m = append(m, sopsItem{key: key, value: v})
	}
}

// value reads one value.
func (l *jsonLoader) value(depth int) (any, error) {
	if err := l.budget.spend(depth); err != nil {
		return nil, err
	}
	t, err := l.dec.Token()
	if err != nil {
		return nil, l.syntax(err)
	}
	return l.fromToken(t, depth)
}

func (l *jsonLoader) fromToken(t json.Token, depth int) (any, error) {
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			return l.object(depth)
		case '[':
			out := []any{}
			for {
				if err := l.budget.spend(depth); err != nil {
					return nil, err
				}
				tok, err := l.dec.Token()
				if err != nil {
					return nil, l.syntax(err)
				}
				if d, ok := tok.(json.Delim); ok && d == ']' {
					return out, nil
				}
				v, err := l.fromToken(tok, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		}
		return nil, fmt.Errorf("%w: json: unexpected %q", ErrSOPSMalformed, t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i), nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("%w: json: number %s: %v", ErrSOPSMalformed, t, err)
		}
		return f, nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("%w: json: unexpected token %T", ErrSOPSMalformed, t)
}
