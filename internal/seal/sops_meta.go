package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// sopsMeta is what DecryptSOPS needs from a file's sops metadata.
type sopsMeta struct {
	// lastModified is the time as sops re-formats it (RFC 3339): the
	// additional data the MAC is encrypted with.
	lastModified string
	mac          string
	rule         sopsRule
	// macOnlyEncrypted: the MAC covers only the encrypted values.
	macOnlyEncrypted bool
	// groups is the number of key groups; more than one means the data
	// key is split with Shamir's scheme.
	groups int
	age    []sopsAgeKey
	// others names the other kinds of master keys present (pgp, kms…).
	others []string
}

// sopsAgeKey is the data key encrypted to one age recipient.
type sopsAgeKey struct {
	recipient string
	enc       string // armored age file
}

// sopsRule is the one rule a file may set for which values are encrypted.
type sopsRule struct {
	name    string // the metadata field, e.g. encrypted_regex
	pattern string
}

// The master key kinds sops writes besides age; DecryptSOPS ignores them.
var otherKeyKinds = []string{"pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault"}

// ruleFields are the metadata fields that choose what is encrypted; a file
// sets at most one, and none means unencrypted_suffix "_unencrypted".
var ruleFields = []string{
	"unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex",
	"unencrypted_comment_regex", "encrypted_comment_regex",
}

// extractSOPSMetadata takes the sops key out of every document and reads
// the first document's, as sops does for multi-document files (it writes
// the same metadata into each).
func extractSOPSMetadata(docs []sopsMap) ([]sopsMap, *sopsMeta, error) {
	var raw sopsMap
	found := false
	for i, doc := range docs {
		kept := doc[:0:0]
		for _, it := range doc {
			if it.key != "sops" {
				kept = append(kept, it)
				continue
			}
			if i == 0 {
				m, ok := it.value.(sopsMap)
				if !ok {
					return nil, nil, fmt.Errorf("%w: the sops key is not a mapping", ErrSOPSMalformed)
				}
				raw, found = m, true
			}
		}
		docs[i] = kept
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: no sops metadata in the first document", ErrSOPSMalformed)
	}
	meta, err := parseSOPSMeta(raw)
	if err != nil {
		return nil, nil, err
	}
	return docs, meta, nil
}

func parseSOPSMeta(raw sopsMap) (*sopsMeta, error) {
	fields := plainMap(raw)
	m := &sopsMeta{}
	lm, err := metaString(fields, "lastmodified")
	if err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, lm)
	if err != nil {
		return nil, fmt.Errorf("%w: sops.lastmodified is not an RFC 3339 time", ErrSOPSMalformed)
	}
	m.lastModified = t.Format(time.RFC3339)
	if m.mac, err = metaString(fields, "mac"); err != nil {
		return nil, err
	}
	for _, f := range ruleFields {
		p, err := metaString(fields, f)
		if err != nil {
			return nil, err
		}
		if p == "" {
			continue
		}
		if m.rule.name != "" {
			return nil, fmt.Errorf("%w: sops sets both %s and %s; sops allows one", ErrSOPSMalformed, m.rule.name, f)
		}
		m.rule = sopsRule{name: f, pattern: p}
	}
	if m.rule.name == "" {
		m.rule = sopsRule{name: "unencrypted_suffix", pattern: "_unencrypted"}
	}
	switch v := fields["mac_only_encrypted"].(type) {
	case nil:
	case bool:
		m.macOnlyEncrypted = v
	case string:
		if v != "true" && v != "false" {
			return nil, fmt.Errorf("%w: sops.mac_only_encrypted is not a boolean", ErrSOPSMalformed)
		}
		m.macOnlyEncrypted = v == "true"
	default:
		return nil, fmt.Errorf("%w: sops.mac_only_encrypted is not a boolean", ErrSOPSMalformed)
	}
	if err := m.readKeys(fields); err != nil {
		return nil, err
	}
	return m, nil
}

