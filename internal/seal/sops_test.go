package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"go.yaml.in/yaml/v3"

	"github.com/cruisegitops/cruise/internal/seal/sealtest"
)

// fixtureIdentities is the throwaway key the committed fixtures in
// testdata/sops are encrypted to.
func fixtureIdentities(t testing.TB) []age.Identity {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sops", "testkey.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := ParseKeys(f, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return NewRing(keys...).Identities()
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sops", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseDocs reads every document of a YAML (or JSON) stream into Go
// values, aliases expanded, empty documents skipped: what a manifest
// means, independent of layout and comments.
func parseDocs(t testing.TB, data []byte) []any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("parse %s: %v", data, err)
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
}

func formatOf(t testing.TB, name string) SOPSFormat {
	t.Helper()
	f, ok := SOPSFormatFor(name)
	if !ok {
		t.Fatalf("no SOPS format for %s", name)
	}
	return f
}

// TestDecryptSOPSFixtures decrypts the committed files the sops CLI wrote
// and compares them with the plaintext they were made from, types
// included (an int stays an int, 2.0 a float, a time a time).
func TestDecryptSOPSFixtures(t *testing.T) {
	ids := fixtureIdentities(t)
	tests := []struct {
		file, plain string
		secrets     []string // values that must be reported as decrypted
		clear       []string // values that were not encrypted
	}{
		{"secret-regex.sops.yaml", "secret.plain.yaml", []string{"correct-horse-battery-staple", "c2VjcmV0LXRva2VuLXZhbHVl", "shop"}, []string{"db", "Opaque"}},
		{"secret-whole.sops.yaml", "secret.plain.yaml", []string{"correct-horse-battery-staple", "db", "Opaque"}, nil},
		{"multidoc-regex.sops.yaml", "multidoc.plain.yaml", []string{"api-key-0123456789", "https://internal.example/hidden"}, []string{"settings"}},
		{"types-whole.sops.yaml", "types.plain.yaml", []string{"plain-text-value", "5432", "1.5", "False", "2001-12-14T21:59:43.1Z"}, []string{"stays clear"}},
		{"secret-whole.sops.json", "secret.plain.json", []string{"json-secret-value", "5432", "0.25", "True"}, nil},
		{"secret-regex.sops.json", "secret.plain.json", []string{"json-secret-value", "a.example"}, []string{"json-db"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := OpenSOPS(readFixture(t, tt.file), formatOf(t, tt.file), ids)
			if err != nil {
				t.Fatalf("OpenSOPS: %v", err)
			}
			got, want := parseDocs(t, f.Plaintext), parseDocs(t, readFixture(t, tt.plain))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decrypted\n%s\nmeans\n %#v\nwant\n %#v", f.Plaintext, got, want)
			}
			if bytes.Contains(f.Plaintext, []byte("sops:")) || bytes.Contains(f.Plaintext, []byte(`"sops"`)) || bytes.Contains(f.Plaintext, []byte("ENC[")) {
				t.Errorf("the metadata or a ciphertext is left in\n%s", f.Plaintext)
			}
			decrypted := map[string]bool{}
			for _, v := range f.Decrypted {
				decrypted[string(v.Value)] = true
			}
			for _, s := range tt.secrets {
				if !decrypted[s] {
					t.Errorf("%q is not listed as decrypted", s)
				}
			}
			for _, s := range tt.clear {
				if decrypted[s] {
					t.Errorf("%q, in clear in the file, is listed as decrypted", s)
				}
			}
		})
	}
}

// The value types come back as such, not as strings.
func TestDecryptSOPSRestoresTypes(t *testing.T) {
	f, err := OpenSOPS(readFixture(t, "types-whole.sops.yaml"), SOPSYAML, fixtureIdentities(t))
	if err != nil {
		t.Fatal(err)
	}
	values := parseDocs(t, f.Plaintext)[0].(map[string]any)["values"].(map[string]any)
	for key, want := range map[string]any{
		"string": "plain-text-value", "quoted": "true", "int": 5432, "hex": 31, "float": 1.5, "whole_float": 2.0,
		"bool": false, "time": time.Date(2001, 12, 14, 21, 59, 43, 100_000_000, time.UTC), "empty": "", "nothing": nil,
		"multiline": "line one\nline two\n",
	} {
		if got := values[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", key, got, got, want, want)
		}
	}
}

