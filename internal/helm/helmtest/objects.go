package helmtest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Objects parses a multi-document YAML stream (what `helm template` or
// `cruise build` prints) into objects, in stream order. Documents that
// hold nothing but comments are skipped; one that is not an object with
// apiVersion and kind fails the test, naming its place in the stream.
func Objects(t testing.TB, stream []byte) []*unstructured.Unstructured {
	t.Helper()
	docs, err := documents(stream)
	if err != nil {
		t.Fatal(err)
	}
	objs := make([]*unstructured.Unstructured, 0, len(docs))
	for _, d := range docs {
		objs = append(objs, d.obj)
	}
	return objs
}

// Sources maps each object's Key to the file its `# Source: ` comment
// names (e.g. "podinfo/templates/deployment.yaml"), for tests that check
// cruise prints the same comments as Helm. Objects without one map to "".
func Sources(t testing.TB, stream []byte) map[string]string {
	t.Helper()
	docs, err := documents(stream)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(docs))
	for _, d := range docs {
		m[Key(d.obj)] = d.source
	}
	return m
}

type document struct {
	obj    *unstructured.Unstructured
	source string
}

func documents(stream []byte) ([]document, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var docs []document
	// Helm prints a CRD file that starts with "---" as a document holding
	// only its "# Source:" comment, then the object: the comment carries
	// over to the next object that has none of its own.
	pending := ""
	for n := 1; ; n++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, &docError{n: n, err: err}
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, &docError{n: n, err: err, text: raw}
		}
		if len(m) == 0 {
			if src := sourceComment(raw); src != "" {
				pending = src
			}
			continue // only comments, or empty
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return nil, &docError{n: n, err: errors.New("not an object: no apiVersion or kind"), text: raw}
		}
		src := sourceComment(raw)
		if src == "" {
			src = pending
		}
		pending = ""
		docs = append(docs, document{obj: u, source: src})
	}
}

// sourceComment is the file a `# Source: FILE` line of doc names.
func sourceComment(doc []byte) string {
	for _, line := range strings.Split(string(doc), "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "# Source: "); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

type docError struct {
	n    int
	err  error
	text []byte
}

func (e *docError) Error() string {
	msg := "document " + strconv.Itoa(e.n) + " of the stream: " + e.err.Error()
	if len(e.text) > 0 {
		text := string(e.text)
		if len(text) > 300 {
			text = text[:300] + "…"
		}
		msg += "\n" + text
	}
	return msg
}

// Key identifies an object the way EqualObjects matches them:
// "apiVersion kind namespace/name" (namespace empty for cluster-scoped
// objects and for objects that leave it to the release namespace).
func Key(u *unstructured.Unstructured) string {
	return u.GetAPIVersion() + " " + u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}
