package controller

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/seal"
)

func testRing(t testing.TB, n int) seal.Ring {
	t.Helper()
	var keys []seal.Key
	start := time.Now().Add(-time.Duration(n) * time.Hour)
	for i := range n {
		k, err := seal.GenerateKey(start.Add(time.Duration(i) * time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return seal.NewRing(keys...)
}

func sealedSecret(t testing.TB, to age.Recipient, values map[string][]byte) *cruisev1.SealedSecret {
	t.Helper()
	ss := &cruisev1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", UID: "uid-1"},
		Spec:       cruisev1.SealedSecretSpec{EncryptedData: map[string]string{}},
	}
	for k, v := range values {
		b, err := seal.Seal(v, seal.Strict, seal.Target{Namespace: "ns", Name: "app", Key: k}, to)
		if err != nil {
			t.Fatal(err)
		}
		ss.Spec.EncryptedData[k] = base64.StdEncoding.EncodeToString(b)
	}
	return ss
}

// TestUnsealDataBounds: a value over seal's limit is refused before it is
// decoded, and values that would make a Secret over 1 MiB fail the
// SealedSecret, naming sizes, not values.
func TestUnsealDataBounds(t *testing.T) {
	ring := testRing(t, 1)
	newest, _ := ring.Newest()
	huge := sealedSecret(t, newest.Recipient(), nil)
	huge.Spec.EncryptedData["blob"] = strings.Repeat("A", maxEncodedValue+4)
	if _, err := unsealData(huge, ring.Identities()); err == nil || !strings.Contains(err.Error(), `key "blob": sealed value too large`) {
		t.Errorf("oversized value: %v", err)
	}

	big := bytes.Repeat([]byte("x"), 600<<10)
	two := sealedSecret(t, newest.Recipient(), map[string][]byte{"a": big, "b": big})
	if _, err := unsealData(two, ring.Identities()); err == nil || !strings.Contains(err.Error(), "over a Secret's limit") {
		t.Errorf("two values over 1 MiB in all: %v", err)
	}
}

// TestConforms: every difference the reconciler must revert is seen.
func TestConforms(t *testing.T) {
	ring := testRing(t, 1)
	newest, _ := ring.Newest()
	ss := sealedSecret(t, newest.Recipient(), nil)
	ss.Spec.Template = cruisev1.SecretTemplate{Type: "example.com/x", Metadata: cruisev1.TemplateMetadata{
		Labels: map[string]string{"app": "a"}, Annotations: map[string]string{"note": "n"},
	}}
	data := map[string][]byte{"k": []byte("v"), "l": []byte("w")}
	yes := true
	for _, tc := range []struct {
		name string
		edit func(*corev1.Secret)
		want bool
	}{
		{"as described", func(*corev1.Secret) {}, true},
		{"finalizer added", func(s *corev1.Secret) { s.Finalizers = []string{"example.com/f"} }, true},
		{"value changed", func(s *corev1.Secret) { s.Data["k"] = []byte("x") }, false},
		{"value of another length", func(s *corev1.Secret) { s.Data["k"] = []byte("vv") }, false},
		{"key added", func(s *corev1.Secret) { s.Data["m"] = nil }, false},
		{"key renamed", func(s *corev1.Secret) { s.Data["m"] = s.Data["l"]; delete(s.Data, "l") }, false},
		{"type", func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque }, false},
		{"immutable", func(s *corev1.Secret) { s.Immutable = &yes }, false},
		{"label added", func(s *corev1.Secret) { s.Labels["x"] = "y" }, false},
		{"annotation removed", func(s *corev1.Secret) { s.Annotations = nil }, false},
		{"owner added", func(s *corev1.Secret) {
			s.OwnerReferences = append(s.OwnerReferences, metav1.OwnerReference{Kind: "ConfigMap", Name: "c", UID: "u"})
		}, false},
		{"not blocking deletion", func(s *corev1.Secret) { s.OwnerReferences[0].BlockOwnerDeletion = nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSecret(ss, map[string][]byte{"k": []byte("v"), "l": []byte("w")})
			tc.edit(s)
			if got := conforms(s, ss, data); got != tc.want {
				t.Errorf("conforms = %v, want %v", got, tc.want)
			}
		})
	}
}

// BenchmarkUnseal measures decrypting one SealedSecret of 5 keys: what a
// reconcile would cost on every event if the reconciler did not remember
// what it unsealed. The value is sealed to the oldest key of the ring, the
// worst case (identities are tried newest first); 13 keys is a year of
// monthly rotation.
func BenchmarkUnseal(b *testing.B) {
	for _, keys := range []int{1, 13} {
		b.Run(fmt.Sprintf("5values-%dkeys", keys), func(b *testing.B) {
			ring := testRing(b, keys)
			oldest := ring.Keys()[0]
			values := map[string][]byte{}
			for i := range 5 {
				values[fmt.Sprintf("key-%d", i)] = bytes.Repeat([]byte("v"), 64)
			}
			ss := sealedSecret(b, oldest.Recipient(), values)
			ids := ring.Identities()
			for b.Loop() {
				if _, err := unsealData(ss, ids); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
