package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// TestSealedSecretsRecoveryDrill is the disaster the backup exists for.
// On cluster A the controller makes its key; a Secret is sealed to it with
// `cruise seal --cluster` and unsealed there; the keys are backed up to an
// offline age key. Cluster A is then gone: on a new, empty cluster B the
// keys are restored before any controller ran, a controller starts, and
// the same SealedSecret, as committed to Git, unseals to the same values.
func TestSealedSecretsRecoveryDrill(t *testing.T) {
	ctx := t.Context()
	keysNS := env.Namespace(t) // cluster A's keys, apart from other tests'
	ns := env.Namespace(t)
	startController(t, "--keys-namespace", keysNS)
	a := []string{"--kubeconfig", env.Cluster.Kubeconfig, "--keys-namespace", keysNS}
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		_, err := runCLI(t, nil, append([]string{"secrets", "pubkey"}, a...)...)
		return err == nil, err
	})

	secretYAML := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: " + ns +
		"\nstringData:\n  password: correct horse battery staple\n  user: app\n"
	sealed, err := runCLI(t, []byte(secretYAML), append([]string{"seal", "--cluster"}, a...)...)
	if err != nil {
		t.Fatal(err)
	}
	applySealed(t, k8s, sealed)
	waitUnsealed(t, k8s, ns, "db")

	dir := t.TempDir()
	offlineKey := filepath.Join(dir, "offline.key")
	if out, err := exec.Command("age-keygen", "-o", offlineKey).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v: %s", err, out)
	}
	pub, err := exec.Command("age-keygen", "-y", offlineKey).Output()
	if err != nil {
		t.Fatal(err)
	}
	offlinePub := filepath.Join(dir, "offline.pub")
	writeTestFile(t, offlinePub, pub)
	backup, err := runCLI(t, nil, append([]string{"secrets", "backup", "--recipient", offlinePub}, a...)...)
	if err != nil {
		t.Fatal(err)
	}
	backupFile := filepath.Join(dir, "keys.age")
	writeTestFile(t, backupFile, backup)

	// Cluster B: nothing on it but the CRDs.
	startCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := clustertest.Start(startCtx, devcluster.ProfileAPI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Cluster.Stop() })
	if err := clustertest.InstallCRDs(ctx, b.Config); err != nil {
		t.Fatal(err)
	}
	scheme, err := clustertest.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := client.New(b.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, nil, "secrets", "restore", "--identity", offlineKey, backupFile, "--kubeconfig", b.Cluster.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	startController(t, "--kubeconfig", b.Cluster.Kubeconfig)
	if err := kb.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	applySealed(t, kb, sealed)
	got := waitUnsealed(t, kb, ns, "db")
	if string(got.Data["password"]) != "correct horse battery staple" || string(got.Data["user"]) != "app" {
		t.Fatalf("cluster B unsealed other values (keys %v)", keysOf(got.Data))
	}
}

// runCLI runs bin/cruise with stdin; the error carries stderr.
func runCLI(t testing.TB, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(cruiseBinary(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &cliError{args: args, err: err, stderr: stderr.String()}
	}
	return out, nil
}

type cliError struct {
	args   []string
	err    error
	stderr string
}

func (e *cliError) Error() string {
	return "cruise " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

func writeTestFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// applySealed creates the SealedSecret `cruise seal` wrote.
func applySealed(t testing.TB, c client.Client, manifest []byte) {
	t.Helper()
	ss := &cruisev1.SealedSecret{}
	if err := yaml.UnmarshalStrict(manifest, ss); err != nil {
		t.Fatalf("cruise seal wrote %s: %v", manifest, err)
	}
	if err := c.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
}

// waitUnsealed waits for the SealedSecret's Unsealed and returns its
// Secret.
func waitUnsealed(t testing.TB, c client.Client, ns, name string) *corev1.Secret {
	t.Helper()
	key := types.NamespacedName{Namespace: ns, Name: name}
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		ss := &cruisev1.SealedSecret{}
		if err := c.Get(t.Context(), key, ss); err != nil {
			return false, err
		}
		return sealedReady(ss), fmt.Errorf("SealedSecret %s: %v", key, ss.Status.Conditions)
	})
	s := &corev1.Secret{}
	if err := c.Get(t.Context(), key, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSealedSecretsThroughPushMode: a SealedSecret deployed by `cruise
// apply` from CI is unsealed like any other; a key merged in with `cruise
// seal --merge-into` and applied again reaches the Secret; `cruise diff`
// of that change shows no value.
func TestSealedSecretsThroughPushMode(t *testing.T) {
	keysNS, ns := env.Namespace(t), env.Namespace(t)
	startController(t, "--keys-namespace", keysNS)
	kube := []string{"--kubeconfig", env.Cluster.Kubeconfig}
	keys := append([]string{"--keys-namespace", keysNS}, kube...)
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		_, err := runCLI(t, nil, append([]string{"secrets", "pubkey"}, keys...)...)
		return err == nil, err
	})
	dir := t.TempDir()
	file := filepath.Join(dir, "db.yaml")
	secret := func(data string) []byte {
		return []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: " + ns + "\nstringData:\n" + data)
	}
	sealed, err := runCLI(t, secret("  password: first-value\n"), append([]string{"seal", "--cluster"}, keys...)...)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, file, sealed)
	push := func(cmd string) []byte {
		t.Helper()
		out, err := runCLI(t, nil, append([]string{cmd, "--source", dir, "--name", "secrets", "-n", ns}, kube...)...)
		if err != nil && cmd == "apply" {
			t.Fatal(err)
		}
		return out
	}
	push("apply")
	waitUnsealed(t, k8s, ns, "db")

	if _, err := runCLI(t, secret("  token: second-value\n"), append([]string{"seal", "--cluster", "--merge-into", file}, keys...)...); err != nil {
		t.Fatal(err)
	}
	if diff := push("diff"); bytes.Contains(diff, []byte("second-value")) || bytes.Contains(diff, []byte("first-value")) || !bytes.Contains(diff, []byte("token")) {
		t.Fatalf("cruise diff shows a value, or not the new key:\n%s", diff)
	}
	push("apply")
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		s := &corev1.Secret{}
		if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: "db"}, s); err != nil {
			return false, err
		}
		return string(s.Data["token"]) == "second-value" && string(s.Data["password"]) == "first-value",
			fmt.Errorf("Secret keys %v", keysOf(s.Data))
	})
}