// cliCase is a plaintext and the sops flags, or the .sops.yaml creation
// rule (RECIPIENT replaced), to encrypt it with.
type cliCase struct {
	name   string
	ext    string
	plain  string
	args   []string
	config string
}

const secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
type: Opaque
stringData:
  username: app_user
  password: p4ss-w0rd-value # the password
  port: 5432
  ratio: 0.5
  tls: true
data:
  token: dG9rZW4tdmFsdWU=
`

// TestDecryptSOPSFromCLI encrypts with the real sops CLI under every rule
// a file can carry and compares cruise's result with the plaintext and
// with what `sops decrypt` prints.
func TestDecryptSOPSFromCLI(t *testing.T) {
	identity, recipient := sealtest.AgeKeygen(t)
	ids, err := age.ParseIdentities(bytes.NewReader(identity))
	if err != nil {
		t.Fatal(err)
	}
	multi := secretYAML + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  url: https://hidden.example\n"
	commented := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  # sops:enc\n  secret: hidden-by-comment\n  open: visible\n"
	tests := []cliCase{
		{name: "yaml whole document", ext: ".yaml", plain: secretYAML},
		{name: "yaml flux regex", ext: ".yaml", plain: secretYAML, args: []string{"--encrypted-regex", "^(data|stringData)$"}},
		{name: "yaml multi-document whole", ext: ".yaml", plain: multi},
		{name: "yaml multi-document regex", ext: ".yaml", plain: multi, args: []string{"--encrypted-regex", "^(data|stringData)$"}},
		{name: "yaml unencrypted regex", ext: ".yaml", plain: secretYAML, args: []string{"--unencrypted-regex", "^(apiVersion|kind|metadata|type)$"}},
		{name: "yaml encrypted suffix", ext: ".yaml", plain: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  key_secret: hidden\n  open: visible\n", args: []string{"--encrypted-suffix", "_secret"}},
		{name: "yaml unencrypted suffix", ext: ".yaml", plain: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  key_clear: visible\n  hidden: value\n", args: []string{"--unencrypted-suffix", "_clear"}},
		{name: "yaml encrypted comment regex", ext: ".yaml", plain: commented, config: "encrypted_comment_regex: sops:enc"},
		{name: "yaml unencrypted comment regex", ext: ".yaml", plain: strings.ReplaceAll(commented, "sops:enc", "sops:clear"), config: "unencrypted_comment_regex: sops:clear"},
		{name: "yaml mac only encrypted", ext: ".yaml", plain: secretYAML, config: "encrypted_regex: ^(data|stringData)$\n    mac_only_encrypted: true"},
		{name: "json whole document", ext: ".json", plain: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j"},"stringData":{"a":"x-value","n":12,"f":1.25,"b":false,"l":[1,"two",{"three":3}]}}`},
		{name: "json flux regex", ext: ".json", plain: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j"},"stringData":{"a":"x-value","n":12}}`, args: []string{"--encrypted-regex", "^(data|stringData)$"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var enc []byte
			if tt.config != "" {
				enc = sealtest.EncryptWithConfig(t, []byte(tt.plain), tt.ext, "creation_rules:\n  - age: "+recipient+"\n    "+tt.config+"\n")
			} else {
				enc = sealtest.Encrypt(t, []byte(tt.plain), tt.ext, []string{recipient}, tt.args...)
			}
			if !IsSOPS(enc) {
				t.Fatalf("IsSOPS is false for\n%s", enc)
			}
			got, err := DecryptSOPS(enc, formatOf(t, "x"+tt.ext), ids)
			if err != nil {
				t.Fatalf("DecryptSOPS: %v\n%s", err, enc)
			}
			want := parseDocs(t, []byte(tt.plain))
			if g := parseDocs(t, got); !reflect.DeepEqual(g, want) {
				t.Errorf("decrypted\n%s\nmeans %#v\nwant %#v", got, g, want)
			}
			if g, s := parseDocs(t, got), parseDocs(t, sealtest.Decrypt(t, enc, tt.ext, identity)); !reflect.DeepEqual(g, s) {
				t.Errorf("cruise decrypts to %#v, sops decrypt to %#v", g, s)
			}
		})
	}
}

