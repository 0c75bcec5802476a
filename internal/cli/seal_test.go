package cli_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/seal"
)

// No lock-in: a value cruise seal wrote to a recipient made by
// age-keygen -y opens with `age -d -i key.txt` and a JSON parser alone,
// and its envelope binds the scope, namespace, name and key.
func TestSealAgeInterop(t *testing.T) {
	k := newAgeKey(t)
	in := writeFile(t, "secret.yaml", `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels: {app: db}
  annotations: {owner: team-a}
type: kubernetes.io/basic-auth
data:
  username: YWRtaW4=
stringData:
  password: "hunter2 with spaces\nand a newline"
`)
	r := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "-f", in)
	if strings.Contains(r.stdout+r.stderr, "hunter2") || strings.Contains(r.stdout, "YWRtaW4=") {
		t.Fatal("a value was printed in clear")
	}
	ss := parseSealed(t, r.stdout)
	if ss.Name != "db" || ss.Namespace != "prod" || len(ss.Labels) != 0 || len(ss.Annotations) != 0 {
		t.Errorf("metadata = %+v, want name and namespace only", ss.ObjectMeta)
	}
	tpl := ss.Spec.Template
	if tpl.Type != "kubernetes.io/basic-auth" || tpl.Metadata.Labels["app"] != "db" || tpl.Metadata.Annotations["owner"] != "team-a" {
		t.Errorf("template = %+v", tpl)
	}
	if strings.Join(ss.Spec.Recipients, ",") != k.recipient {
		t.Errorf("recipients = %v, want [%s]", ss.Spec.Recipients, k.recipient)
	}
	want := map[string]string{"username": "admin", "password": "hunter2 with spaces\nand a newline"}
	if len(ss.Spec.EncryptedData) != len(want) {
		t.Fatalf("encryptedData has %d keys, want %d", len(ss.Spec.EncryptedData), len(want))
	}
	for key, value := range want {
		env, got := openWithAge(t, k.keyFile, ss.Spec.EncryptedData[key])
		if got != value {
			t.Errorf("%s: age opened another value", key)
		}
		if env != (envelope{Scope: "strict", Namespace: "prod", Name: "db", Key: key, Value: env.Value}) {
			t.Errorf("%s: envelope %+v", key, envelope{Scope: env.Scope, Namespace: env.Namespace, Name: env.Name, Key: env.Key})
		}
		// And the way the controller opens it.
		raw, _ := base64.StdEncoding.DecodeString(ss.Spec.EncryptedData[key])
		if v, err := seal.Open(raw, seal.Target{Namespace: "prod", Name: "db", Key: key}, k.key(t).Identity); err != nil || string(v) != value {
			t.Errorf("%s: seal.Open: %v", key, err)
		}
	}

	// The same from stdin, as in kubectl create secret … -o yaml | cruise seal.
	r = cruiseStdin(t, readFile(t, in), "seal", "--recipient", k.pubFile)
	if r.code != 0 {
		t.Fatalf("from stdin: exit %d: %s", r.code, r.stderr)
	}
	if _, got := openWithAge(t, k.keyFile, parseSealed(t, r.stdout).Spec.EncryptedData["username"]); got != "admin" {
		t.Error("from stdin: wrong value")
	}
}

// A recovery recipient opens every value too, offline; both are recorded.
func TestSealRecoveryRecipient(t *testing.T) {
	cluster, offline, stranger := newAgeKey(t), newAgeKey(t), newAgeKey(t)
	in := writeFile(t, "s.yaml", secretManifest("prod", "api", map[string]string{"token": "t0k3n", "other": "o"}))
	r := mustCruise(t, 0, "seal", "--recipient", cluster.pubFile, "--recovery-recipient", offline.pubFile, "-f", in)
	ss := parseSealed(t, r.stdout)
	wantSet := []string{cluster.recipient, offline.recipient}
	if wantSet[0] > wantSet[1] {
		wantSet[0], wantSet[1] = wantSet[1], wantSet[0]
	}
	if strings.Join(ss.Spec.Recipients, ",") != strings.Join(wantSet, ",") {
		t.Errorf("recipients = %v, want the sorted set %v", ss.Spec.Recipients, wantSet)
	}
	for _, id := range []ageKey{cluster, offline} {
		if _, v := openWithAge(t, id.keyFile, ss.Spec.EncryptedData["token"]); v != "t0k3n" {
			t.Errorf("%s opened another value", id.keyFile)
		}
	}
	if !ageFails(t, stranger.keyFile, ss.Spec.EncryptedData["token"]) {
		t.Error("a third identity opened the value")
	}
}

