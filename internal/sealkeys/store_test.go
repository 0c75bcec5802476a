package sealkeys_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

func newKey(t *testing.T, created time.Time) seal.Key {
	t.Helper()
	k, err := seal.GenerateKey(created)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keysSecret(t *testing.T, ns string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: sealkeys.SecretName}, s); err != nil {
		t.Fatalf("get keys Secret: %v", err)
	}
	return s
}

func publicConfigMap(t *testing.T, ns string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: sealkeys.PublicName}, cm); err != nil {
		t.Fatalf("get public ConfigMap: %v", err)
	}
	return cm
}

// wantPublished checks the ConfigMap: newest is the one to seal to, all
// are every recipient, oldest first, as an age -R file.
func wantPublished(t *testing.T, ns string, newest seal.Key, all ...seal.Key) {
	t.Helper()
	cm := publicConfigMap(t, ns)
	if got := cm.Data[sealkeys.RecipientKey]; got != newest.Recipient().String() {
		t.Errorf("published recipient %s, want %s", got, newest.Recipient())
	}
	var want strings.Builder
	for _, k := range all {
		want.WriteString(k.Recipient().String() + "\n")
	}
	if got := cm.Data[sealkeys.RecipientsKey]; got != want.String() {
		t.Errorf("published recipients %q, want %q", got, want.String())
	}
	if _, err := seal.ParseRecipients(strings.NewReader(cm.Data[sealkeys.RecipientsKey])); err != nil {
		t.Errorf("published recipients are not an age recipients file: %v", err)
	}
}

func TestLoadWithoutSecret(t *testing.T) {
	ring, err := sealkeys.Store{Client: k8s, Namespace: env.Namespace(t)}.Load(t.Context())
	if err != nil || ring.Len() != 0 {
		t.Fatalf("Load of a namespace without keys: %d keys, %v", ring.Len(), err)
	}
}

// TestAddAndPublish: Add creates the Secret, one entry per key in
// age-keygen's layout, and publishes the newest; adding a key it holds
// changes nothing; a newer key is published in its place.
func TestAddAndPublish(t *testing.T) {
	ns := env.Namespace(t)
	store := sealkeys.Store{Client: k8s, Namespace: ns}
	now := time.Now().UTC().Truncate(time.Second)
	first := newKey(t, now.Add(-time.Hour))

	ring, added, err := store.Add(t.Context(), first)
	if err != nil || added != 1 || ring.Len() != 1 {
		t.Fatalf("Add: %d keys, %d added, %v", ring.Len(), added, err)
	}
	secret := keysSecret(t, ns)
	if secret.Labels[sealkeys.LabelKeys] != "private" || secret.Type != corev1.SecretTypeOpaque {
		t.Errorf("keys Secret labels %v, type %s", secret.Labels, secret.Type)
	}
	entry := regexp.MustCompile(`^\d{8}T\d{6}Z-[a-z0-9]{8}\.agekey$`)
	for name, data := range secret.Data {
		if !entry.MatchString(name) {
			t.Errorf("entry %q is not named <created>-<suffix>.agekey", name)
		}
		// age's own parser reads it: no cruise needed to recover.
		ids, err := age.ParseIdentities(bytes.NewReader(data))
		if err != nil || len(ids) != 1 {
			t.Errorf("entry %s: %d identities, %v", name, len(ids), err)
		}
	}
	wantPublished(t, ns, first, first)
	if got := publicConfigMap(t, ns).Labels[sealkeys.LabelKeys]; got != "public" {
		t.Errorf("public ConfigMap label %q", got)
	}

	_, added, err = store.Add(t.Context(), first)
	if err != nil || added != 0 {
		t.Fatalf("Add of a key already held: %d added, %v", added, err)
	}
	if again := keysSecret(t, ns); again.ResourceVersion != secret.ResourceVersion {
		t.Error("adding a key already held wrote the Secret")
	}

	second := newKey(t, now)
	ring, added, err = store.Add(t.Context(), second)
	if err != nil || added != 1 || ring.Len() != 2 {
		t.Fatalf("Add of a newer key: %d keys, %d added, %v", ring.Len(), added, err)
	}
	wantPublished(t, ns, second, first, second)
	loaded, err := store.Load(t.Context())
	if err != nil || !slices.Equal(loaded.Recipients(), ring.Recipients()) {
		t.Errorf("Load: %v, %v; want %v", loaded.Recipients(), err, ring.Recipients())
	}
	if k, _ := loaded.Newest(); !k.Created.Equal(now) {
		t.Errorf("the newest key's creation time came back as %s, want %s", k.Created, now)
	}
}

