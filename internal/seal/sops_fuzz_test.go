package seal

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzDecryptSOPS feeds the parser mutations of the committed fixtures
// (real sops output, decryptable with the fixture key). Whatever the
// input, DecryptSOPS must return, without panicking, either a document
// that parses in its format or an error of one of its kinds.
func FuzzDecryptSOPS(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "sops", "*.sops.*"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixtures in testdata/sops: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(p, ".json"))
	}
	f.Add([]byte("a: &a [*a]\nsops: {}\n"), false)
	f.Add([]byte(`{"sops":{"mac":"","lastmodified":"x"}}`), true)
	ids := fixtureIdentities(f)
	kinds := []error{ErrSOPSMalformed, ErrSOPSTooLarge, ErrSOPSUnsupported, ErrSOPSUnknownKey, ErrSOPSTampered}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		format := SOPSYAML
		if isJSON {
			format = SOPSJSON
		}
		out, err := DecryptSOPS(data, format, ids)
		if err != nil {
			for _, k := range kinds {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error of no known kind: %v", err)
		}
		if isJSON {
			var v any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("decrypted JSON does not parse: %v\n%s", err, out)
			}
			return
		}
		var n yaml.Node
		if err := yaml.Unmarshal(out, &n); err != nil {
			t.Fatalf("decrypted YAML does not parse: %v\n%s", err, out)
		}
	})
}