// The scope is inside the envelope: namespace-wide drops the name,
// cluster-wide the namespace too.
func TestSealScopes(t *testing.T) {
	k := newAgeKey(t)
	in := writeFile(t, "s.yaml", secretManifest("prod", "api", map[string]string{"token": "x"}))
	for scope, want := range map[string]envelope{
		"namespace-wide": {Scope: "namespace-wide", Namespace: "prod", Key: "token"},
		"cluster-wide":   {Scope: "cluster-wide", Key: "token"},
	} {
		r := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "--scope", scope, "-f", in)
		env, _ := openWithAge(t, k.keyFile, parseSealed(t, r.stdout).Spec.EncryptedData["token"])
		env.Value = ""
		if env != want {
			t.Errorf("--scope %s: envelope %+v, want %+v", scope, env, want)
		}
	}
}

// The layout is fixed: sealing twice gives the same lines but for the
// values, keys sorted, one a line.
func TestSealLayoutIsStable(t *testing.T) {
	k := newAgeKey(t)
	in := writeFile(t, "s.yaml", secretManifest("prod", "api", map[string]string{"zeta": "1", "alpha": "2", "mid": "3"}))
	value := regexp.MustCompile(`(?m)^(    [a-z]+): YWdl[A-Za-z0-9+/=]+$`)
	first := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "-f", in).stdout
	second := mustCruise(t, 0, "seal", "--recipient", k.pubFile, "-f", in).stdout
	if first == second {
		t.Fatal("two seals gave the same ciphertexts")
	}
	mask := func(s string) string { return value.ReplaceAllString(s, "$1: …") }
	if mask(first) != mask(second) {
		t.Errorf("layouts differ:\n%s\n%s", mask(first), mask(second))
	}
	want := "apiVersion: cruise.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: api\n  namespace: prod\nspec:\n" +
		"  encryptedData:\n    alpha: …\n    mid: …\n    zeta: …\n  template:\n    type: Opaque\n  recipients:\n    - " + k.recipient + "\n"
	if mask(first) != want {
		t.Errorf("layout:\n%s\nwant:\n%s", mask(first), want)
	}
}