// Several recipients, and key groups written by the configuration: any
// one identity opens the file; other kinds of keys beside age are ignored.
func TestDecryptSOPSKeyChoice(t *testing.T) {
	k1, k2, other := newKey(t), newKey(t), newKey(t)
	plain := []byte(secretYAML)
	two := sealtest.Encrypt(t, plain, ".yaml", []string{k1.Recipient().String(), k2.Recipient().String()})
	oneGroup := sealtest.EncryptWithConfig(t, plain, ".yaml",
		"creation_rules:\n  - key_groups:\n      - age:\n          - "+k1.Recipient().String()+"\n")
	withOthers := addOtherKeys(t, sealtest.Encrypt(t, plain, ".yaml", []string{k1.Recipient().String()}))
	tests := []struct {
		name string
		file []byte
		ids  []age.Identity
		want error
	}{
		{"first of two recipients", two, []age.Identity{k1.Identity}, nil},
		{"second of two recipients", two, []age.Identity{k2.Identity}, nil},
		{"a ring holding a stranger and the key", two, []age.Identity{other.Identity, k2.Identity}, nil},
		{"key_groups with one group", oneGroup, []age.Identity{k1.Identity}, nil},
		{"pgp and kms keys beside age", withOthers, []age.Identity{k1.Identity}, nil},
		{"no matching identity", two, []age.Identity{other.Identity}, ErrSOPSUnknownKey},
		{"no identity at all", two, nil, ErrSOPSUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptSOPS(tt.file, SOPSYAML, tt.ids)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				checkNoPlaintext(t, err, plain)
				if tt.ids != nil && !strings.Contains(err.Error(), k1.Recipient().String()) {
					t.Errorf("error %q does not name the file's recipients", err)
				}
				return
			}
			if !reflect.DeepEqual(parseDocs(t, got), parseDocs(t, plain)) {
				t.Errorf("decrypted to\n%s", got)
			}
		})
	}
}

// addOtherKeys adds pgp and kms entries to a file's metadata, as a file
// encrypted to several kinds of keys has them (the metadata is outside
// the MAC).
func addOtherKeys(t testing.TB, file []byte) []byte {
	t.Helper()
	extra := "sops:\n" +
		"    kms:\n        - arn: arn:aws:kms:eu-west-1:111122223333:key/x\n          created_at: \"2026-01-01T00:00:00Z\"\n          enc: AQICAHh=\n          aws_profile: \"\"\n" +
		"    pgp:\n        - created_at: \"2026-01-01T00:00:00Z\"\n          enc: |\n            -----BEGIN PGP MESSAGE-----\n            wcFMA\n            -----END PGP MESSAGE-----\n          fp: 0123456789ABCDEF0123456789ABCDEF01234567\n"
	out := bytes.Replace(file, []byte("sops:\n"), []byte(extra), 1)
	if bytes.Equal(out, file) {
		t.Fatal("no sops block to add keys to")
	}
	return out
}

// checkNoPlaintext fails if err quotes any value of plain.
func checkNoPlaintext(t testing.TB, err error, plain []byte) {
	t.Helper()
	for _, secret := range []string{"p4ss-w0rd-value", "app_user", "dG9rZW4tdmFsdWU=", "correct-horse-battery-staple", "c2VjcmV0LXRva2VuLXZhbHVl"} {
		if bytes.Contains(plain, []byte(secret)) && strings.Contains(err.Error(), secret) {
			t.Errorf("error %q reveals %q", err, secret)
		}
	}
}

