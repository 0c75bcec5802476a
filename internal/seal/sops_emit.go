package seal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// emitSOPSYAML writes the decrypted documents as a YAML stream, comments
// placed as sops places them. Documents left without a key (a "---" that
// held only the sops metadata) are dropped: they are no manifests.
func emitSOPSYAML(docs []sopsMap) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, doc := range docs {
		if !hasKeys(doc) {
			continue
		}
		mapping := &yaml.Node{Kind: yaml.MappingNode}
		if err := yamlMapping(doc, mapping); err != nil {
			return nil, err
		}
		if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{mapping}}); err != nil {
			return nil, fmt.Errorf("write yaml: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write yaml: %w", err)
	}
	return b.Bytes(), nil
}

func hasKeys(m sopsMap) bool {
	for _, it := range m {
		if _, ok := it.key.(string); ok {
			return true
		}
	}
	return false
}

// commentText joins comment lines back into yaml.v3's comment form.
func commentText(lines []string) string {
	return "#" + strings.Join(lines, "\n#")
}

func addHead(n *yaml.Node, lines []string) {
	if len(lines) == 0 {
		return
	}
	if n.HeadComment != "" {
		n.HeadComment = commentText(lines) + "\n" + n.HeadComment
	} else {
		n.HeadComment = commentText(lines)
	}
}

// appendComment adds lines after the comment c already holds (a line or
// foot comment).
func appendComment(c *string, lines []string) {
	if len(lines) == 0 {
		return
	}
	if *c != "" {
		*c += "\n"
	}
	*c += commentText(lines)
}

// yamlMapping fills mapping from m: comment lines go above the next key,
// inline ones after the next value, trailing ones below the last key.
func yamlMapping(m sopsMap, mapping *yaml.Node) error {
	var head, inline []string
	first := true
	for _, it := range m {
		if c, ok := it.key.(sopsComment); ok {
			if c.inline {
				inline = append(inline, c.text)
			} else {
				head = append(head, c.text)
			}
			continue
		}
		if first {
			addHead(mapping, head)
			head, first = nil, false
		}
		k := &yaml.Node{}
		if err := k.Encode(it.key); err != nil {
			return fmt.Errorf("write yaml: %w", err)
		}
		addHead(k, head)
		v, err := yamlValue(it.value)
		if err != nil {
			return err
		}
		appendComment(&v.LineComment, inline)
		head, inline = nil, nil
		mapping.Content = append(mapping.Content, k, v)
	}
	head = append(head, inline...)
	if first {
		addHead(mapping, head)
	} else {
		appendComment(&mapping.Content[len(mapping.Content)-2].FootComment, head)
	}
	return nil
}

func yamlSequence(l []any, seq *yaml.Node) error {
	var head, inline []string
	first := true
	for _, e := range l {
		if c, ok := e.(sopsComment); ok {
			if c.inline {
				inline = append(inline, c.text)
			} else {
				head = append(head, c.text)
			}
			continue
		}
		if first {
			addHead(seq, head)
			head, first = nil, false
		}
		v, err := yamlValue(e)
		if err != nil {
			return err
		}
		addHead(v, head)
		appendComment(&v.LineComment, inline)
		head, inline = nil, nil
		seq.Content = append(seq.Content, v)
	}
	head = append(head, inline...)
	if first {
		addHead(seq, head)
	} else {
		appendComment(&seq.Content[len(seq.Content)-1].FootComment, head)
	}
	return nil
}

// yamlValue makes the node for a value with its type restored.
func yamlValue(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case sopsMap:
		n := &yaml.Node{Kind: yaml.MappingNode}
		return n, yamlMapping(v, n)
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		return n, yamlSequence(v, n)
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case float64:
		// yaml.v3 writes 1.0 as "1", which reads back as an integer.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: yamlFloat(v)}, nil
	case string, int, bool, time.Time:
		n := &yaml.Node{}
		if err := n.Encode(v); err != nil {
			return nil, fmt.Errorf("write yaml: %w", err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("write yaml: a value of type %s", typeName(v))
}

func yamlFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// emitSOPSJSON writes the decrypted object as indented JSON, keys in file
// order, comments dropped (JSON has none).
func emitSOPSJSON(m sopsMap) ([]byte, error) {
	var b bytes.Buffer
	if err := jsonValue(&b, m); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("write json: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func jsonValue(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case sopsMap:
		b.WriteByte('{')
		n := 0
		for _, it := range v {
			k, ok := it.key.(string)
			if !ok {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			kb, err := json.Marshal(k)
			if err != nil {
				return fmt.Errorf("write json: %w", err)
			}
			b.Write(kb)
			b.WriteByte(':')
			if err := jsonValue(b, it.value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case []any:
		b.WriteByte('[')
		n := 0
		for _, e := range v {
			if _, ok := e.(sopsComment); ok {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if err := jsonValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("%w: a number JSON cannot hold (infinity or NaN)", ErrSOPSMalformed)
		}
	}
	vb, err := json.Marshal(v)
	if err != nil {
		// json.Marshal's messages quote no value for the types here.
		return fmt.Errorf("write json: %w", err)
	}
	b.Write(vb)
	return nil
}
