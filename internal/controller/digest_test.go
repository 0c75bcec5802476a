package controller

import (
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cruisegitops/cruise/internal/render"
)

func TestRenderDigest(t *testing.T) {
	const cmA = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  value: one\n"
	const cmB = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  value: one\n"
	digest := func(files map[string]string) string {
		t.Helper()
		fsys := fstest.MapFS{}
		for name, data := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(data)}
		}
		res, err := render.RenderFS(t.Context(), fsys, "app", render.Options{Path: "app"})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		d, err := renderDigest(res.Objects, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := digest(map[string]string{"a.yaml": cmA, "b.yaml": cmB})
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("digest %q is not sha256:<hex>", base)
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		same  bool
	}{
		{"same files", map[string]string{"a.yaml": cmA, "b.yaml": cmB}, true},
		{"comments and formatting only", map[string]string{"a.yaml": "# the a map\n" + cmA, "b.yaml": "---\n" + cmB + "\n"}, true},
		{"a file that renders nothing", map[string]string{"a.yaml": cmA, "b.yaml": cmB, "README.md": "hello"}, true},
		{"keys in another order", map[string]string{"a.yaml": "kind: ConfigMap\napiVersion: v1\ndata:\n  value: one\nmetadata:\n  name: a\n", "b.yaml": cmB}, true},
		{"a value changed", map[string]string{"a.yaml": strings.Replace(cmA, "one", "two", 1), "b.yaml": cmB}, false},
		{"an object removed", map[string]string{"a.yaml": cmA}, false},
		{"the apply order changed", map[string]string{"c.yaml": cmA, "b.yaml": cmB}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := digest(tc.files) == base; got != tc.same {
				t.Errorf("same digest = %v, want %v", got, tc.same)
			}
		})
	}
}

// TestRenderDigestOfSensitiveObjects: a decrypted object enters the digest
// only through an HMAC, so the digest depends on the key and a reader of
// the status cannot test guesses of the value against it.
func TestRenderDigestOfSensitiveObjects(t *testing.T) {
	obj := func(pin string, sensitive bool) []render.Object {
		o := render.Object{Sensitive: sensitive, Unstructured: &unstructured.Unstructured{}}
		o.Object = map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"},
			"stringData": map[string]any{"pin": pin}}
		return []render.Object{o}
	}
	d := func(objs []render.Object, key string) string {
		t.Helper()
		s, err := renderDigest(objs, []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	plain := d(obj("1234", false), "k1")
	if d(obj("1234", true), "k1") == plain {
		t.Fatal("a sensitive object is hashed like a plain one")
	}
	if first, again := d(obj("1234", true), "k1"), d(obj("1234", true), "k1"); first != again {
		t.Fatal("the digest of a sensitive object is not stable under one key")
	}
	if d(obj("1234", true), "k1") == d(obj("1234", true), "k2") {
		t.Fatal("the digest of a sensitive object does not depend on the key")
	}
	if d(obj("1234", true), "k1") == d(obj("1235", true), "k1") {
		t.Fatal("a changed sensitive value leaves the digest as it was")
	}
}
