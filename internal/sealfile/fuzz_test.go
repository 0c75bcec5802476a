package sealfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/cruisegitops/cruise/internal/sealfile"
)

// addSeeds adds every testdata file as a seed.
func addSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/*.*")
	more, _ := filepath.Glob("testdata/*/*/*.yaml")
	for _, p := range append(paths, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// ParseSecret never panics, and what it accepts has a name, a namespace
// and at least one value.
func FuzzParseSecret(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := sealfile.ParseSecret(data)
		if err == nil && (s.Name == "" || s.Namespace == "" || len(s.Data) == 0) {
			t.Fatalf("accepted %+v", s)
		}
	})
}

// Whatever the layout, an edited file means what the edits say: the
// first SealedSecret gains a key and loses its recipients, and every
// other document and field is as it was.
func FuzzFileEdit(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := sealfile.ParseFile(data)
		if err != nil || len(file.SealedSecrets()) == 0 {
			return
		}
		want, ok := decodeDocs(data)
		if !ok {
			t.Fatalf("ParseFile accepted what does not decode:\n%s", data)
		}
		first := -1
		for i, d := range want {
			m, _ := d.(map[string]any)
			if av, _ := m["apiVersion"].(string); m["kind"] == "SealedSecret" && strings.HasPrefix(av, "cruise.dev/") && len(av) > len("cruise.dev/") {
				first = i
				break
			}
		}
		if first < 0 {
			return // a document with keys that are not strings: not the test's concern
		}
		spec, ok := want[first].(map[string]any)["spec"].(map[string]any)
		if !ok {
			return
		}
		ed, ok := spec["encryptedData"].(map[string]any)
		if spec["encryptedData"] == nil {
			ed = map[string]any{}
		} else if !ok {
			return // keys that are not strings
		}
		ed["fuzz-key"] = "RlVaWg=="
		spec["encryptedData"] = ed
		delete(spec, "recipients")

		d := file.SealedSecrets()[0]
		d.SetValue("fuzz-key", "RlVaWg==")
		d.DropRecipients()
		out, _, err := file.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeDocs(out)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %v\nwant %v\nfile:\n%s", got, want, out)
		}
	})
}

// decodeDocs decodes every non-empty document.
func decodeDocs(data []byte) ([]any, bool) {
	var out []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return out, err.Error() == "EOF"
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, v)
	}
}
