package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"filippo.io/age"
	"go.yaml.in/yaml/v3"

	"github.com/cruisegitops/cruise/internal/seal"
)

// Decryption decrypts the SOPS files a render reads: every .yaml, .yml and
// .json file the sops CLI encrypted (to age recipients) is decrypted as it
// is read, in plain and kustomize mode alike, so kustomize builds from
// the plaintext.
type Decryption struct {
	// Identities are tried on each file.
	Identities []age.Identity
}

// minMaskedValue is the shortest decrypted value looked for inside other
// objects (see markSensitive): shorter ones ("1", "on") would match
// everywhere.
const minMaskedValue = 4

// maxTracedValues bounds the decrypted values traced through a kustomize
// build; past it every object of the build counts as sensitive.
const maxTracedValues = 10_000

// decrypter decrypts the SOPS files of one Render call and remembers what
// came out of them.
type decrypter struct {
	d *Decryption // nil: a SOPS file fails the render

	mu    sync.Mutex                // guards files
	files map[string]*decryptedFile // by resolved path: kustomize reads a file more than once
}

// decryptedFile is what one SOPS file decrypted to.
type decryptedFile struct {
	plaintext []byte
	// objects identify the documents, for finding them after kustomize
	// renamed them.
	objects []docID
	// values are the decrypted values outside the documents' identity
	// (apiVersion, kind, metadata, a Secret's type).
	values []string
}

// docID is the kind and name a decrypted document had in its file.
type docID struct{ kind, name string }

func newDecrypter(d *Decryption) *decrypter {
	return &decrypter{d: d, files: map[string]*decryptedFile{}}
}

// readManifest reads a file like readFile and decrypts it when it is a
// SOPS file; decrypted reports whether it was.
func (c *confiner) readManifest(p, display string) (data []byte, decrypted bool, err error) {
	data, resolved, err := c.readResolved(p, display)
	if err != nil {
		return nil, false, err
	}
	format, ok := seal.SOPSFormatFor(resolved)
	if !ok || !seal.IsSOPS(data) {
		return data, false, nil
	}
	if display == "" {
		display = c.rel(c.abs(p))
	}
	f, err := c.sops.decrypt(display, resolved, format, data)
	if err != nil {
		return nil, false, err
	}
	return f.plaintext, true, nil
}

func (d *decrypter) decrypt(display, resolved string, format seal.SOPSFormat, data []byte) (*decryptedFile, error) {
	if d.d == nil {
		return nil, &Error{File: display, Kind: ErrDecryption,
			Err: errors.New("encrypted with sops, and no decryption keys are configured")}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.files[resolved]; ok {
		return f, nil
	}
	sf, err := seal.OpenSOPS(data, format, d.d.Identities)
	if err != nil {
		// seal's errors name keys and recipients, never a value.
		return nil, &Error{File: display, Kind: ErrDecryption, Err: fmt.Errorf("sops: %w", err)}
	}
	f := &decryptedFile{plaintext: sf.Plaintext, objects: documentIDs(sf.Plaintext)}
	for _, v := range sf.Decrypted {
		if identityField(v.Path) || len(v.Value) < minMaskedValue {
			continue
		}
		f.values = append(f.values, string(v.Value))
	}
	d.files[resolved] = f
	return f, nil
}

// identityField reports whether path is part of what names an object
// (shown everywhere anyway) rather than of its content.
func identityField(path []string) bool {
	if len(path) == 0 {
		return true
	}
	switch path[0] {
	case "apiVersion", "kind", "metadata":
		return true
	case "type":
		return len(path) == 1
	}
	return false
}

// documentIDs reads the kind and name of every document of a decrypted
// file; documents without them (patches, generator inputs) are skipped.
func documentIDs(plaintext []byte) []docID {
	var ids []docID
	dec := yaml.NewDecoder(bytes.NewReader(plaintext))
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || (err != nil && !isTypeError(err)) {
			return ids
		}
		if doc.Kind != "" && doc.Metadata.Name != "" {
			ids = append(ids, docID{kind: doc.Kind, name: doc.Metadata.Name})
		}
	}
}

// quotesInput reports whether a decoding error carries the YAML or JSON
// library's own message, which may quote the input; render's own checks
// (a missing kind, no metadata.name) quote nothing.
func quotesInput(err error) bool {
	var (
		ce *cleanedError
		se *json.SyntaxError
		ue *json.UnmarshalTypeError
	)
	return errors.As(err, &ce) || errors.As(err, &se) || errors.As(err, &ue) || strings.Contains(err.Error(), ": json: ")
}

func isTypeError(err error) bool {
	var te *yaml.TypeError
	return errors.As(err, &te)
}

// markSensitive flags the objects of a kustomize build that hold, or may
// hold, decrypted values. kustomize renames objects (prefixes, suffixes,
// generator hashes) and can copy values between them (replacements,
// generators), and its output no longer says which file an object came
// from; so, erring on the side of masking, an object counts when it is of
// a decrypted document's kind and its name contains that document's name,
// or when any of its strings contains a decrypted value of at least
// minMaskedValue bytes.
func (d *decrypter) markSensitive(objs []Object) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.files) == 0 {
		return
	}
	var ids []docID
	var values []string
	for _, f := range d.files {
		ids = append(ids, f.objects...)
		values = append(values, f.values...)
	}
	for i := range objs {
		o := &objs[i]
		if len(values) > maxTracedValues {
			o.Sensitive = true
			continue
		}
		for _, id := range ids {
			if o.GetKind() == id.kind && strings.Contains(o.GetName(), id.name) {
				o.Sensitive = true
				break
			}
		}
		if !o.Sensitive && len(values) > 0 {
			o.Sensitive = containsAny(o.Object, values)
		}
	}
}

// containsAny reports whether a string anywhere in v contains one of
// values.
func containsAny(v any, values []string) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if containsAny(e, values) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if containsAny(e, values) {
				return true
			}
		}
	case string:
		for _, s := range values {
			if strings.Contains(v, s) {
				return true
			}
		}
	}
	return false
}
