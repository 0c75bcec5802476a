package cli_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// pubkey prints exactly one line, the newest key; a user who may read
// only the public ConfigMap can run it.
func TestSecretsPubkey(t *testing.T) {
	ns := env.Namespace(t)
	r := mustCruise(t, 2, append([]string{"secrets", "pubkey"}, keysFlags(ns)...)...)
	wantContains(t, r.stderr, "the cluster has no sealing key yet", "cruise secrets restore")

	now := time.Now()
	older, newer := genKey(t, now.Add(-48*time.Hour)), genKey(t, now)
	storeKeys(t, ns, newer, older)
	r = mustCruise(t, 0, append([]string{"secrets", "pubkey"}, keysFlags(ns)...)...)
	if want := newer.Recipient().String() + "\n"; r.stdout != want {
		t.Errorf("stdout = %q, want exactly %q", r.stdout, want)
	}

	// Any authenticated user, given the ConfigMap's read rule (the
	// installation grants it to system:authenticated).
	user := "frank"
	mustCruise(t, 2, "secrets", "pubkey", "--kubeconfig", kubeconfigAs(t, user), "--keys-namespace", ns)
	allowPublicKey(t, ns)
	r = mustCruise(t, 0, "secrets", "pubkey", "--kubeconfig", kubeconfigAs(t, user), "--keys-namespace", ns)
	if r.stdout != newer.Recipient().String()+"\n" {
		t.Errorf("as %s: stdout = %q", user, r.stdout)
	}
	mustCruise(t, 2, "secrets", "pubkey", "extra")
	mustCruise(t, 2, "secrets")
	mustCruise(t, 2, "secrets", "pubkeys")
}

// A recovery drill: back the keys up from one cluster, restore them into
// a fresh one on which no controller ever ran; pubkey there prints the
// newest restored key, and values sealed on the old cluster open with the
// restored keys. The backup is an age file `age -d` opens.
func TestSecretsBackupRestore(t *testing.T) {
	ns := env.Namespace(t)
	now := time.Now().UTC().Truncate(time.Second)
	older, newer := genKey(t, now.Add(-720*time.Hour)), genKey(t, now)
	storeKeys(t, ns, older, newer)
	offline := newAgeKey(t)

	for _, armor := range []bool{false, true} {
		args := append([]string{"secrets", "backup", "--recipient", offline.pubFile}, keysFlags(ns)...)
		if armor {
			args = append(args, "--armor")
		}
		r := mustCruise(t, 0, args...)
		if secretKeyText.MatchString(r.stdout + r.stderr) {
			t.Fatal("a key was printed unencrypted")
		}
		if armor != strings.HasPrefix(r.stdout, "-----BEGIN AGE ENCRYPTED FILE-----") {
			t.Errorf("--armor %v: output starts %q", armor, r.stdout[:min(len(r.stdout), 40)])
		}
		backup := writeFile(t, "backup.age", r.stdout)

		// age alone opens it: an identity file with both keys, dated.
		out, err := exec.Command("age", "-d", "-i", offline.keyFile, backup).Output()
		if err != nil {
			t.Fatalf("age -d: %v", err)
		}
		keys, err := seal.ParseKeys(bytes.NewReader(out), time.Time{})
		if err != nil || len(keys) != 2 || keys[0].Identity.String() != older.Identity.String() ||
			!keys[0].Created.Equal(older.Created) || !keys[1].Created.Equal(newer.Created) {
			t.Fatalf("the backup holds %d keys (%v), want both, dated, oldest first", len(keys), err)
		}

		// A fresh API server: restore creates cruise-system and the Secret.
		fresh := startFreshCluster(t)
		flags := []string{"--kubeconfig", fresh.Cluster.Kubeconfig}
		mustCruise(t, 2, append([]string{"secrets", "pubkey"}, flags...)...)
		r = mustCruise(t, 0, append([]string{"secrets", "restore", "--identity", offline.keyFile, backup}, flags...)...)
		wantContains(t, r.stdout, "restored 2 keys (2 added, 0 already present)", "published: "+newer.Recipient().String())
		r = mustCruise(t, 0, append([]string{"secrets", "pubkey"}, flags...)...)
		if r.stdout != newer.Recipient().String()+"\n" {
			t.Errorf("pubkey after restore = %q, want the newest restored key", r.stdout)
		}
		ring, err := sealkeys.Store{Client: keysClient(t, fresh.Cluster.Kubeconfig)}.Load(t.Context())
		if err != nil || ring.Len() != 2 {
			t.Fatalf("the fresh cluster holds %d keys (%v)", ring.Len(), err)
		}
		r = mustCruise(t, 0, append([]string{"secrets", "restore", "--identity", offline.keyFile, backup}, flags...)...)
		wantContains(t, r.stdout, "restored 2 keys (0 added, 2 already present)")
		if armor {
			break
		}
		// From stdin too.
		r = cruiseStdin(t, readFile(t, backup), append([]string{"secrets", "restore", "--identity", offline.keyFile, "-"}, flags...)...)
		if r.code != 0 {
			t.Errorf("restore from stdin: exit %d", r.code)
		}
	}
}