// Bad input of every kind: exit code 2, one "Error: " line naming the
// culprit and no value, nothing on stdout.
func TestSealBadInput(t *testing.T) {
	k := newAgeKey(t)
	good := writeFile(t, "s.yaml", secretManifest("prod", "db", map[string]string{"password": "hunter2"}))
	badRecipients := writeFile(t, "bad.pub", "# ours\n"+k.recipient+"\nage1notarecipient\n")
	secretKeyAsRecipient := writeFile(t, "leak.pub", readFile(t, k.keyFile))
	big := writeFile(t, "big.yaml", strings.Repeat("# padding\n", 500_000))
	emptyNS := env.Namespace(t)
	doc := func(body string) string { return writeFile(t, "in.yaml", body) }
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  []string
	}{
		{"bad recipient", []string{"--recipient", badRecipients, "-f", good}, "",
			[]string{"--recipient " + badRecipients, `line 3: "age1notarecipient" is not an age X25519 recipient`}},
		{"bad recovery recipient", []string{"--recipient", k.pubFile, "--recovery-recipient", badRecipients, "-f", good}, "",
			[]string{"--recovery-recipient " + badRecipients, "line 3"}},
		{"secret key as recipient", []string{"--recipient", secretKeyAsRecipient, "-f", good}, "",
			[]string{"a secret key, not a recipient"}},
		{"missing recipients file", []string{"--recipient", "/nonexistent/r.pub", "-f", good}, "",
			[]string{"--recipient /nonexistent/r.pub: no such file or directory"}},
		{"no recipient", []string{"-f", good}, "", []string{"give exactly one of --recipient FILE and --cluster"}},
		{"recipient and cluster", []string{"--recipient", k.pubFile, "--cluster", "-f", good}, "", []string{"give exactly one of --recipient FILE and --cluster"}},
		{"unknown scope", []string{"--recipient", k.pubFile, "--scope", "global", "-f", good}, "", []string{`--scope: unknown scope "global"`}},
		{"a List", []string{"--recipient", k.pubFile, "-f", doc("apiVersion: v1\nkind: List\nitems: []\n")}, "", []string{"the input is a List: want exactly one v1 Secret"}},
		{"two documents", []string{"--recipient", k.pubFile}, secretManifest("a", "b", map[string]string{"k": "v"}) + "---\n" + secretManifest("a", "c", map[string]string{"k": "v"}),
			[]string{"the input holds 2 documents"}},
		{"a ConfigMap", []string{"--recipient", k.pubFile}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata: {k: v}\n",
			[]string{`the input is kind "ConfigMap": want a v1 Secret`}},
		{"v2", []string{"--recipient", k.pubFile}, "apiVersion: v2\nkind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {k: v}\n",
			[]string{`apiVersion "v2": want v1`}},
		{"missing name", []string{"--recipient", k.pubFile}, "apiVersion: v1\nkind: Secret\nmetadata: {namespace: b}\nstringData: {k: hunter2}\n",
			[]string{"no metadata.name"}},
		{"missing namespace", []string{"--recipient", k.pubFile}, "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {k: hunter2}\n",
			[]string{"Secret a has no metadata.namespace"}},
		{"malformed YAML", []string{"--recipient", k.pubFile}, "apiVersion: v1\nkind: Secret\nmetadata: {name: a\n", []string{"not YAML or JSON"}},
		{"malformed JSON", []string{"--recipient", k.pubFile}, `{"apiVersion": "v1", "kind": "Secret",`, []string{"not YAML or JSON"}},
		{"value not base64", []string{"--recipient", k.pubFile}, "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\ndata: {k: hunter2!}\n",
			[]string{`data key "k" is not standard base64`}},
		{"empty input", []string{"--recipient", k.pubFile}, "", []string{"the input holds no document"}},
		{"input too large", []string{"--recipient", k.pubFile, "-f", big}, "", []string{"-f " + big + ": over"}},
		{"missing input file", []string{"--recipient", k.pubFile, "-f", "/nonexistent/s.yaml"}, "", []string{"-f /nonexistent/s.yaml: no such file or directory"}},
		{"identity without reencrypt", []string{"--recipient", k.pubFile, "--identity", k.keyFile, "-f", good}, "", []string{"--identity is for --reencrypt only"}},
		{"reencrypt with -f", []string{"--recipient", k.pubFile, "--reencrypt", t.TempDir(), "-f", good}, "", []string{"it takes no -f or --merge-into"}},
		{"reencrypt with scope", []string{"--recipient", k.pubFile, "--reencrypt", t.TempDir(), "--scope", "strict"}, "", []string{"it takes no --scope"}},
		{"recipients from stdin", []string{"--recipient", "-", "-f", good}, "", []string{"--recipient -: stdin is not read here"}},
		{"positional argument", []string{"--recipient", k.pubFile, good}, "", []string{"unexpected argument", "goes in -f FILE or stdin"}},
		{"cluster without a key", append([]string{"--cluster", "-f", good}, keysFlags(emptyNS)...), "", []string{"the cluster has no sealing key yet"}},
		{"bad keys namespace", append([]string{"--cluster", "-f", good}, keysFlags("Bad_NS")...), "", []string{`invalid --keys-namespace "Bad_NS"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cruiseStdin(t, tt.stdin, append([]string{"seal"}, tt.args...)...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout is not empty: %q", r.stdout)
			}
			if !strings.HasPrefix(r.stderr, "Error: ") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line starting with Error: ", r.stderr)
			}
			wantContains(t, r.stderr, tt.want...)
			if strings.Contains(r.stderr, "hunter2") || secretKeyText.MatchString(r.stderr) {
				t.Errorf("a secret was printed: %s", r.stderr)
			}
		})
	}
}

// --cluster seals to the newest published key, read as any user may.
func TestSealCluster(t *testing.T) {
	ns := env.Namespace(t)
	now := time.Now()
	older, newer := genKey(t, now.Add(-time.Hour)), genKey(t, now)
	storeKeys(t, ns, newer, older)
	in := writeFile(t, "s.yaml", secretManifest("prod", "api", map[string]string{"token": "x"}))
	r := mustCruise(t, 0, append([]string{"seal", "--cluster", "-f", in}, keysFlags(ns)...)...)
	ss := parseSealed(t, r.stdout)
	if strings.Join(ss.Spec.Recipients, ",") != newer.Recipient().String() {
		t.Errorf("recipients = %v, want the newest key %s", ss.Spec.Recipients, newer.Recipient())
	}
	raw, _ := base64.StdEncoding.DecodeString(ss.Spec.EncryptedData["token"])
	if _, err := seal.Open(raw, seal.Target{Namespace: "prod", Name: "api", Key: "token"}, older.Identity); err == nil {
		t.Error("the older key opens the value")
	}
	if v, err := seal.Open(raw, seal.Target{Namespace: "prod", Name: "api", Key: "token"}, newer.Identity); err != nil || string(v) != "x" {
		t.Errorf("the newest key does not open the value: %v", err)
	}
}

// writeMode writes content to a new file with mode perm.
func writeMode(t *testing.T, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	return p
}
