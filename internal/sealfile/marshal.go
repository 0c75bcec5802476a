package sealfile

import (
	"bytes"
	"sort"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// Marshal writes ss in cruise's layout: apiVersion, kind, metadata (name,
// namespace, and labels and annotations when it has any), then spec with
// encryptedData, template and recipients; every map sorted by key, every
// value on one line.
func Marshal(ss *v1alpha1.SealedSecret) ([]byte, error) {
	meta := mapping("name", str(ss.Name), "namespace", str(ss.Namespace))
	if len(ss.Labels) > 0 {
		meta.Content = append(meta.Content, str("labels"), stringMap(ss.Labels))
	}
	if len(ss.Annotations) > 0 {
		meta.Content = append(meta.Content, str("annotations"), stringMap(ss.Annotations))
	}
	spec := mapping("encryptedData", stringMap(ss.Spec.EncryptedData))
	if t := templateNode(ss.Spec.Template); t != nil {
		spec.Content = append(spec.Content, str("template"), t)
	}
	if len(ss.Spec.Recipients) > 0 {
		spec.Content = append(spec.Content, str("recipients"), stringList(ss.Spec.Recipients))
	}
	root := mapping(
		"apiVersion", str(v1alpha1.GroupVersion.String()),
		"kind", str(v1alpha1.SealedSecretKind),
		"metadata", meta,
		"spec", spec,
	)
	return encode(root)
}

func templateNode(t v1alpha1.SecretTemplate) *yaml.Node {
	n := mapping()
	if t.Type != "" {
		n.Content = append(n.Content, str("type"), str(t.Type))
	}
	md := mapping()
	if len(t.Metadata.Annotations) > 0 {
		md.Content = append(md.Content, str("annotations"), stringMap(t.Metadata.Annotations))
	}
	if len(t.Metadata.Labels) > 0 {
		md.Content = append(md.Content, str("labels"), stringMap(t.Metadata.Labels))
	}
	if len(md.Content) > 0 {
		n.Content = append(n.Content, str("metadata"), md)
	}
	if len(n.Content) == 0 {
		return nil
	}
	return n
}

// encode writes nodes as YAML documents with two-space indentation.
func encode(nodes ...*yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, n := range nodes {
		if err := enc.Encode(n); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mapping builds a block mapping of alternating keys and value nodes.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, str(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func stringMap(m map[string]string) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, k := range keys {
		n.Content = append(n.Content, str(k), str(m[k]))
	}
	return n
}

func stringList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// str is a string scalar, plain when every YAML reader takes it for that
// string, double-quoted otherwise: YAML 1.1 readers, kubectl's among them,
// take plain yes, on or 0777 for a boolean or a number, which yaml.v3
// (YAML 1.2) would write plain.
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if !readsAsString(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func readsAsString(s string) bool {
	var v any
	if err := sigsyaml.Unmarshal([]byte(s), &v); err != nil {
		return false
	}
	got, ok := v.(string)
	return ok && got == s
}
