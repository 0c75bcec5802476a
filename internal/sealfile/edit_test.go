package sealfile_test

import (
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/sealfile"
)

// Edits in place: testdata/edit/<scenario>/in.yaml edited by the
// scenario's operations must give want.yaml byte for byte. Layouts edited
// line by line keep every other byte (comments, indentation, quoting,
// other documents); the others are rewritten whole and say so.
func TestFileEdit(t *testing.T) {
	tests := []struct {
		scenario    string
		edit        func(d *sealfile.Doc)
		reformatted bool
	}{
		{"canonical", func(d *sealfile.Doc) {
			d.SetValue("c", "NEWC")
			d.SetValue("f", "NEWF")
			d.SetValue("b", "NEWB")
			d.DropRecipients()
		}, false},
		{"hand-written", func(d *sealfile.Doc) {
			d.SetValue("password", "NEWP")
			d.SetValue("token", "NEWT")
			d.SetRecipients([]string{"age1one"})
		}, false},
		{"replace-recipients", func(d *sealfile.Doc) {
			d.SetValue("a", "NEWA")
			d.SetRecipients([]string{"age1other", "age1new"})
		}, false},
		{"crlf", func(d *sealfile.Doc) {
			d.SetValue("a", "NEWA")
			d.SetValue("b", "NEWB")
		}, false},
		{"no-final-newline", func(d *sealfile.Doc) { d.SetValue("b", "NEWB") }, false},
		{"flow", func(d *sealfile.Doc) { d.SetValue("b", "NEWB") }, true},
		{"block-scalar-last", func(d *sealfile.Doc) { d.SetValue("b", "NEWB") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			f, err := sealfile.ParseFile(readTestdata(t, "edit", tt.scenario, "in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			docs := f.SealedSecrets()
			if len(docs) != 1 || docs[0].Name != "db" || docs[0].Namespace != "prod" {
				t.Fatalf("found %d SealedSecrets, want db in prod", len(docs))
			}
			tt.edit(docs[0])
			got, reformatted, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if reformatted != tt.reformatted {
				t.Errorf("reformatted = %v, want %v", reformatted, tt.reformatted)
			}
			if want := string(readTestdata(t, "edit", tt.scenario, "want.yaml")); string(got) != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestFileRecipientsAndData(t *testing.T) {
	f, err := sealfile.ParseFile(readTestdata(t, "edit", "canonical", "in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := f.SealedSecrets()[0]
	if rs, ok := d.Recipients(); !ok || strings.Join(rs, ",") != "age1one,age1two" {
		t.Errorf("recipients = %v %v", rs, ok)
	}
	if data := d.EncryptedData(); len(data) != 3 || data["c"] != "CCCC" {
		t.Errorf("encryptedData = %v", data)
	}
	if got, reformatted, err := f.Bytes(); err != nil || reformatted || string(got) != string(readTestdata(t, "edit", "canonical", "in.yaml")) {
		t.Errorf("an unedited file changed (reformatted %v, error %v)", reformatted, err)
	}
	if f.Changed() {
		t.Error("Changed without an edit")
	}
}

// Bitnami's SealedSecrets (group bitnami.com) are not cruise's.
func TestFileIgnoresOtherGroups(t *testing.T) {
	f, err := sealfile.ParseFile(readTestdata(t, "edit", "bitnami", "in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.SealedSecrets()); n != 0 {
		t.Errorf("found %d SealedSecrets in a bitnami.com one", n)
	}
}

func TestParseFileBadSealedSecret(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no namespace", "apiVersion: cruise.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: a}\nspec: {encryptedData: {}}\n",
			"has no metadata.name or metadata.namespace"},
		{"no encryptedData", "apiVersion: cruise.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec: {}\n",
			"SealedSecret b/a (line 1) has no spec.encryptedData mapping"},
		{"nested value", "apiVersion: cruise.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec:\n  encryptedData:\n    k: {x: y}\n",
			"SealedSecret b/a: spec.encryptedData (line 6) must map keys to strings"},
		{"not YAML", "kind: SealedSecret\n\tbad", "not YAML or JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sealfile.ParseFile([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
