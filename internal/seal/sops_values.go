package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sopsRules decides, as sops does, whether the value at a path is
// encrypted.
type sopsRules struct {
	rule sopsRule
	re   *regexp.Regexp // for the *_regex rules
}

// encrypted mirrors sops's rule: suffix and key-regex rules look at every
// key on the path; comment rules at the comments met on the way, the
// encrypted_comment_regex one skipping the comment being decided.
func (r *sopsRules) encrypted(path []string, comments [][]string, isComment bool) bool {
	switch r.rule.name {
	case "unencrypted_suffix":
		for _, k := range path {
			if strings.HasSuffix(k, r.rule.pattern) {
				return false
			}
		}
		return true
	case "encrypted_suffix":
		for _, k := range path {
			if strings.HasSuffix(k, r.rule.pattern) {
				return true
			}
		}
		return false
	case "unencrypted_regex":
		for _, k := range path {
			if r.re.MatchString(k) {
				return false
			}
		}
		return true
	case "encrypted_regex":
		for _, k := range path {
			if r.re.MatchString(k) {
				return true
			}
		}
		return false
	case "unencrypted_comment_regex":
		for _, cs := range comments {
			for _, c := range cs {
				if r.re.MatchString(c) {
					return false
				}
			}
		}
		return true
	case "encrypted_comment_regex":
		last := len(comments) - 1
		for i, cs := range comments {
			for j, c := range cs {
				// The comment that carries the marker stays in clear.
				if isComment && i == last && j == len(cs)-1 {
					continue
				}
				if r.re.MatchString(c) {
					return true
				}
			}
		}
		return false
	}
	return true
}

// sopsDecrypter walks the tree in sops's order, decrypting in place and
// hashing the values into the MAC.
type sopsDecrypter struct {
	key    []byte
	rules  *sopsRules
	mac    hash.Hash
	macAll bool // !mac_only_encrypted
	doc    int
	values []SOPSValue
}

func (d *sopsDecrypter) walkMap(m sopsMap, path []string, comments [][]string, depth int) error {
	comments = append(comments[:len(comments):len(comments)], nil)
	top := len(comments) - 1
	for i, it := range m {
		if c, ok := it.key.(sopsComment); ok {
			comments[top] = append(comments[top], c.text)
			v, err := d.leaf(c, path, comments)
			if err != nil {
				return err
			}
			m[i].key = v
			continue
		}
		c, isComment := it.value.(sopsComment)
		if isComment {
			comments[top] = append(comments[top], c.text)
		}
		key := it.key.(string)
		v, err := d.value(it.value, append(path[:len(path):len(path)], key), comments, depth+1)
		if err != nil {
			return err
		}
		m[i].value = v
		if !isComment {
			comments[top] = nil
		}
	}
	return nil
}

func (d *sopsDecrypter) walkList(l []any, path []string, comments [][]string, depth int) error {
	comments = append(comments[:len(comments):len(comments)], nil)
	top := len(comments) - 1
	for i, e := range l {
		c, isComment := e.(sopsComment)
		if isComment {
			comments[top] = append(comments[top], c.text)
		}
		v, err := d.value(e, path, comments, depth+1)
		if err != nil {
			return err
		}
		l[i] = v
		if !isComment {
			comments[top] = nil
		}
	}
	return nil
}

func (d *sopsDecrypter) value(v any, path []string, comments [][]string, depth int) (any, error) {
	if depth > maxSOPSDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", ErrSOPSTooLarge, maxSOPSDepth)
	}
	switch v := v.(type) {
	case sopsMap:
		return v, d.walkMap(v, path, comments, depth)
	case []any:
		return v, d.walkList(v, path, comments, depth)
	case nil:
		return nil, nil // sops neither encrypts nor hashes null
	}
	return d.leaf(v, path, comments)
}

// leaf decrypts one value or comment if the rules say it is encrypted,
// and hashes values into the MAC.
func (d *sopsDecrypter) leaf(v any, path []string, comments [][]string) (any, error) {
	c, isComment := v.(sopsComment)
	enc := d.rules.encrypted(path, comments, isComment)
	if enc {
		var err error
		switch {
		case isComment:
			// Comments are not covered by the MAC; sops keeps one that
			// does not decrypt as it is (older versions left them clear).
			if p, err := d.decrypt(c.text, path); err == nil {
				if s, ok := p.(string); ok {
					c.text = s
				}
			}
			return c, nil
		default:
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%w: %s holds a %s that should be encrypted and is not", ErrSOPSTampered, d.where(path), typeName(v))
			}
			if v, err = d.decrypt(s, path); err != nil {
				return nil, err
			}
		}
	}
	if isComment {
		return c, nil
	}
	if enc || d.macAll {
		b, err := macBytes(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.where(path), err)
		}
		d.mac.Write(b)
		if enc && len(b) > 0 {
			d.values = append(d.values, SOPSValue{Document: d.doc, Path: append([]string(nil), path...), Value: Plaintext(b)})
		}
	}
	return v, nil
}