// With a newer key in the cluster, a restore keeps publishing it.
func TestSecretsRestoreKeepsNewerKey(t *testing.T) {
	from, to := env.Namespace(t), env.Namespace(t)
	now := time.Now()
	restored, newest := genKey(t, now.Add(-time.Hour)), genKey(t, now)
	storeKeys(t, from, restored)
	storeKeys(t, to, newest)
	pass := writeFile(t, "pass", "correct horse battery staple\n")
	backup := writeFile(t, "b.age", mustCruise(t, 0, append([]string{"secrets", "backup", "--passphrase-file", pass}, keysFlags(from)...)...).stdout)
	wrong := writeFile(t, "wrong", "correct horse battery stapler\n")
	r := mustCruise(t, 2, append([]string{"secrets", "restore", "--passphrase-file", wrong, backup}, keysFlags(to)...)...)
	wantContains(t, r.stderr, "BACKUP "+backup, "incorrect passphrase")
	r = mustCruise(t, 0, append([]string{"secrets", "restore", "--passphrase-file", pass, backup}, keysFlags(to)...)...)
	wantContains(t, r.stdout, "1 added", "the cluster holds 2 keys", "published: "+newest.Recipient().String())
	r = mustCruise(t, 0, append([]string{"secrets", "pubkey"}, keysFlags(to)...)...)
	if r.stdout != newest.Recipient().String()+"\n" {
		t.Errorf("pubkey = %q, want the newer key", r.stdout)
	}
}

// Bad input: exit code 2, no key printed, nothing written.
func TestSecretsBadInput(t *testing.T) {
	ns, empty, target := env.Namespace(t), env.Namespace(t), "restore-target-"+strings.ToLower(t.Name()[len(t.Name())-5:])
	storeKeys(t, ns, genKey(t, time.Now()))
	offline, stranger := newAgeKey(t), newAgeKey(t)
	pass := writeFile(t, "pass", "secret phrase\n")
	backup := writeFile(t, "b.age", mustCruise(t, 0, append([]string{"secrets", "backup", "--recipient", offline.pubFile}, keysFlags(ns)...)...).stdout)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"backup without a recipient", []string{"backup"}, "give exactly one of --recipient FILE and --passphrase-file FILE"},
		{"backup with both", []string{"backup", "--recipient", offline.pubFile, "--passphrase-file", pass}, "give exactly one of"},
		{"backup to a bad recipient", []string{"backup", "--recipient", writeFile(t, "r", "age1nope\n")}, `line 1: "age1nope" is not an age X25519 recipient`},
		{"backup with an empty passphrase", []string{"backup", "--passphrase-file", writeFile(t, "p", "\nsecond line\n")}, "the first line is empty"},
		{"backup of no keys", append([]string{"backup", "--recipient", offline.pubFile}, "--keys-namespace", empty), "the cluster has no sealing keys"},
		{"backup without rights", []string{"backup", "--recipient", offline.pubFile, "--kubeconfig", kubeconfigAs(t, "mallory")},
			"needs get on Secret " + ns + "/cruise-sealing-keys"},
		{"restore without BACKUP", []string{"restore", "--identity", offline.keyFile}, "one BACKUP file expected, got 0"},
		{"restore without identity", []string{"restore", backup}, "give exactly one of --identity FILE and --passphrase-file FILE"},
		{"restore with the wrong identity", []string{"restore", "--identity", stranger.keyFile, backup}, "identity did not match any of the recipients"},
		{"restore with a passphrase", []string{"restore", "--passphrase-file", pass, backup}, "BACKUP " + backup},
		{"restore garbage", []string{"restore", "--identity", offline.keyFile, writeFile(t, "g", "not age\n")}, "BACKUP"},
		{"restore an age file of no keys", []string{"restore", "--identity", offline.keyFile, ageEncrypt(t, offline.pubFile, "hello\n")},
			"the decrypted backup: line 1: not an age X25519 identity"},
		{"restore a missing file", []string{"restore", "--identity", offline.keyFile, "/nonexistent/b.age"}, "BACKUP /nonexistent/b.age: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := append([]string{"secrets"}, tt.args...)
			if !strings.Contains(strings.Join(a, " "), "--kubeconfig") {
				a = append(a, "--kubeconfig", env.Cluster.Kubeconfig)
			}
			if !strings.Contains(strings.Join(a, " "), "--keys-namespace") {
				if tt.args[0] == "restore" {
					a = append(a, "--keys-namespace", target)
				} else {
					a = append(a, "--keys-namespace", ns)
				}
			}
			r := mustCruise(t, 2, a...)
			wantContains(t, r.stderr, "Error: ", tt.want)
			if r.stdout != "" || secretKeyText.MatchString(r.stderr) || strings.Contains(r.stderr, "secret phrase") {
				t.Errorf("stdout %q, stderr %q: want nothing on stdout and no secret", r.stdout, r.stderr)
			}
		})
	}
	// No failed restore created anything.
	if _, err := env.Client.CoreV1().Namespaces().Get(t.Context(), target, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s: %v, want it never created", target, err)
	}
}

// allowPublicKey grants every authenticated user get on the public-key
// ConfigMap in ns, as an installation does.
func allowPublicKey(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sealing-public-key-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"},
			ResourceNames: []string{sealkeys.PublicName}, Verbs: []string{"get"}}}}
	if _, err := env.Client.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: role.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"}}}
	if _, err := env.Client.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// startFreshCluster starts a second, empty control plane for the test.
func startFreshCluster(t *testing.T) *clustertest.Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := clustertest.Start(ctx, devcluster.ProfileAPI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Cluster.Stop() })
	return e
}

// ageEncrypt encrypts plaintext with the age CLI to the recipients file
// and returns the file.
func ageEncrypt(t *testing.T, pubFile, plaintext string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "x.age")
	cmd := exec.Command("age", "-R", pubFile, "-o", out)
	cmd.Stdin = strings.NewReader(plaintext)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("age -R: %v\n%s", err, b)
	}
	return out
}
