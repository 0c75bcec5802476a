package render

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestDecodeManifestErrors pins the message of each way a manifest file can
// be wrong; the line must be the line in the file, not in the document.
func TestDecodeManifestErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    string
		wantErr string
	}{
		{
			name:    "syntax error in a later document",
			file:    "a.yaml",
			data:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# second\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: [unclosed\n",
			wantErr: "render: a.yaml:11: yaml: did not find expected ',' or ']'",
		},
		{
			// A context on the first line is not reported; the problem
			// is, at the end of the stream where the parser gave up.
			name:    "parser error with context on the first line",
			file:    "b.yaml",
			data:    "[a, b\n",
			wantErr: "render: b.yaml:2: yaml: did not find expected ',' or ']'",
		},
		{
			name: "block mapping broken in a later document",
			file: "c.yaml",
			data: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n - oops\n",
			// The YAML library names the start of the broken mapping
			// (the document's first line), not the offending line 10.
			wantErr: "render: c.yaml:6: yaml: did not find expected key",
		},
		{
			name:    "duplicate key",
			file:    "dup.yaml",
			data:    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
			wantErr: `render: dup.yaml:6: yaml: mapping key "name" already defined at line 5`,
		},
		{
			name:    "missing kind and apiVersion",
			file:    "values.yaml",
			data:    "replicaCount: 3\nimage: nginx\n",
			wantErr: "render: values.yaml:1: document 1: missing apiVersion and kind: not a Kubernetes object",
		},
		{
			name:    "document is a list",
			file:    "seq.yaml",
			data:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n- a\n- b\n",
			wantErr: "render: seq.yaml:6: document 2: is a list, not an object",
		},
		{
			name:    "document is a string",
			file:    "str.yaml",
			data:    "just words\n",
			wantErr: "render: str.yaml:1: document 1: is a string, not an object",
		},
		{
			name:    "no name",
			file:    "noname.yaml",
			data:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: x-\n",
			wantErr: "render: noname.yaml:1: document 1: ConfigMap has no metadata.name",
		},
		{
			name:    "list item without kind",
			file:    "list.yaml",
			data:    "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    metadata: {name: b}\n",
			wantErr: "render: list.yaml:7: document 1: missing kind",
		},
		{
			name:    "non-string keys",
			file:    "keys.yaml",
			data:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  1: one\n",
			wantErr: "render: keys.yaml:1: document 1: cannot be represented as JSON",
		},
		{
			name:    "json syntax error",
			file:    "bad.json",
			data:    "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\"name\": \"a\"},,\n}\n",
			wantErr: "render: bad.json:4: json: invalid character ','",
		},
		{
			name:    "json second value not an object",
			file:    "two.json",
			data:    "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n\n[1, 2]\n",
			wantErr: "render: two.json:3: document 2: is a list, not an object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeManifests(tt.file, []byte(tt.data), strings.HasSuffix(tt.file, ".json"))
			checkErr(t, err, ErrInvalidManifest, tt.wantErr)
		})
	}
}

func TestDecodeManifestsSkipsEmptyDocuments(t *testing.T) {
	data := "---\n# nothing\n---\n\n---\n~\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"
	objs, err := decodeManifests("a.yaml", []byte(data), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetName() != "a" || objs[0].Source != "a.yaml" {
		t.Fatalf("got %+v, want the one ConfigMap", objs)
	}
}

// TestDecodeManifestsNumbersAreInt64 guards the conversion to JSON types:
// unstructured's deep copy panics on a plain int.
func TestDecodeManifestsNumbersAreInt64(t *testing.T) {
	objs, err := decodeManifests("d.yaml", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 3\n  ratio: 0.5\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	replicas, _, err := unstructured.NestedInt64(objs[0].Object, "spec", "replicas")
	if err != nil || replicas != 3 {
		t.Errorf("replicas = %v, %v", replicas, err)
	}
	_ = objs[0].DeepCopy()
}

func TestWriteYAML(t *testing.T) {
	objs, err := decodeManifests("a.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, Object{Unstructured: objs[0].DeepCopy(), Source: "evil\nkind: Secret.yaml"})
	var out bytes.Buffer
	if err := WriteYAML(&out, objs); err != nil {
		t.Fatal(err)
	}
	want := "---\n# Source: a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n" +
		"---\n# Source: \"evil\\nkind: Secret.yaml\"\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestWriteYAMLReportsWriterError(t *testing.T) {
	objs, _ := decodeManifests("a.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"), false)
	err := WriteYAML(failingWriter{}, objs)
	if err == nil || !strings.HasPrefix(err.Error(), "render: ") || !errors.Is(err, errWrite) {
		t.Errorf("err = %v, want a render: error wrapping the writer's", err)
	}
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }
