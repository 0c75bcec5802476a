package seal

import (
	"bytes"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"filippo.io/age"
)

// SOPSFormat is the syntax of a SOPS file, which sops itself takes from
// the file's extension.
type SOPSFormat int

// The formats DecryptSOPS reads. sops's dotenv, ini and binary formats
// are not Kubernetes manifests and are not read.
const (
	SOPSYAML SOPSFormat = iota + 1
	SOPSJSON
)

func (f SOPSFormat) String() string {
	switch f {
	case SOPSYAML:
		return "yaml"
	case SOPSJSON:
		return "json"
	}
	return fmt.Sprintf("SOPSFormat(%d)", int(f))
}

// SOPSFormatFor picks the format from a file name as sops does: .json is
// JSON, .yaml and .yml are YAML; ok is false for anything else.
func SOPSFormatFor(name string) (f SOPSFormat, ok bool) {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml":
		return SOPSYAML, true
	case ".json":
		return SOPSJSON, true
	}
	return 0, false
}

// Limits on one SOPS file, checked before and during the work, so that a
// hostile file costs at most a fraction of a second.
const (
	// MaxSOPSSize is the largest SOPS file read (render's default limit
	// for any manifest).
	MaxSOPSSize = 5 << 20
	// maxSOPSDepth bounds the nesting of maps and lists.
	maxSOPSDepth = 100
	// maxSOPSNodes bounds the values, keys and comments of the tree once
	// YAML aliases are expanded (sops expands them, so the MAC covers the
	// expansion): a few hundred bytes of aliases must not become millions
	// of values. A 5 MiB file of encrypted values holds fewer than 50,000.
	maxSOPSNodes = 1 << 18
	// maxArmoredKey bounds one armored age data key (about 500 bytes).
	maxArmoredKey = 16 << 10
)

// Errors DecryptSOPS wraps; test with errors.Is. Messages name the file's
// keys and recipients, never a value.
var (
	// ErrSOPSMalformed: not a SOPS file sops could have written (syntax,
	// metadata, the encrypted value format, a value of the wrong type).
	ErrSOPSMalformed = errors.New("not a valid SOPS file")
	// ErrSOPSTooLarge: over MaxSOPSSize, or nested or expanded beyond the
	// limits.
	ErrSOPSTooLarge = errors.New("SOPS file too large")
	// ErrSOPSUnsupported: a SOPS feature this reader does not implement
	// (a data key split over several key groups with Shamir's scheme, no
	// age recipient at all).
	ErrSOPSUnsupported = errors.New("unsupported SOPS file")
	// ErrSOPSUnknownKey: encrypted to none of the identities given.
	ErrSOPSUnknownKey = errors.New("SOPS file is encrypted to none of the age identities given")
	// ErrSOPSTampered: a value fails authentication, a value that must be
	// encrypted is not, or the MAC does not match the values: the file was
	// changed by someone without the data key.
	ErrSOPSTampered = errors.New("SOPS file fails authentication (changed without the key)")
)

// SOPSFile is a decrypted SOPS file.
type SOPSFile struct {
	// Plaintext is the document in its own format with the sops metadata
	// removed and every value decrypted to its original type.
	Plaintext []byte
	// Decrypted lists every value that was encrypted, in file order, for
	// callers that must keep them out of what they show.
	Decrypted []SOPSValue
}

// SOPSValue is one value that was encrypted in a SOPS file.
type SOPSValue struct {
	// Document is the 0-based YAML document holding it.
	Document int
	// Path is the keys leading to it (list positions are not part of a
	// SOPS path).
	Path []string
	// Value is the plaintext as text: what the MAC covers.
	Value Plaintext
}

// Plaintext is a decrypted value. It prints as "***" so that it cannot
// reach a log or a message by accident; convert it to string on purpose.
type Plaintext string

func (Plaintext) String() string                { return "***" }
func (Plaintext) GoString() string              { return `"***"` }
func (Plaintext) MarshalJSON() ([]byte, error)  { return []byte(`"***"`), nil }
func (Plaintext) MarshalText() ([]byte, error)  { return []byte("***"), nil }
func (Plaintext) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte("***")) }

// sopsMarker finds a top-level "sops" key: at the start of a line in YAML,
// as a quoted key in JSON.
var sopsMarker = regexp.MustCompile(`(?m)^sops:|^["']sops["']\s*:|"sops"\s*:`)