// readKeys reads the master keys: either lists at the top of the metadata
// (one key group) or a key_groups list.
func (m *sopsMeta) readKeys(fields map[string]any) error {
	top := slices.ContainsFunc(append([]string{"age"}, otherKeyKinds...), func(k string) bool { return fields[k] != nil })
	groups, _ := fields["key_groups"].([]any)
	switch {
	case top:
		m.groups = 1
		return m.readGroup(fields)
	case len(groups) > 0:
		m.groups = len(groups)
		for i, g := range groups {
			gm, ok := g.(map[string]any)
			if !ok {
				return fmt.Errorf("%w: sops.key_groups[%d] is not a mapping", ErrSOPSMalformed, i)
			}
			if err := m.readGroup(gm); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: the sops metadata names no keys", ErrSOPSMalformed)
}

func (m *sopsMeta) readGroup(g map[string]any) error {
	for _, k := range otherKeyKinds {
		if l, _ := g[k].([]any); len(l) > 0 && !slices.Contains(m.others, k) {
			m.others = append(m.others, k)
		}
	}
	if g["age"] == nil {
		return nil
	}
	list, ok := g["age"].([]any)
	if !ok {
		return fmt.Errorf("%w: sops.age is not a list", ErrSOPSMalformed)
	}
	for i, e := range list {
		em, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("%w: sops.age[%d] is not a mapping", ErrSOPSMalformed, i)
		}
		recipient, err := metaString(em, "recipient")
		if err != nil {
			return err
		}
		enc, err := metaString(em, "enc")
		if err != nil {
			return err
		}
		m.age = append(m.age, sopsAgeKey{recipient: recipient, enc: enc})
	}
	return nil
}

// plainMap turns a metadata mapping into Go values, without comments.
func plainMap(m sopsMap) map[string]any {
	out := make(map[string]any, len(m))
	for _, it := range m {
		if k, ok := it.key.(string); ok {
			out[k] = plainValue(it.value)
		}
	}
	return out
}

func plainValue(v any) any {
	switch v := v.(type) {
	case sopsMap:
		return plainMap(v)
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			if _, ok := e.(sopsComment); !ok {
				out = append(out, plainValue(e))
			}
		}
		return out
	}
	return v
}

// metaString reads an optional string field.
func metaString(fields map[string]any, name string) (string, error) {
	switch v := fields[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case time.Time:
		// An unquoted time in YAML.
		return v.Format(time.RFC3339), nil
	}
	return "", fmt.Errorf("%w: sops field %s is not a string", ErrSOPSMalformed, name)
}

// rules compiles the file's encryption rule.
func (m *sopsMeta) rules() (*sopsRules, error) {
	r := &sopsRules{rule: m.rule}
	if strings.HasSuffix(m.rule.name, "_regex") {
		re, err := regexp.Compile(m.rule.pattern)
		if err != nil {
			return nil, fmt.Errorf("%w: sops.%s: %v", ErrSOPSMalformed, m.rule.name, err)
		}
		r.re = re
	}
	return r, nil
}

// dataKey recovers the file's 32-byte data key from the first age
// recipient one of the identities opens.
func (m *sopsMeta) dataKey(identities []age.Identity) ([]byte, error) {
	if m.groups > 1 {
		return nil, fmt.Errorf("%w: the data key is split over %d key groups (Shamir); cruise reads files with one key group", ErrSOPSUnsupported, m.groups)
	}
	if len(m.age) == 0 {
		if len(m.others) > 0 {
			return nil, fmt.Errorf("%w: encrypted only to %s keys; cruise decrypts with age keys (add one with sops updatekeys)", ErrSOPSUnsupported, strings.Join(m.others, ", "))
		}
		return nil, fmt.Errorf("%w: no age recipient", ErrSOPSUnsupported)
	}
	if len(m.age) > MaxStanzas {
		return nil, fmt.Errorf("%w: %d age recipients, the limit is %d", ErrSOPSTooLarge, len(m.age), MaxStanzas)
	}
	if len(identities) == 0 {
		return nil, fmt.Errorf("%w: no identities given", ErrSOPSUnknownKey)
	}
	var recipients []string
	for _, k := range m.age {
		recipients = append(recipients, shortRecipient(k.recipient))
		key, err := k.open(identities)
		if errors.Is(err, ErrSOPSUnknownKey) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("data key for %s: %w", shortRecipient(k.recipient), err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w (the file's age recipients: %s)", ErrSOPSUnknownKey, strings.Join(recipients, ", "))
}

// shortRecipient keeps a recipient readable in a message; recipients are
// public keys, and sops writes them in the file in clear.
func shortRecipient(r string) string {
	if len(r) > 80 {
		return r[:80] + "…"
	}
	return r
}

// open decrypts the data key with identities.
func (k sopsAgeKey) open(identities []age.Identity) ([]byte, error) {
	if len(k.enc) > maxArmoredKey {
		return nil, fmt.Errorf("%w: an encrypted data key of %d bytes", ErrSOPSTooLarge, len(k.enc))
	}
	bin, err := io.ReadAll(armor.NewReader(strings.NewReader(strings.TrimSpace(k.enc) + "\n")))
	if err != nil {
		return nil, fmt.Errorf("%w: the encrypted data key is not an armored age file", ErrSOPSMalformed)
	}
	if err := checkHeader(bin); err != nil {
		return nil, fmt.Errorf("%w: the encrypted data key: %v", ErrSOPSMalformed, err)
	}
	r, err := age.Decrypt(bytes.NewReader(bin), identities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, ErrSOPSUnknownKey
		}
		return nil, fmt.Errorf("%w: the encrypted data key: %v", ErrSOPSTampered, err)
	}
	key, err := io.ReadAll(io.LimitReader(r, 33))
	if err != nil {
		return nil, fmt.Errorf("%w: the encrypted data key: %v", ErrSOPSTampered, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: a data key of %d bytes, not 32", ErrSOPSMalformed, len(key))
	}
	return key, nil
}
