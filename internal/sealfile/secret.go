package sealfile

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// MaxManifestSize bounds a Secret manifest: a Secret holds at most 1 MiB
// of data, which base64 and YAML make larger.
const MaxManifestSize = 4 << 20

// lastApplied is the annotation kubectl apply leaves on objects: on a
// Secret it holds the values in clear, so it never goes into a template.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Secret is the Secret manifest being sealed.
type Secret struct {
	Name, Namespace string
	// Type is the Secret's type as given; empty when the manifest has none.
	Type        string
	Labels      map[string]string
	Annotations map[string]string
	// Data holds data and stringData merged; stringData wins, as in the
	// API server.
	Data map[string][]byte
	// Dropped lists annotations left out of Annotations because they
	// carry the values in clear.
	Dropped []string
}

// Keys are the data keys, sorted.
func (s Secret) Keys() []string {
	keys := make([]string, 0, len(s.Data))
	for k := range s.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// secretManifest is a v1 Secret as YAML or JSON has it. data stays a
// string map so that a value that is not base64 can be named by its key.
type secretManifest struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Type       string            `json:"type,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
	StringData map[string]string `json:"stringData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
}

// ReadSecret reads one v1 Secret manifest from r, at most MaxManifestSize
// bytes.
func ReadSecret(r io.Reader) (Secret, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return Secret{}, err
	}
	if len(data) > MaxManifestSize {
		return Secret{}, fmt.Errorf("input over %d bytes: a Secret holds at most 1 MiB", MaxManifestSize)
	}
	return ParseSecret(data)
}

// ParseSecret parses exactly one v1 Secret, YAML or JSON, with data
// and/or stringData. Anything else (a List, several documents, another
// kind or version, unknown fields, a value that is not base64, a missing
// name or namespace, an invalid key, no data at all) is an error that
// names the culprit and never a value.
func ParseSecret(data []byte) (Secret, error) {
	docs, err := decodeDocuments(data)
	if err != nil {
		return Secret{}, err
	}
	switch len(docs) {
	case 0:
		return Secret{}, errors.New("the input holds no document: want one v1 Secret")
	case 1:
	default:
		return Secret{}, fmt.Errorf("the input holds %d documents: want exactly one v1 Secret", len(docs))
	}
	root := docs[0].Content[0]
	if root.Kind != yaml.MappingNode {
		return Secret{}, errors.New("the input is not a YAML or JSON object: want one v1 Secret")
	}
	apiVersion, kind := scalarAt(root, "apiVersion"), scalarAt(root, "kind")
	switch {
	case kind == "List" || strings.HasSuffix(kind, "List"):
		return Secret{}, fmt.Errorf("the input is a %s: want exactly one v1 Secret", kind)
	case kind != "Secret":
		return Secret{}, fmt.Errorf("the input is kind %q: want a v1 Secret", kind)
	case apiVersion != "v1":
		return Secret{}, fmt.Errorf("the input is a Secret of apiVersion %q: want v1", apiVersion)
	}
	raw, err := yaml.Marshal(root)
	if err != nil {
		return Secret{}, fmt.Errorf("Secret: %w", err)
	}
	j, err := sigsyaml.YAMLToJSONStrict(raw)
	if err != nil {
		return Secret{}, fmt.Errorf("Secret: %w", err)
	}
	// Field names match case-sensitively, as in the API server: Go's
	// encoding/json would take stringdata for stringData.
	var m secretManifest
	strict, err := sigsjson.UnmarshalStrict(j, &m)
	if err != nil {
		return Secret{}, fmt.Errorf("Secret: %w", err)
	}
	if len(strict) > 0 {
		return Secret{}, fmt.Errorf("Secret: %w", errors.Join(strict...))
	}
	return m.secret()
}

func (m secretManifest) secret() (Secret, error) {
	s := Secret{Name: m.Metadata.Name, Namespace: m.Metadata.Namespace, Type: m.Type, Data: map[string][]byte{}}
	if s.Name == "" {
		return Secret{}, errors.New("the Secret has no metadata.name: the name is sealed into every value")
	}
	if s.Namespace == "" {
		return Secret{}, fmt.Errorf("Secret %s has no metadata.namespace: the namespace is sealed into every value", s.Name)
	}
	ref := s.Namespace + "/" + s.Name
	if errs := validation.IsDNS1123Subdomain(s.Name); len(errs) > 0 {
		return Secret{}, fmt.Errorf("Secret %s: invalid name: %s", ref, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(s.Namespace); len(errs) > 0 {
		return Secret{}, fmt.Errorf("Secret %s: invalid namespace: %s", ref, strings.Join(errs, "; "))
	}
	for k, v := range m.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return Secret{}, fmt.Errorf("Secret %s: data key %q is not standard base64", ref, k)
		}
		s.Data[k] = b
	}
	for k, v := range m.StringData {
		s.Data[k] = []byte(v)
	}
	if len(s.Data) == 0 {
		return Secret{}, fmt.Errorf("Secret %s has no data or stringData: nothing to seal", ref)
	}
	for k := range s.Data {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return Secret{}, fmt.Errorf("Secret %s: invalid key %q: %s", ref, k, strings.Join(errs, "; "))
		}
	}
	s.Labels = m.Metadata.Labels
	for k, v := range m.Metadata.Annotations {
		if k == lastApplied {
			s.Dropped = append(s.Dropped, k)
			continue
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
	return s, nil
}

// decodeDocuments parses a YAML stream into its non-empty documents.
func decodeDocuments(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("not YAML or JSON: %w", err)
		}
		if isEmptyDocument(&n) {
			continue
		}
		docs = append(docs, &n)
	}
}

func isEmptyDocument(n *yaml.Node) bool {
	if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
		return true
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.Tag == "!!null"
}

// lookup returns the value of key in mapping m, nil when absent.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalarAt is the scalar value of key in m, "" when absent or not a
// scalar.
func scalarAt(m *yaml.Node, key string) string {
	v := lookup(m, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}