// TestDecryptSOPSRefusesTampering changes files the CLI wrote the way an
// attacker with write access to Git, but without the key, could.
func TestDecryptSOPSRefusesTampering(t *testing.T) {
	k := newKey(t)
	ids := []age.Identity{k.Identity}
	rcpt := []string{k.Recipient().String()}
	regex := sealtest.Encrypt(t, []byte(secretYAML), ".yaml", rcpt, "--encrypted-regex", "^(data|stringData)$")
	whole := sealtest.Encrypt(t, []byte(secretYAML), ".yaml", rcpt)
	macOnly := sealtest.EncryptWithConfig(t, []byte(secretYAML), ".yaml",
		"creation_rules:\n  - age: "+rcpt[0]+"\n    encrypted_regex: ^(data|stringData)$\n    mac_only_encrypted: true\n")
	jsonFile := sealtest.Encrypt(t, []byte(`{"kind":"Secret","stringData":{"a":"p4ss-w0rd-value","b":"app_user"}}`), ".json", rcpt)
	tests := []struct {
		name   string
		file   []byte
		format SOPSFormat
		edit   func(t *testing.T, b []byte) []byte
		want   error
	}{
		{"an unencrypted value edited", regex, SOPSYAML, replace("namespace: shop", "namespace: prod"), ErrSOPSTampered},
		{"an unencrypted value added", regex, SOPSYAML, replace("    namespace: shop\n", "    namespace: shop\n    annotations:\n        x: y\n"), ErrSOPSTampered},
		{"two unencrypted values swapped", regex, SOPSYAML, replace("    name: db\n    namespace: shop\n", "    namespace: shop\n    name: db\n"), ErrSOPSTampered},
		{"a ciphertext byte flipped", regex, SOPSYAML, flipCiphertext("password"), ErrSOPSTampered},
		{"a ciphertext byte flipped, whole document", whole, SOPSYAML, flipCiphertext("kind"), ErrSOPSTampered},
		{"two encrypted values swapped", regex, SOPSYAML, swapValues("username", "password"), ErrSOPSTampered},
		{"an encrypted value replaced by a clear one", regex, SOPSYAML, replaceValue("password", "attacker-chosen"), ErrSOPSTampered},
		{"an encrypted value removed", regex, SOPSYAML, dropLine("password:"), ErrSOPSTampered},
		{"an encrypted value removed, mac_only_encrypted", macOnly, SOPSYAML, dropLine("password:"), ErrSOPSTampered},
		{"the encryption rule removed", regex, SOPSYAML, dropLine("encrypted_regex:"), ErrSOPSTampered},
		{"the encryption rule widened", regex, SOPSYAML, replace("encrypted_regex: ^(data|stringData)$", "encrypted_regex: ^(data|stringData|metadata)$"), ErrSOPSTampered},
		{"lastmodified changed", regex, SOPSYAML, replaceRE(`lastmodified: "[^"]+"`, `lastmodified: "2020-01-01T00:00:00Z"`), ErrSOPSTampered},
		{"the MAC removed", regex, SOPSYAML, dropLine("    mac:"), ErrSOPSTampered},
		{"the MAC emptied", regex, SOPSYAML, replaceRE(`mac: ENC\[[^\]]+\]`, `mac: ""`), ErrSOPSTampered},
		{"a json value flipped", jsonFile, SOPSJSON, flipCiphertext(`"a"`), ErrSOPSTampered},
		{"a json value swapped", jsonFile, SOPSJSON, swapValues(`"a"`, `"b"`), ErrSOPSTampered},
		{"the data key garbled", regex, SOPSYAML, replace("-----BEGIN AGE ENCRYPTED FILE-----\n", "-----BEGIN AGE ENCRYPTED FILE-----\n            !!!!\n"), ErrSOPSMalformed},
		{"encrypted only to pgp", regex, SOPSYAML, onlyPGP, ErrSOPSUnsupported},
		{"two rules", regex, SOPSYAML, replace("    encrypted_regex:", "    unencrypted_suffix: _x\n    encrypted_regex:"), ErrSOPSMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.edit(t, bytes.Clone(tt.file))
			if bytes.Equal(file, tt.file) {
				t.Fatal("the edit changed nothing")
			}
			out, err := DecryptSOPS(file, tt.format, ids)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v; output\n%s", err, tt.want, out)
			}
			checkNoPlaintext(t, err, []byte(secretYAML+"p4ss-w0rd-value app_user"))
			t.Logf("refused: %v", err)
		})
	}
}

