package controller_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// keyStore is the test controller's sealing keys, read and written as
// `cruise secrets` does.
func keyStore() sealkeys.Store { return sealkeys.Store{Client: k8s, Namespace: keysNamespace} }

// clusterRecipient is the public key the cluster publishes, what `cruise
// seal --cluster` seals to.
func clusterRecipient(t testing.TB) *age.X25519Recipient {
	t.Helper()
	var pub string
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		var err error
		pub, err = keyStore().PublicKey(t.Context())
		return err == nil, err
	})
	r, err := age.ParseX25519Recipient(pub)
	if err != nil {
		t.Fatalf("published recipient %q: %v", pub, err)
	}
	return r
}

// sealFor seals value as key of Secret ns/name under scope and returns it
// as spec.encryptedData holds it.
func sealFor(t testing.TB, value string, scope seal.Scope, ns, name, key string, to ...age.Recipient) string {
	t.Helper()
	b, err := seal.Seal([]byte(value), scope, seal.Target{Namespace: ns, Name: name, Key: key}, to...)
	if err != nil {
		t.Fatalf("seal %s: %v", key, err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// sealAll seals every value strictly for ns/name.
func sealAll(t testing.TB, ns, name string, values map[string]string, to ...age.Recipient) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range values {
		out[k] = sealFor(t, v, seal.Strict, ns, name, k, to...)
	}
	return out
}

// createSealed creates a SealedSecret; mutate adjusts it.
func createSealed(t testing.TB, ns, name string, encrypted map[string]string, mutate func(*cruisev1.SealedSecret)) *cruisev1.SealedSecret {
	t.Helper()
	ss := &cruisev1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cruisev1.SealedSecretSpec{EncryptedData: encrypted},
	}
	if mutate != nil {
		mutate(ss)
	}
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatalf("create SealedSecret %s/%s: %v", ns, name, err)
	}
	return ss
}

func getSealed(t testing.TB, ns, name string) *cruisev1.SealedSecret {
	t.Helper()
	ss := &cruisev1.SealedSecret{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, ss); err != nil {
		t.Fatalf("get SealedSecret %s/%s: %v", ns, name, err)
	}
	return ss
}

// updateSealed changes a SealedSecret's spec, retrying on conflicts.
func updateSealed(t testing.TB, ns, name string, mutate func(*cruisev1.SealedSecret)) {
	t.Helper()
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		ss := getSealed(t, ns, name)
		mutate(ss)
		err := k8s.Update(t.Context(), ss)
		return err == nil, err
	})
}

// waitSealed waits until Ready has status and reason for the
// SealedSecret's current generation.
func waitSealed(t testing.TB, ns, name string, status metav1.ConditionStatus, reason string) *cruisev1.SealedSecret {
	t.Helper()
	var ss *cruisev1.SealedSecret
	clustertest.Eventually(t, 60*time.Second, func() (bool, error) {
		ss = getSealed(t, ns, name)
		c := meta.FindStatusCondition(ss.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, errors.New("no Ready condition")
		}
		ok := c.Status == status && c.Reason == reason && c.ObservedGeneration == ss.Generation &&
			ss.Status.ObservedGeneration == ss.Generation
		return ok, fmt.Errorf("SealedSecret %s: Ready=%s %s (generation %d, observed %d): %s",
			name, c.Status, c.Reason, ss.Generation, c.ObservedGeneration, c.Message)
	})
	return ss
}

// readyMessage is the Ready condition's message.
func readyMessage(conds []metav1.Condition) string {
	if c := meta.FindStatusCondition(conds, cruisev1.ConditionReady); c != nil {
		return c.Message
	}
	return ""
}

// getSecret reads a Secret; nil when missing.
func getSecret(t testing.TB, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, s)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get Secret %s/%s: %v", ns, name, err)
	}
	return s
}

// waitSecretData waits until Secret ns/name holds exactly want.
func waitSecretData(t testing.TB, ns, name string, want map[string]string) *corev1.Secret {
	t.Helper()
	var s *corev1.Secret
	clustertest.Eventually(t, 60*time.Second, func() (bool, error) {
		s = getSecret(t, ns, name)
		if s == nil {
			return false, errors.New("no Secret " + name)
		}
		got := map[string]string{}
		for k, v := range s.Data {
			got[k] = string(v)
		}
		if len(got) != len(want) {
			return false, fmt.Errorf("Secret %s has keys %v, want %d keys", name, sortedKeys(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				// Name the key, not the values: a failing test should not
				// teach bad habits either.
				return false, fmt.Errorf("Secret %s: key %s differs", name, k)
			}
		}
		return true, nil
	})
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sealedEvents lists the events about SealedSecret ns/name with reason.
func sealedEvents(t testing.TB, ns, name, reason string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("list events: %v", err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == cruisev1.SealedSecretKind && e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for an event of type and reason about SealedSecret
// ns/name, and returns its note.
func waitEvent(t testing.TB, ns, name, typ, reason string) string {
	t.Helper()
	var note string
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		for _, e := range sealedEvents(t, ns, name, reason) {
			if e.Type == typ {
				note = e.Note
				return true, nil
			}
		}
		return false, fmt.Errorf("no %s event %s about SealedSecret %s", typ, reason, name)
	})
	return note
}

// noValueShown fails if any of values appears in the SealedSecret's
// status or in any event of its namespace.
func noValueShown(t testing.TB, ns, name string, values ...string) {
	t.Helper()
	ss := getSealed(t, ns, name)
	var shown []string
	for _, c := range ss.Status.Conditions {
		shown = append(shown, c.Message)
	}
	var list eventsv1.EventList
	if err := k8s.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("list events: %v", err)
	}
	for _, e := range list.Items {
		shown = append(shown, e.Note)
	}
	all := strings.Join(shown, "\n")
	for _, v := range values {
		if strings.Contains(all, v) {
			t.Errorf("a secret value appears in the status or an event of SealedSecret %s", name)
		}
		if b64 := base64.StdEncoding.EncodeToString([]byte(v)); strings.Contains(all, b64) {
			t.Errorf("a secret value appears base64-encoded in the status or an event of SealedSecret %s", name)
		}
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
