package controller

import (
	"strings"
	"testing"
	"testing/fstest"

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
		d, err := renderDigest(res.Objects)
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
