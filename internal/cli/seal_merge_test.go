package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --merge-into seals the input's keys into an existing file: the lines of
// the other keys, the template and everything else stay byte for byte;
// the changed key's line changes and a new key's line appears in order.
func TestSealMergeInto(t *testing.T) {
	k := newAgeKey(t)
	first := writeFile(t, "s.yaml", `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: prod, labels: {app: db}}
stringData: {alpha: a1, charlie: c1, echo: e1}
`)
	sealed := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "-f", first).stdout
	// A comment a person added survives too.
	sealed = strings.Replace(sealed, "spec:\n", "spec:\n  # rotated quarterly\n", 1)
	file := writeMode(t, "db.sealed.yaml", sealed, 0o640)
	before := strings.Split(sealed, "\n")

	update := writeFile(t, "u.yaml", secretManifest("prod", "db", map[string]string{"charlie": "c2", "delta": "d1"}))
	r := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "--merge-into", file, "-f", update)
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing (the file is edited in place)", r.stdout)
	}
	wantContains(t, r.stderr, "sealed 2 keys into SealedSecret prod/db (1 added, 1 replaced)")
	after := readFile(t, file)
	lines := strings.Split(after, "\n")

	// Every line but charlie's is kept, and delta's is new, after charlie.
	var kept []string
	var charlie, delta int
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "    charlie: "):
			charlie = i
		case strings.HasPrefix(l, "    delta: "):
			delta = i
		default:
			kept = append(kept, l)
		}
	}
	var beforeKept []string
	for _, l := range before {
		if !strings.HasPrefix(l, "    charlie: ") {
			beforeKept = append(beforeKept, l)
		} else if strings.Contains(after, l) {
			t.Error("charlie's sealed value did not change")
		}
	}
	if strings.Join(kept, "\n") != strings.Join(beforeKept, "\n") {
		t.Errorf("lines other than charlie's and delta's changed:\nbefore:\n%s\nafter:\n%s", sealed, after)
	}
	if charlie == 0 || delta != charlie+1 {
		t.Errorf("charlie at line %d, delta at %d: want delta right after charlie", charlie, delta)
	}
	ss := parseSealed(t, after)
	for key, want := range map[string]string{"alpha": "a1", "charlie": "c2", "delta": "d1", "echo": "e1"} {
		if _, got := openWithAge(t, k.keyFile, ss.Spec.EncryptedData[key]); got != want {
			t.Errorf("%s: opened another value", key)
		}
	}
	if strings.Join(ss.Spec.Recipients, ",") != k.recipient {
		t.Errorf("recipients = %v, want them kept", ss.Spec.Recipients)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v (%v), want 0640 kept", info.Mode().Perm(), err)
	}

	// Sealed to another recipient now: spec.recipients no longer holds
	// for every key, so it goes, with advice.
	other := newAgeKey(t)
	r = mustCruise(t, 0, "seal", "--recipient", other.pubFile, "--merge-into", file, "-f", update)
	wantContains(t, r.stderr, "spec.recipients removed", "cruise seal --reencrypt")
	ss = parseSealed(t, readFile(t, file))
	if ss.Spec.Recipients != nil {
		t.Errorf("recipients = %v, want none (unknown)", ss.Spec.Recipients)
	}
	if _, got := openWithAge(t, other.keyFile, ss.Spec.EncryptedData["delta"]); got != "d1" {
		t.Error("delta does not open with the new recipient")
	}
}

// A name or namespace that differs, and a file without exactly one
// SealedSecret: exit code 2 and the file unchanged.
func TestSealMergeIntoBadInput(t *testing.T) {
	k := newAgeKey(t)
	sealed := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "-f",
		writeFile(t, "s.yaml", secretManifest("prod", "db", map[string]string{"a": "1"}))).stdout
	file := writeFile(t, "db.yaml", sealed)
	two := writeFile(t, "two.yaml", sealed+"---\n"+sealed)
	none := writeFile(t, "none.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	tests := []struct {
		name, into, input string
		want              string
	}{
		{"other name", file, secretManifest("prod", "cache", map[string]string{"a": "2"}),
			"is SealedSecret prod/db, the input is Secret prod/cache: the names must match"},
		{"other namespace", file, secretManifest("staging", "db", map[string]string{"a": "2"}),
			"is SealedSecret prod/db, the input is Secret staging/db"},
		{"two SealedSecrets", two, secretManifest("prod", "db", map[string]string{"a": "2"}), "holds 2 cruise SealedSecrets: want exactly one"},
		{"no SealedSecret", none, secretManifest("prod", "db", map[string]string{"a": "2"}), "holds 0 cruise SealedSecrets"},
		{"missing file", "/nonexistent/x.yaml", secretManifest("prod", "db", map[string]string{"a": "2"}), "--merge-into /nonexistent/x.yaml: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var was string
			if tt.into != "/nonexistent/x.yaml" {
				was = readFile(t, tt.into)
			}
			r := cruiseStdin(t, tt.input, "seal", "--recipient", k.pubFile, "--merge-into", tt.into)
			if r.code != 2 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q: want 2 and nothing", r.code, r.stdout)
			}
			wantContains(t, r.stderr, tt.want)
			if was != "" && readFile(t, tt.into) != was {
				t.Error("the file changed")
			}
		})
	}
}

// A symlink named with --merge-into is edited where it points; it stays
// a symlink.
func TestSealMergeIntoSymlink(t *testing.T) {
	k := newAgeKey(t)
	sealed := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "-f",
		writeFile(t, "s.yaml", secretManifest("prod", "db", map[string]string{"a": "1"}))).stdout
	real := writeFile(t, "db.yaml", sealed)
	link := filepath.Join(t.TempDir(), "link.yaml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	cruiseStdin(t, secretManifest("prod", "db", map[string]string{"b": "2"}), "seal", "--recipient", k.pubFile, "--merge-into", link)
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced (%v)", err)
	}
	if _, got := openWithAge(t, k.keyFile, parseSealed(t, readFile(t, real)).Spec.EncryptedData["b"]); got != "2" {
		t.Error("the file the symlink points to lacks the new key")
	}
}