// where names a value for messages: "stringData.password", with the
// document when the file has several.
func (d *sopsDecrypter) where(path []string) string {
	p := strings.Join(path, ".")
	if p == "" {
		p = "(top level)"
	}
	if d.doc > 0 {
		return fmt.Sprintf("document %d: %s", d.doc+1, p)
	}
	return p
}

// decrypt opens one ENC[…] value; "" stays "" (sops does not encrypt
// empty strings).
func (d *sopsDecrypter) decrypt(s string, path []string) (any, error) {
	if s == "" {
		return "", nil
	}
	ev, err := parseEncrypted(s)
	if err != nil {
		// A clear value where the rules say encrypted: either the file
		// was edited or the rules were.
		return nil, fmt.Errorf("%w: %s should be encrypted and is not (%v)", ErrSOPSTampered, d.where(path), err)
	}
	plain, err := ev.open(d.key, strings.Join(path, ":")+":")
	if err != nil {
		return nil, fmt.Errorf("%w: %s fails authentication (changed, or moved from another key)", ErrSOPSTampered, d.where(path))
	}
	v, err := typed(plain, ev.typ)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.where(path), err)
	}
	return v, nil
}

// encryptedValue is one parsed ENC[AES256_GCM,data:…,iv:…,tag:…,type:…].
type encryptedValue struct {
	data, iv, tag []byte
	typ           string
}

var errNotEncrypted = errors.New("not an ENC[AES256_GCM,…] value")

// parseEncrypted parses the format strictly: the fields in sops's order,
// standard base64, a 32-byte IV and a 16-byte tag.
func parseEncrypted(s string) (*encryptedValue, error) {
	body, ok := strings.CutPrefix(s, "ENC[AES256_GCM,")
	if !ok {
		return nil, errNotEncrypted
	}
	body, ok = strings.CutSuffix(body, "]")
	if !ok {
		return nil, errNotEncrypted
	}
	parts := strings.Split(body, ",")
	if len(parts) != 4 {
		return nil, errNotEncrypted
	}
	var ev encryptedValue
	fields := []struct {
		name string
		dst  *[]byte
	}{{"data:", &ev.data}, {"iv:", &ev.iv}, {"tag:", &ev.tag}}
	for i, f := range fields {
		b64, ok := strings.CutPrefix(parts[i], f.name)
		if !ok {
			return nil, errNotEncrypted
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%s is not base64", strings.TrimSuffix(f.name, ":"))
		}
		*f.dst = b
	}
	typ, ok := strings.CutPrefix(parts[3], "type:")
	if !ok {
		return nil, errNotEncrypted
	}
	ev.typ = typ
	if len(ev.iv) != 32 || len(ev.tag) != 16 {
		return nil, fmt.Errorf("an IV of %d bytes and a tag of %d; sops writes 32 and 16", len(ev.iv), len(ev.tag))
	}
	return &ev, nil
}

// open decrypts and authenticates with AES-256-GCM; aad is the value's
// path ("stringData:password:") or, for the MAC, lastmodified.
func (ev *encryptedValue) open(key []byte, aad string) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(ev.iv))
	if err != nil {
		return nil, err
	}
	sealed := make([]byte, 0, len(ev.data)+len(ev.tag))
	sealed = append(append(sealed, ev.data...), ev.tag...)
	return gcm.Open(nil, ev.iv, sealed, []byte(aad))
}

// typed restores a decrypted value's type. The errors never quote it.
func typed(plain []byte, typ string) (any, error) {
	s := string(plain)
	switch typ {
	case "str":
		return s, nil
	case "int":
		i, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%w: a value of type int that is not an integer", ErrSOPSMalformed)
		}
		return i, nil
	case "float":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: a value of type float that is not a number", ErrSOPSMalformed)
		}
		return f, nil
	case "bool":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%w: a value of type bool that is not a boolean", ErrSOPSMalformed)
		}
		return b, nil
	case "bytes":
		return s, nil
	case "time":
		var t time.Time
		if err := t.UnmarshalText(plain); err != nil {
			return nil, fmt.Errorf("%w: a value of type time that is not an RFC 3339 time", ErrSOPSMalformed)
		}
		return t, nil
	case "comment":
		return s, nil
	}
	return nil, fmt.Errorf("%w: unknown value type %q", ErrSOPSMalformed, typ)
}

// macBytes is the form a value takes in the MAC, as sops writes it.
func macBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case time.Time:
		return v.MarshalText()
	}
	return nil, fmt.Errorf("%w: a value of type %s", ErrSOPSMalformed, typeName(v))
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int:
		return "integer"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case time.Time:
		return "time"
	case sopsMap:
		return "mapping"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}
