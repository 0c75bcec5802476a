package cli_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/cli"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// secretKeyText matches an age secret key (not the "AGE-SECRET-KEY-1…"
// of messages).
var secretKeyText = regexp.MustCompile(`AGE-SECRET-KEY-1[0-9A-Z]{20}`)

// cruiseStdin runs the command line in-process with stdin, reporting the
// exit code and error line as Run does.
func cruiseStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	root := cli.NewRootCommand(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	code := 0
	if err := root.ExecuteContext(ctx); err != nil {
		code = 1
		var ee *cli.ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		fmt.Fprintf(&errOut, "Error: %v\n", err)
	}
	t.Logf("cruise %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return result{code, out.String(), errOut.String()}
}

// ageKey is an identity made by age-keygen, with its recipients file made
// by age-keygen -y: what a user of the age CLI has.
type ageKey struct {
	keyFile, pubFile, recipient string
}

func newAgeKey(t *testing.T) ageKey {
	t.Helper()
	keygen, err := exec.LookPath("age-keygen")
	if err != nil {
		t.Fatal("age-keygen not found: run make test-deps (installs Debian's age package)")
	}
	dir := t.TempDir()
	k := ageKey{keyFile: filepath.Join(dir, "key.txt"), pubFile: filepath.Join(dir, "key.pub")}
	if out, err := exec.Command(keygen, "-o", k.keyFile).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v\n%s", err, out)
	}
	pub, err := exec.Command(keygen, "-y", k.keyFile).Output()
	if err != nil {
		t.Fatalf("age-keygen -y: %v", err)
	}
	k.recipient = strings.TrimSpace(string(pub))
	if err := os.WriteFile(k.pubFile, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// identities parses the key file as cruise does.
func (k ageKey) key(t *testing.T) seal.Key {
	t.Helper()
	f, err := os.Open(k.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := seal.ParseKeys(f, time.Time{})
	if err != nil || len(keys) != 1 {
		t.Fatalf("parse %s: %v", k.keyFile, err)
	}
	return keys[0]
}

// envelope is the plaintext of a sealed value, as jq would see it.
type envelope struct {
	Scope     string `json:"scope"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"`
	Value     string `json:"value"`
}

// openWithAge decrypts one spec.encryptedData value with the age CLI and
// keyFile alone: base64 -d | age -d -i keyFile, then the JSON envelope,
// whose value is base64 again.
func openWithAge(t *testing.T, keyFile, b64 string) (envelope, string) {
	t.Helper()
	ageBin, err := exec.LookPath("age")
	if err != nil {
		t.Fatal("age not found: run make test-deps (installs Debian's age package)")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("value is not standard base64: %v", err)
	}
	cmd := exec.Command(ageBin, "-d", "-i", keyFile)
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	plain, err := cmd.Output()
	if err != nil {
		t.Fatalf("age -d -i %s: %v: %s", keyFile, err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	var env envelope
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("the envelope is not the documented JSON: %v", err)
	}
	value, err := base64.StdEncoding.DecodeString(env.Value)
	if err != nil {
		t.Fatalf("envelope value is not base64: %v", err)
	}
	return env, string(value)
}

// ageFails reports whether age -d -i keyFile refuses the value.
func ageFails(t *testing.T, keyFile, b64 string) bool {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(b64)
	cmd := exec.Command("age", "-d", "-i", keyFile)
	cmd.Stdin = bytes.NewReader(raw)
	return cmd.Run() != nil
}

// parseSealed reads a SealedSecret as kubectl would.
func parseSealed(t *testing.T, doc string) *v1alpha1.SealedSecret {
	t.Helper()
	ss := &v1alpha1.SealedSecret{}
	if err := sigsyaml.UnmarshalStrict([]byte(doc), ss); err != nil {
		t.Fatalf("not a SealedSecret: %v\n%s", err, doc)
	}
	if ss.APIVersion != "cruise.dev/v1alpha1" || ss.Kind != "SealedSecret" {
		t.Fatalf("apiVersion %q kind %q", ss.APIVersion, ss.Kind)
	}
	return ss
}

// secretManifest is a v1 Secret with stringData, as kubectl create secret
// --dry-run=client -o yaml writes (data, base64) plus stringData.
func secretManifest(ns, name string, values map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: Opaque\nstringData:\n", name, ns)
	for k, v := range values {
		fmt.Fprintf(&b, "  %s: %q\n", k, v)
	}
	return b.String()
}

// keysClient is an administrator's client of the test cluster.
func keysClient(t *testing.T, cfgPath string) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storeKeys adds keys to the sealing keys in ns of the test cluster, as
// the controller would have.
func storeKeys(t *testing.T, ns string, keys ...seal.Key) {
	t.Helper()
	if _, _, err := (sealkeys.Store{Client: keysClient(t, env.Cluster.Kubeconfig), Namespace: ns}).Add(t.Context(), keys...); err != nil {
		t.Fatal(err)
	}
}

// genKey makes a key created at when.
func genKey(t *testing.T, when time.Time) seal.Key {
	t.Helper()
	k, err := seal.GenerateKey(when)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// kubeconfigAs is the test cluster's kubeconfig impersonating user, who
// gets only what RBAC grants system:authenticated and user.
func kubeconfigAs(t *testing.T, user string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(env.Cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range cfg.AuthInfos {
		ai.Impersonate = user
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// keysFlags point the sealing commands at the keys in ns.
func keysFlags(ns string) []string {
	return []string{"--kubeconfig", env.Cluster.Kubeconfig, "--keys-namespace", ns}
}