// TestDecryptSOPSShamirUnsupported: a data key split over two key groups
// is refused clearly rather than misread.
func TestDecryptSOPSShamirUnsupported(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	file := sealtest.EncryptWithConfig(t, []byte(secretYAML), ".yaml",
		"creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: ["+k1.Recipient().String()+"]\n      - age: ["+k2.Recipient().String()+"]\n")
	_, err := DecryptSOPS(file, SOPSYAML, []age.Identity{k1.Identity, k2.Identity})
	if !errors.Is(err, ErrSOPSUnsupported) || !strings.Contains(err.Error(), "Shamir") {
		t.Fatalf("err = %v, want ErrSOPSUnsupported naming Shamir", err)
	}
}

// TestDecryptSOPSBounds: hostile sizes fail fast with ErrSOPSTooLarge.
func TestDecryptSOPSBounds(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 8 {
		name := fmt.Sprintf("l%d", i)
		bomb += fmt.Sprintf("%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	tests := []struct {
		name   string
		data   string
		format SOPSFormat
	}{
		{"over the size limit", "a: " + strings.Repeat("x", MaxSOPSSize), SOPSYAML},
		{"yaml nested too deep", "a: " + strings.Repeat("[", 200) + strings.Repeat("]", 200), SOPSYAML},
		{"yaml nested maps too deep", nestedMaps(150), SOPSYAML},
		{"json nested too deep", `{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "}", SOPSJSON},
		{"yaml alias expansion", bomb, SOPSYAML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := DecryptSOPS([]byte(tt.data), tt.format, fixtureIdentities(t))
			if !errors.Is(err, ErrSOPSTooLarge) {
				t.Fatalf("err = %v, want ErrSOPSTooLarge", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s to refuse", d)
			}
		})
	}
}

func nestedMaps(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	return b.String()
}

func TestDecryptSOPSMalformed(t *testing.T) {
	ids := fixtureIdentities(t)
	tests := []struct {
		name   string
		data   string
		format SOPSFormat
	}{
		{"a plain manifest", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", SOPSYAML},
		{"empty", "", SOPSYAML},
		{"sops is not a mapping", "a: b\nsops: 3\n", SOPSYAML},
		{"no keys", "a: b\nsops:\n  lastmodified: \"2026-01-01T00:00:00Z\"\n  mac: x\n", SOPSYAML},
		{"a list document", "- a\n", SOPSYAML},
		{"a duplicated key", "a: b\na: c\n", SOPSYAML},
		{"a non-string key", "1: b\n", SOPSYAML},
		{"bad lastmodified", "a: b\nsops:\n  lastmodified: yesterday\n", SOPSYAML},
		{"json array", "[1]", SOPSJSON},
		{"json trailing data", `{"a":1} {"b":2}`, SOPSJSON},
		{"json duplicated key", `{"a":1,"a":2}`, SOPSJSON},
		{"json truncated", `{"a":`, SOPSJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecryptSOPS([]byte(tt.data), tt.format, ids); !errors.Is(err, ErrSOPSMalformed) {
				t.Fatalf("err = %v, want ErrSOPSMalformed", err)
			}
		})
	}
}

func TestIsSOPS(t *testing.T) {
	for _, name := range []string{"secret-regex.sops.yaml", "secret-whole.sops.yaml", "multidoc-regex.sops.yaml", "types-whole.sops.yaml", "secret-whole.sops.json", "secret-regex.sops.json"} {
		if !IsSOPS(readFixture(t, name)) {
			t.Errorf("IsSOPS(%s) = false", name)
		}
	}
	minified, err := json.Marshal(parseDocs(t, readFixture(t, "secret-regex.sops.json"))[0])
	if err != nil {
		t.Fatal(err)
	}
	if !IsSOPS(minified) {
		t.Errorf("IsSOPS(minified JSON) = false")
	}
	for _, plain := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  note: we use sops for the mac build, lastmodified never\n",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  sops: here\n",
		readFixtureString(t, "secret.plain.yaml"),
	} {
		if IsSOPS([]byte(plain)) {
			t.Errorf("IsSOPS(%q) = true", plain)
		}
	}
}

func readFixtureString(t testing.TB, name string) string { return string(readFixture(t, name)) }

// Decrypted values print as *** however they are formatted.
func TestPlaintextDoesNotPrint(t *testing.T) {
	f, err := OpenSOPS(readFixture(t, "secret-regex.sops.yaml"), SOPSYAML, fixtureIdentities(t))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(f.Decrypted)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		fmt.Sprint(f.Decrypted), fmt.Sprintf("%v %+v %#v %s %q", f.Decrypted, f.Decrypted, f.Decrypted, f.Decrypted[0].Value, f.Decrypted[0].Value), string(js),
	} {
		if strings.Contains(s, "correct-horse") {
			t.Errorf("printed: %s", s)
		}
	}
}

// --- edits for the tamper tests; each fails the test if it finds nothing.

func replace(old, new string) func(*testing.T, []byte) []byte {
	return func(t *testing.T, b []byte) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%q not in\n%s", old, b)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

func replaceRE(re, new string) func(*testing.T, []byte) []byte {
	return func(t *testing.T, b []byte) []byte {
		r := regexp.MustCompile(re)
		if !r.Match(b) {
			t.Fatalf("%s not in\n%s", re, b)
		}
		return r.ReplaceAll(b, []byte(new))
	}
}

func dropLine(prefix string) func(*testing.T, []byte) []byte {
	return func(t *testing.T, b []byte) []byte {
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) || strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return []byte(strings.Join(append(lines[:i:i], lines[i+1:]...), "\n"))
			}
		}
		t.Fatalf("no line %q in\n%s", prefix, b)
		return nil
	}
}

var encValue = regexp.MustCompile(`ENC\[AES256_GCM,data:([^,]*),`)

// encSpan finds the first ENC[…] value of key (a YAML key, or a quoted
// JSON one) and returns where it is.
func encSpan(t *testing.T, b []byte, key string) (start, end int) {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(key) + `:\s*"?(ENC\[[^\]]+\])`)
	m := re.FindSubmatchIndex(b)
	if m == nil {
		t.Fatalf("no encrypted %s in\n%s", key, b)
	}
	return m[2], m[3]
}

func flipCiphertext(key string) func(*testing.T, []byte) []byte {
	return func(t *testing.T, b []byte) []byte {
		s, e := encSpan(t, b, key)
		enc := string(b[s:e])
		m := encValue.FindStringSubmatch(enc)
		data, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil || len(data) == 0 {
			t.Fatalf("ciphertext %q: %v", m[1], err)
		}
		data[0] ^= 1
		flipped := strings.Replace(enc, m[1], base64.StdEncoding.EncodeToString(data), 1)
		return append(append(append([]byte(nil), b[:s]...), flipped...), b[e:]...)
	}
}

func swapValues(a, b string) func(*testing.T, []byte) []byte {
	return func(t *testing.T, data []byte) []byte {
		as, ae := encSpan(t, data, a)
		bs, be := encSpan(t, data, b)
		va, vb := string(data[as:ae]), string(data[bs:be])
		if as > bs {
			as, ae, bs, be, va, vb = bs, be, as, ae, vb, va
		}
		out := string(data[:as]) + vb + string(data[ae:bs]) + va + string(data[be:])
		return []byte(out)
	}
}

func replaceValue(key, clear string) func(*testing.T, []byte) []byte {
	return func(t *testing.T, b []byte) []byte {
		s, e := encSpan(t, b, key)
		return append(append(append([]byte(nil), b[:s]...), clear...), b[e:]...)
	}
}

// onlyPGP turns the age key entry into a pgp one.
func onlyPGP(t *testing.T, b []byte) []byte {
	re := regexp.MustCompile(`(?s)    age:\n.*?recipient: age1[0-9a-z]+\n`)
	if !re.Match(b) {
		t.Fatalf("no age block in\n%s", b)
	}
	return re.ReplaceAll(b, []byte("    pgp:\n        - created_at: \"2026-01-01T00:00:00Z\"\n          enc: x\n          fp: ABCD\n"))
}