// IsSOPS reports, cheaply and without parsing, whether data looks like a
// file the sops CLI encrypted: a "sops" key and the "mac" and
// "lastmodified" fields of its metadata. A manifest that merely mentions
// sops does not match; one that matches but is no SOPS file fails
// DecryptSOPS with ErrSOPSMalformed, which is what a caller wants rather
// than applying such a file as it is.
func IsSOPS(data []byte) bool {
	return bytes.Contains(data, []byte("lastmodified")) &&
		bytes.Contains(data, []byte("mac")) &&
		sopsMarker.Match(data)
}

// DecryptSOPS decrypts a YAML or JSON file the sops CLI encrypted with at
// least one age recipient, using whichever of identities matches. The MAC
// is always verified: a file changed without the data key is refused with
// ErrSOPSTampered. The result is the document without its sops metadata,
// in the same format (every document of a multi-document YAML file).
func DecryptSOPS(data []byte, format SOPSFormat, identities []age.Identity) ([]byte, error) {
	f, err := OpenSOPS(data, format, identities)
	if err != nil {
		return nil, err
	}
	return f.Plaintext, nil
}

// OpenSOPS is DecryptSOPS that also lists the values that were encrypted.
func OpenSOPS(data []byte, format SOPSFormat, identities []age.Identity) (*SOPSFile, error) {
	if len(data) > MaxSOPSSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrSOPSTooLarge, len(data), MaxSOPSSize)
	}
	var (
		docs []sopsMap
		err  error
	)
	switch format {
	case SOPSYAML:
		docs, err = loadSOPSYAML(data)
	case SOPSJSON:
		docs, err = loadSOPSJSON(data)
	default:
		return nil, fmt.Errorf("%w: format %s", ErrSOPSUnsupported, format)
	}
	if err != nil {
		return nil, err
	}
	docs, meta, err := extractSOPSMetadata(docs)
	if err != nil {
		return nil, err
	}
	rules, err := meta.rules()
	if err != nil {
		return nil, err
	}
	key, err := meta.dataKey(identities)
	if err != nil {
		return nil, err
	}
	d := &sopsDecrypter{key: key, rules: rules, mac: sha512.New(), macAll: !meta.macOnlyEncrypted}
	if meta.macOnlyEncrypted {
		d.mac.Write(macOnlyEncryptedInit[:])
	}
	for i, doc := range docs {
		d.doc = i
		if err := d.walkMap(doc, nil, nil, 0); err != nil {
			return nil, err
		}
	}
	if err := meta.verifyMAC(key, fmt.Sprintf("%X", d.mac.Sum(nil))); err != nil {
		return nil, err
	}
	var out []byte
	switch format {
	case SOPSYAML:
		out, err = emitSOPSYAML(docs)
	case SOPSJSON:
		out, err = emitSOPSJSON(docs[0])
	}
	if err != nil {
		return nil, err
	}
	return &SOPSFile{Plaintext: out, Decrypted: d.values}, nil
}

// macOnlyEncryptedInit starts the hash of a file with mac_only_encrypted
// set, so that its MAC never equals the MAC of the same values without
// the setting (sops's constant: the SHA-256 of "sops").
var macOnlyEncryptedInit = [32]byte{
	0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
	0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
}

// verifyMAC compares the MAC computed over the decrypted values with the
// one stored in the metadata, which is encrypted with the data key and
// authenticated with the lastmodified time.
func (m *sopsMeta) verifyMAC(key []byte, computed string) error {
	if m.mac == "" {
		return fmt.Errorf("%w: the metadata holds no MAC", ErrSOPSTampered)
	}
	ev, err := parseEncrypted(m.mac)
	if err != nil {
		return fmt.Errorf("%w: sops.mac: %v", ErrSOPSMalformed, err)
	}
	stored, err := ev.open(key, m.lastModified)
	if err != nil {
		return fmt.Errorf("%w: sops.mac fails authentication (the MAC or lastmodified was changed)", ErrSOPSTampered)
	}
	if subtle.ConstantTimeCompare(stored, []byte(computed)) != 1 {
		return fmt.Errorf("%w: the MAC does not match the values (a value, or their order, was changed)", ErrSOPSTampered)
	}
	return nil
}