// TestAddCreatesNamespace: a restore before cruise is installed creates
// the keys' namespace.
func TestAddCreatesNamespace(t *testing.T) {
	ns := "keys-" + strings.ToLower(strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""))
	t.Cleanup(func() {
		_ = k8s.Delete(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
	k := newKey(t, time.Now())
	if _, _, err := (sealkeys.Store{Client: k8s, Namespace: ns}).Add(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	wantPublished(t, ns, k, k)
}

// TestPublicKey: before any key, the error says what to do; after, the
// newest recipient.
func TestPublicKey(t *testing.T) {
	store := sealkeys.Store{Client: k8s, Namespace: env.Namespace(t)}
	if _, err := store.PublicKey(t.Context()); !errors.Is(err, sealkeys.ErrNoPublicKey) {
		t.Fatalf("PublicKey without keys: %v", err)
	}
	old, newest := newKey(t, time.Now().Add(-time.Hour)), newKey(t, time.Now())
	if _, _, err := store.Add(t.Context(), newest, old); err != nil {
		t.Fatal(err)
	}
	got, err := store.PublicKey(t.Context())
	if err != nil || got != newest.Recipient().String() {
		t.Fatalf("PublicKey = %q, %v; want %s", got, err, newest.Recipient())
	}
}

// TestPublishRepairs: a ConfigMap edited by hand is rewritten; an empty
// ring publishes nothing.
func TestPublishRepairs(t *testing.T) {
	ns := env.Namespace(t)
	store := sealkeys.Store{Client: k8s, Namespace: ns}
	if err := store.Publish(t.Context(), seal.Ring{}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: sealkeys.PublicName}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Fatalf("Publish of an empty ring made a ConfigMap (err %v)", err)
	}
	k := newKey(t, time.Now())
	ring, _, err := store.Add(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	cm := publicConfigMap(t, ns)
	cm.Data[sealkeys.RecipientKey] = newKey(t, time.Now()).Recipient().String()
	if err := k8s.Update(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	if err := store.Publish(t.Context(), ring); err != nil {
		t.Fatal(err)
	}
	wantPublished(t, ns, k, k)
}

// TestEnsureCurrent: the first call makes a key; before the interval
// nothing changes and the next check is due when the newest key turns
// interval old; then a new key is added; with interval 0 never. A deleted
// ConfigMap is published again.
func TestEnsureCurrent(t *testing.T) {
	ns := env.Namespace(t)
	store := sealkeys.Store{Client: k8s, Namespace: ns}
	const interval = 24 * time.Hour
	now := time.Now().UTC().Truncate(time.Second)

	ring, next, err := store.EnsureCurrent(t.Context(), now, interval)
	if err != nil || ring.Len() != 1 || next != interval {
		t.Fatalf("first EnsureCurrent: %d keys, next %s, %v", ring.Len(), next, err)
	}
	first, _ := ring.Newest()

	if err := k8s.Delete(t.Context(), publicConfigMap(t, ns)); err != nil {
		t.Fatal(err)
	}
	ring, next, err = store.EnsureCurrent(t.Context(), now.Add(time.Hour), interval)
	if err != nil || ring.Len() != 1 || next != interval-time.Hour {
		t.Fatalf("EnsureCurrent an hour later: %d keys, next %s, %v", ring.Len(), next, err)
	}
	wantPublished(t, ns, first, first)

	ring, next, err = store.EnsureCurrent(t.Context(), now.Add(interval), interval)
	if err != nil || ring.Len() != 2 || next != interval {
		t.Fatalf("EnsureCurrent when due: %d keys, next %s, %v", ring.Len(), next, err)
	}
	second, _ := ring.Newest()
	wantPublished(t, ns, second, first, second)

	ring, next, err = store.EnsureCurrent(t.Context(), now.Add(100*interval), 0)
	if err != nil || ring.Len() != 2 || next != 0 {
		t.Fatalf("EnsureCurrent with rotation off: %d keys, next %s, %v", ring.Len(), next, err)
	}
}

// TestConcurrentAdd: two writers adding a key each at the same moment
// (the controller rotating while `cruise secrets restore` runs) both
// land, whether the Secret exists yet or not.
func TestConcurrentAdd(t *testing.T) {
	ns := env.Namespace(t)
	store := sealkeys.Store{Client: k8s, Namespace: ns}
	var want []string
	for round := range 5 {
		a, b := newKey(t, time.Now()), newKey(t, time.Now().Add(time.Second))
		want = append(want, a.Recipient().String(), b.Recipient().String())
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, k := range []seal.Key{a, b} {
			wg.Go(func() { _, _, errs[i] = store.Add(t.Context(), k) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	ring, err := store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := ring.Recipients()
	for _, r := range want {
		if !slices.Contains(got, r) {
			t.Errorf("key %s lost: the Secret holds %d keys, want %d", r, len(got), len(want))
		}
	}
	newest, _ := ring.Newest()
	if pub, err := store.PublicKey(t.Context()); err != nil || pub != newest.Recipient().String() {
		t.Errorf("published %q (%v), want the newest %s", pub, err, newest.Recipient())
	}
}

// TestLoadRejectsCorruptEntry: an entry that is not an identity file
// fails the load, naming the entry and not its content; entries not
// ending in .agekey are ignored.
func TestLoadRejectsCorruptEntry(t *testing.T) {
	ns := env.Namespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sealkeys.SecretName},
		Data: map[string][]byte{
			"README":        []byte("not a key, and not read"),
			"broken.agekey": []byte("AGE-SECRET-KEY-1NOTAKEY-do-not-print-me\n"),
		},
	}
	if err := k8s.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	_, err := sealkeys.Store{Client: k8s, Namespace: ns}.Load(t.Context())
	if err == nil || !strings.Contains(err.Error(), "broken.agekey") || strings.Contains(err.Error(), "do-not-print-me") {
		t.Fatalf("Load of a corrupt entry: %v", err)
	}
}

// TestSecretWorksWithAgeCLI: what the Secret holds decrypts with Debian's
// age and nothing else, as the package doc promises.
func TestSecretWorksWithAgeCLI(t *testing.T) {
	agePath, err := exec.LookPath("age")
	if err != nil {
		t.Fatal("the age CLI is missing: install Debian's age package (hack/install-test-deps.sh, run by make test, does)")
	}
	ns := env.Namespace(t)
	store := sealkeys.Store{Client: k8s, Namespace: ns}
	ring, _, err := store.EnsureCurrent(t.Context(), time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var identities []byte
	for _, data := range keysSecret(t, ns).Data {
		identities = append(identities, data...)
	}
	dir := t.TempDir()
	idFile := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(idFile, identities, 0o600); err != nil {
		t.Fatal(err)
	}
	newest, _ := ring.Newest()
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, newest.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("recovered"))
	_ = w.Close()
	cmd := exec.Command(agePath, "-d", "-i", idFile)
	cmd.Stdin = &sealed
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "recovered" {
		t.Fatalf("age -d -i: %q, %v", out, err)
	}
}

// TestRotation is the schedule alone.
func TestRotation(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k := func(age time.Duration) seal.Ring {
		key, err := seal.GenerateKey(now.Add(-age))
		if err != nil {
			t.Fatal(err)
		}
		return seal.NewRing(key)
	}
	for _, tc := range []struct {
		name     string
		ring     seal.Ring
		interval time.Duration
		due      bool
		next     time.Duration
	}{
		{"no key", seal.Ring{}, time.Hour, true, 0},
		{"no key, rotation off", seal.Ring{}, 0, true, 0},
		{"fresh", k(0), time.Hour, false, time.Hour},
		{"half way", k(30 * time.Minute), time.Hour, false, 30 * time.Minute},
		{"exactly due", k(time.Hour), time.Hour, true, 0},
		{"overdue", k(100 * time.Hour), time.Hour, true, 0},
		{"rotation off", k(10000 * time.Hour), 0, false, 0},
		{"seconds", k(2 * time.Second), 3 * time.Second, false, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			due, next := sealkeys.Rotation(tc.ring, now, tc.interval)
			if due != tc.due || next != tc.next {
				t.Errorf("Rotation = %v, %s; want %v, %s", due, next, tc.due, tc.next)
			}
		})
	}
}
