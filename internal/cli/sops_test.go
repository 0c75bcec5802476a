package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cruisegitops/cruise/internal/seal/sealtest"
)

// sopsPlain are the manifests before encryption; their values must never
// show in cruise's output.
const (
	sopsSecretPlain = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cret-push-password
`
	sopsConfigPlain = `apiVersion: v1
kind: ConfigMap
metadata:
  name: hidden
data:
  endpoint: https://s3cret-first.example
`
)

var pushSecrets = []string{"s3cret-push-password", "s3cret-first", "s3cret-second"}

func wantNoPlaintext(t *testing.T, r result) {
	t.Helper()
	for _, s := range pushSecrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("output shows %q:\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
}

func secretData(t *testing.T, ns, name string) map[string][]byte {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cs.CoreV1().Secrets(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	return s.Data
}

// TestSOPSPushMode: a directory of files the sops CLI encrypted goes to the
// cluster with cruise apply, keyed by --age-identity or by
// --decryption-secret, and cruise diff shows where values changed, never
// what they are.
func TestSOPSPushMode(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	identity, recipient := sealtest.AgeKeygen(t)
	idFile := writeFile(t, "keys.txt", string(identity))
	encrypt := func(plain string, args ...string) string {
		return string(sealtest.Encrypt(t, []byte(plain), ".yaml", []string{recipient}, args...))
	}
	dir := writeDir(t, map[string]string{
		"app/secret.yaml": encrypt(sopsSecretPlain, "--encrypted-regex", "^(data|stringData)$"),
		"app/hidden.yaml": encrypt(sopsConfigPlain),
		"app/open.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: open\ndata:\n  a: b\n",
	})
	src := []string{"--source", dir, "--path", "app"}

	// No key: refused, naming the file and the flags; nothing applied.
	r := mustCruise(t, 2, args([]string{"apply"}, src, target(ns, "app"))...)
	wantContains(t, r.stderr, "render: app/hidden.yaml: encrypted with sops", "--age-identity or --decryption-secret")
	wantNothingIn(t, ns)
	r = mustCruise(t, 2, args([]string{"build"}, src)...)
	wantContains(t, r.stderr, "encrypted with sops", "cruise build never decrypts")
	wantNoPlaintext(t, r)

	r = mustCruise(t, 1, args([]string{"diff", "--age-identity", idFile}, src, target(ns, "app"))...)
	wantContains(t, r.stdout, "ConfigMap/"+ns+"/hidden: missing from the cluster", "endpoint: '***'", "password: '***'")
	wantNoPlaintext(t, r)

	r = mustCruise(t, 0, args([]string{"apply", "--age-identity", idFile}, src, target(ns, "app"))...)
	wantLines(t, r.stdout, "Secret/"+ns+"/db created", "ConfigMap/"+ns+"/hidden created")
	wantNoPlaintext(t, r)
	if got := string(secretData(t, ns, "db")["password"]); got != "s3cret-push-password" {
		t.Errorf("password = %q", got)
	}
	if got := configMapData(t, ns, "hidden")["endpoint"]; got != "https://s3cret-first.example" {
		t.Errorf("endpoint = %q", got)
	}

	// The keys in a Secret of the cluster, as an Application's
	// spec.decryption has them.
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	keys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sops-age"}, Data: map[string][]byte{"identity.agekey": identity}}
	if _, err := cs.CoreV1().Secrets(ns).Create(t.Context(), keys, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(sopsConfigPlain, "s3cret-first", "s3cret-second", 1)
	if err := os.WriteFile(filepath.Join(dir, "app", "hidden.yaml"), []byte(encrypt(changed)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustCruise(t, 1, args([]string{"diff", "--decryption-secret", "sops-age"}, src, target(ns, "app"))...)
	wantContains(t, r.stdout, "-  endpoint: '*** (before)'", "+  endpoint: '*** (after)'", "1 of 3 objects drifted")
	wantNoPlaintext(t, r)
	r = mustCruise(t, 1, args([]string{"diff", "-o", "json", "--decryption-secret", ns + "/sops-age"}, src, target(ns, "app"))...)
	wantContains(t, r.stdout, `"inSync": false`)
	wantNoPlaintext(t, r)

	r = mustCruise(t, 0, args([]string{"apply", "--decryption-secret", ns + "/sops-age"}, src, target(ns, "app"))...)
	wantLines(t, r.stdout, "ConfigMap/"+ns+"/hidden configured")
	wantNoPlaintext(t, r)
	if got := configMapData(t, ns, "hidden")["endpoint"]; got != "https://s3cret-second.example" {
		t.Errorf("endpoint after the change = %q", got)
	}
}

// Bad decryption flags: exit 2, one message naming the culprit, nothing
// changed.
func TestSOPSPushModeErrors(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	_, recipient := sealtest.AgeKeygen(t)
	other, _ := sealtest.AgeKeygen(t)
	dir := writeDir(t, map[string]string{
		"secret.yaml": string(sealtest.Encrypt(t, []byte(sopsSecretPlain), ".yaml", []string{recipient})),
	})
	notKeys := writeFile(t, "notkeys.txt", "AGE-SECRET-KEY-1THISISNOTAKEYBUTLOOKSSECRET\n")
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"wrong key", []string{"--age-identity", writeFile(t, "other.txt", string(other))},
			"render: secret.yaml: sops: SOPS file is encrypted to none of the age identities given (the file's age recipients: " + recipient + ")"},
		{"identity file missing", []string{"--age-identity", "/nonexistent/keys.txt"}, "--age-identity /nonexistent/keys.txt: no such file or directory"},
		{"not an identity file", []string{"--age-identity", notKeys}, "--age-identity " + notKeys + ": not age identities"},
		{"Secret missing", []string{"--decryption-secret", "nope"}, "--decryption-secret: Secret " + ns + "/nope not found"},
		{"invalid Secret name", []string{"--decryption-secret", "Not_A_Name"}, `invalid --decryption-secret "Not_A_Name"`},
		{"invalid namespace", []string{"--decryption-secret", "Bad_NS/x"}, `invalid --decryption-secret "Bad_NS/x": namespace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cmd := range []string{"apply", "diff"} {
				r := mustCruise(t, 2, args([]string{cmd, "--source", dir}, tt.flags, target(ns, "app"))...)
				wantContains(t, r.stderr, tt.want)
				if strings.Contains(r.stderr, "THISISNOTAKEY") {
					t.Errorf("the message quotes the identity file: %s", r.stderr)
				}
				wantNoPlaintext(t, r)
			}
			wantNothingIn(t, ns)
		})
	}
}
