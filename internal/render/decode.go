package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// decodeManifests turns the content of one file into objects, in document
// order. JSON files get a JSON decoder: YAML accepts most JSON, but not
// every JSON file (tabs), and JSON syntax errors read better as such.
func decodeManifests(source string, data []byte, isJSON bool) ([]Object, error) {
	if isJSON {
		return decodeJSON(source, data)
	}
	return decodeYAML(source, data)
}

// Decode decodes a multi-document YAML stream that came from source (a
// file name for errors and Object.Source), as a manifest file is read:
// empty documents are skipped, Lists flattened, and an error names source
// and the line.
func Decode(source string, data []byte) ([]Object, error) {
	return decodeYAML(source, data)
}

// decodeYAML decodes a multi-document YAML stream. The decoder runs over the
// whole file rather than over pre-split documents so that line numbers in
// errors are lines of the file.
func decodeYAML(source string, data []byte) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []Object
	for index := 1; ; index++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, yamlError(source, err)
		}
		if len(doc.Content) == 0 {
			continue // empty or comment-only document
		}
		node := doc.Content[0]
		if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
			continue // "---" followed by nothing but "~" or "null"
		}
		var value any
		if err := node.Decode(&value); err != nil {
			return nil, yamlError(source, err)
		}
		found, err := toObjects(source, index, node, value)
		if err != nil {
			return nil, err
		}
		objs = append(objs, found...)
	}
}

// decodeJSON decodes one JSON value, or several in a row.
func decodeJSON(source string, data []byte) ([]Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var objs []Object
	for index := 1; ; index++ {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			line := 0
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line = lineAt(data, se.Offset)
			}
			return nil, &Error{File: source, Line: line, Kind: ErrInvalidManifest, Err: fmt.Errorf("json: %w", err)}
		}
		line := lineAt(data, start+int64(len(data[start:])-len(bytes.TrimLeft(data[start:], " \t\r\n"))))
		var value any
		if err := utiljson.Unmarshal(raw, &value); err != nil {
			return nil, &Error{File: source, Line: line, Kind: ErrInvalidManifest, Err: fmt.Errorf("json: %w", err)}
		}
		if value == nil {
			continue
		}
		found, err := toObjects(source, index, &yaml.Node{Line: line}, value)
		if err != nil {
			return nil, err
		}
		objs = append(objs, found...)
	}
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// toObjects checks that value, the document at node, is a Kubernetes
// object and returns it, or the items of a List.
func toObjects(source string, index int, node *yaml.Node, value any) ([]Object, error) {
	m, err := jsonCompatible(value)
	if err != nil {
		return nil, &Error{File: source, Line: node.Line, Kind: ErrInvalidManifest,
			Err: fmt.Errorf("document %d: %w", index, err)}
	}
	u, err := checkObject(m)
	if err != nil {
		return nil, &Error{File: source, Line: node.Line, Kind: ErrInvalidManifest,
			Err: fmt.Errorf("document %d: %w", index, err)}
	}
	if !isList(u) {
		if err := checkName(u); err != nil {
			return nil, &Error{File: source, Line: node.Line, Kind: ErrInvalidManifest,
				Err: fmt.Errorf("document %d: %s %w", index, u.GetKind(), err)}
		}
		return []Object{{Unstructured: u, Source: source}}, nil
	}
	items, _ := u.Object["items"].([]any)
	itemNodes := listItemNodes(node)
	var objs []Object
	for i, item := range items {
		itemNode := node
		if i < len(itemNodes) {
			itemNode = itemNodes[i]
		}
		found, err := toObjects(source, index, itemNode, item)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && i >= len(itemNodes) {
				e.Err = fmt.Errorf("item %d: %w", i, e.Err)
			}
			return nil, err
		}
		objs = append(objs, found...)
	}
	return objs, nil
}

// jsonCompatible converts a decoded YAML value into the types unstructured
// objects are made of (map[string]any, []any, string, int64, float64, bool),
// which is what the API machinery and deep copies expect.
func jsonCompatible(value any) (map[string]any, error) {
	if _, ok := value.(map[string]any); !ok {
		return nil, fmt.Errorf("is a %s, not an object", describe(value))
	}
	b, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("cannot be represented as JSON: %w", err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func describe(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	case map[any]any:
		return "mapping with non-string keys"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// checkObject requires apiVersion and kind, the two fields every
// Kubernetes object has and nothing else reliably does.
func checkObject(m map[string]any) (*unstructured.Unstructured, error) {
	var missing []string
	for _, field := range []string{"apiVersion", "kind"} {
		if s, ok := m[field].(string); !ok || s == "" {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %s: not a Kubernetes object", strings.Join(missing, " and "))
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// checkName requires metadata.name: apply, pruning and duplicate detection
// all key on it, and generateName cannot be applied declaratively.
func checkName(u *unstructured.Unstructured) error {
	if u.GetName() == "" {
		return errors.New("has no metadata.name")
	}
	return nil
}

// isList reports whether u is a list to flatten: kind List, or any kind
// ending in "List" with a top-level items array, as kubectl does.
func isList(u *unstructured.Unstructured) bool {
	if !strings.HasSuffix(u.GetKind(), "List") {
		return false
	}
	_, ok := u.Object["items"].([]any)
	return ok
}

// listItemNodes returns the nodes of the items sequence of a List mapping,
// to give each item its own line in errors.
func listItemNodes(node *yaml.Node) []*yaml.Node {
	if node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == "items" && node.Content[i+1].Kind == yaml.SequenceNode {
			return node.Content[i+1].Content
		}
	}
	return nil
}

// yamlLine matches the position the YAML library puts in its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parserProblems are the messages of the YAML library's parser (as
// opposed to its scanner); see yamlError.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlError moves the line number out of a YAML library message into the
// "file:line:" position, giving e.g.
// "render: a.yaml:12: yaml: mapping values are not allowed in this context".
func yamlError(source string, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
		if n := len(te.Errors) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more)", n)
		}
	}
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if parserProblems[strings.TrimPrefix(msg, "yaml: ")] {
		// The YAML library reports scanner errors with 1-based lines but
		// parser errors with its internal 0-based ones.
		line++
	}
	msg = "yaml: " + strings.TrimPrefix(msg, "yaml: ")
	return &Error{File: source, Line: line, Kind: ErrInvalidManifest, Err: &cleanedError{msg: msg, err: err}}
}
