package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// reencryptTree is a repository directory with SealedSecrets sealed to
// old, one already sealed to current, files that are no SealedSecret,
// a .git directory, and symlinks leading out of the directory.
type reencryptTree struct {
	dir, outside string
	// files are every regular file's content before the run, by path.
	files map[string]string
}

func newReencryptTree(t *testing.T, old, current ageKey) reencryptTree {
	t.Helper()
	sealTo := func(k ageKey, ns, name string, values map[string]string, extra ...string) string {
		in := writeFile(t, "s.yaml", secretManifest(ns, name, values))
		return mustCruise(t, 0, append([]string{"seal", "--recipient", k.pubFile, "-f", in}, extra...)...).stdout
	}
	configMap := "# not a secret\napiVersion: v1\nkind: ConfigMap\nmetadata:\n    name: settings\ndata:\n    mode: \"fast\"\n"
	tr := reencryptTree{dir: t.TempDir(), outside: t.TempDir()}
	write := func(root, rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(tr.dir, "apps/db/sealed.yaml", sealTo(old, "prod", "db", map[string]string{"password": "p1", "user": "u1"}))
	write(tr.dir, "apps/mixed.yml", configMap+"---\n"+sealTo(current, "prod", "api", map[string]string{"token": "t1"})+
		"---\n"+sealTo(old, "prod", "cache", map[string]string{"url": "redis://x"}, "--scope", "namespace-wide"))
	write(tr.dir, "apps/current.yaml", sealTo(current, "prod", "web", map[string]string{"key": "k1"}))
	write(tr.dir, "apps/settings.yaml", configMap)
	write(tr.dir, "charts/web/templates/secret.yaml", "{{- if .Values.enabled }}\nkind: Secret\n{{- end }}\n")
	write(tr.dir, ".git/refs/sealed.yaml", sealTo(old, "prod", "git", map[string]string{"x": "1"}))
	write(tr.dir, "README.md", "kind: SealedSecret\n")
	write(tr.outside, "sealed.yaml", sealTo(old, "prod", "outside", map[string]string{"x": "1"}))
	write(tr.outside, "dir/sealed.yaml", sealTo(old, "prod", "outside2", map[string]string{"x": "1"}))
	if err := os.Symlink(filepath.Join(tr.outside, "sealed.yaml"), filepath.Join(tr.dir, "apps/link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tr.outside, "dir"), filepath.Join(tr.dir, "linked-dir")); err != nil {
		t.Fatal(err)
	}
	tr.files = tr.snapshot(t)
	return tr
}

// snapshot reads every regular file in and out of the directory.
func (tr reencryptTree) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, root := range []string{tr.dir, tr.outside} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			out[p] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// changed lists the files whose content differs from before.
func (tr reencryptTree) changed(t *testing.T) []string {
	t.Helper()
	var out []string
	now := tr.snapshot(t)
	for p, was := range tr.files {
		if now[p] != was {
			rel, _ := filepath.Rel(tr.dir, p)
			out = append(out, rel)
		}
	}
	if len(now) != len(tr.files) {
		t.Errorf("%d files now, %d before: a file was left behind or removed", len(now), len(tr.files))
	}
	return out
}

// --reencrypt re-seals only the SealedSecrets not sealed to exactly the
// target recipients, keeps each value's scope and target, leaves every
// other file and line alone, follows no symlink, skips .git, and changes
// nothing the second time.
func TestSealReencrypt(t *testing.T) {
	old, current, recovery := newAgeKey(t), newAgeKey(t), newAgeKey(t)
	// The target: current plus a recovery recipient; the files sealed to
	// current alone are not sealed to exactly that.
	tr := newReencryptTree(t, old, current)
	identities := writeFile(t, "ids.txt", readFile(t, old.keyFile)+readFile(t, current.keyFile))
	run := func() result {
		return mustCruise(t, 0, "seal", "--reencrypt", tr.dir, "--recipient", current.pubFile,
			"--recovery-recipient", recovery.pubFile, "--identity", identities)
	}
	r := run()
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	got := strings.Join(sorted(tr.changed(t)), " ")
	if want := "apps/current.yaml apps/db/sealed.yaml apps/mixed.yml"; got != want {
		t.Fatalf("changed %q, want %q", got, want)
	}
	wantContains(t, r.stderr, filepath.Join(tr.dir, "apps/db/sealed.yaml")+": re-sealed 1 SealedSecrets",
		filepath.Join(tr.dir, "apps/mixed.yml")+": re-sealed 2 SealedSecrets", "3 files changed")

	// Values, scopes and targets as they were; openable by current and
	// recovery, no longer by old.
	mixed := readFile(t, filepath.Join(tr.dir, "apps/mixed.yml"))
	docs := strings.Split(mixed, "\n---\n")
	if len(docs) != 3 || !strings.HasPrefix(mixed, tr.files[filepath.Join(tr.dir, "apps/mixed.yml")][:len(docs[0])]) {
		t.Fatalf("the ConfigMap document changed or the documents were merged:\n%s", mixed)
	}
	cache := parseSealed(t, docs[2])
	env, v := openWithAge(t, recovery.keyFile, cache.Spec.EncryptedData["url"])
	if v != "redis://x" || env.Scope != "namespace-wide" || env.Namespace != "prod" || env.Name != "" {
		t.Errorf("cache: envelope %+v: want namespace-wide prod, value kept", env)
	}
	if !ageFails(t, old.keyFile, cache.Spec.EncryptedData["url"]) {
		t.Error("the old key still opens the re-sealed value")
	}
	db := parseSealed(t, readFile(t, filepath.Join(tr.dir, "apps/db/sealed.yaml")))
	for key, want := range map[string]string{"password": "p1", "user": "u1"} {
		env, v := openWithAge(t, current.keyFile, db.Spec.EncryptedData[key])
		if v != want || env.Scope != "strict" || env.Name != "db" || env.Key != key {
			t.Errorf("db %s: envelope %+v", key, env)
		}
	}
	wantSet := sorted([]string{current.recipient, recovery.recipient})
	if strings.Join(db.Spec.Recipients, ",") != strings.Join(wantSet, ",") {
		t.Errorf("recipients = %v, want %v", db.Spec.Recipients, wantSet)
	}

	// The second run changes nothing.
	tr.files = tr.snapshot(t)
	r = run()
	if c := tr.changed(t); len(c) != 0 {
		t.Errorf("the second run changed %v", c)
	}
	wantContains(t, r.stderr, "0 files changed; 4 SealedSecrets were already sealed to these recipients")
}

// A value no identity opens: exit code 2 naming the file and key, and no
// file changed, not even those that could have been re-sealed.
func TestSealReencryptFailsWhole(t *testing.T) {
	old, current, stranger := newAgeKey(t), newAgeKey(t), newAgeKey(t)
	tr := newReencryptTree(t, old, current)
	r := mustCruise(t, 2, "seal", "--reencrypt", tr.dir, "--recipient", stranger.pubFile, "--identity", current.keyFile)
	wantContains(t, r.stderr, "sealed.yaml: SealedSecret prod/", "sealed to a key this cluster does not hold")
	if c := tr.changed(t); len(c) != 0 {
		t.Errorf("changed %v, want nothing", c)
	}
	bad := writeFile(t, "ids.txt", "AGE-SECRET-KEY-1NOTAKEY\n")
	r = mustCruise(t, 2, "seal", "--reencrypt", tr.dir, "--recipient", stranger.pubFile, "--identity", bad)
	wantContains(t, r.stderr, "--identity "+bad+": line 1: not an age X25519 identity")
	if strings.Contains(r.stderr, "NOTAKEY") {
		t.Error("the identity file's content was printed")
	}
	mustCruise(t, 2, "seal", "--reencrypt", filepath.Join(tr.dir, "README.md"), "--recipient", stranger.pubFile, "--identity", current.keyFile)
	mustCruise(t, 2, "seal", "--reencrypt", "/nonexistent", "--recipient", stranger.pubFile, "--identity", current.keyFile)
}

// Without --identity the cluster's keys decrypt: for someone allowed to
// read them; anyone else is told to pass --identity.
func TestSealReencryptWithClusterKeys(t *testing.T) {
	ns := env.Namespace(t)
	old, current := newAgeKey(t), newAgeKey(t)
	now := time.Now()
	oldKey, currentKey := old.key(t), current.key(t)
	oldKey.Created, currentKey.Created = now.Add(-time.Hour), now
	storeKeys(t, ns, oldKey, currentKey)
	tr := newReencryptTree(t, old, current)

	r := mustCruise(t, 2, "seal", "--reencrypt", tr.dir, "--cluster", "--kubeconfig", kubeconfigAs(t, "eve"), "--keys-namespace", ns)
	wantContains(t, r.stderr, "forbidden")
	r = mustCruise(t, 2, "seal", "--reencrypt", tr.dir, "--recipient", current.pubFile, "--kubeconfig", kubeconfigAs(t, "eve"), "--keys-namespace", ns)
	wantContains(t, r.stderr, "is forbidden", "needs get on Secret "+ns+"/cruise-sealing-keys", "pass --identity FILE")
	if c := tr.changed(t); len(c) != 0 {
		t.Errorf("changed %v, want nothing", c)
	}

	mustCruise(t, 0, append([]string{"seal", "--reencrypt", tr.dir, "--cluster"}, keysFlags(ns)...)...)
	if got := strings.Join(sorted(tr.changed(t)), " "); got != "apps/db/sealed.yaml apps/mixed.yml" {
		t.Errorf("changed %q, want the two files sealed to the old key", got)
	}
	db := parseSealed(t, readFile(t, filepath.Join(tr.dir, "apps/db/sealed.yaml")))
	if _, v := openWithAge(t, current.keyFile, db.Spec.EncryptedData["password"]); v != "p1" {
		t.Error("password: another value")
	}
	if strings.Join(db.Spec.Recipients, ",") != current.recipient {
		t.Errorf("recipients = %v, want the cluster's newest key", db.Spec.Recipients)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
