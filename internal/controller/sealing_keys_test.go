package controller_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// publicKeys reads the published ConfigMap.
func publicKeys(t testing.TB) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: keysNamespace, Name: sealkeys.PublicName}, cm); err != nil {
		t.Fatalf("get ConfigMap %s: %v", sealkeys.PublicName, err)
	}
	return cm
}

// TestSealingKeysCreatedOnStart: the controller made the keys Secret and
// published its public key when it started against a cluster without
// keys; the metrics report them.
func TestSealingKeysCreatedOnStart(t *testing.T) {
	clusterRecipient(t) // waits for the first key
	ring, err := keyStore().Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ring.Len() == 0 {
		t.Fatal("no sealing key in the Secret")
	}
	secret := &corev1.Secret{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: keysNamespace, Name: sealkeys.SecretName}, secret); err != nil {
		t.Fatal(err)
	}
	if secret.Labels[sealkeys.LabelKeys] != "private" {
		t.Errorf("keys Secret labels %v", secret.Labels)
	}
	cm := publicKeys(t)
	recipients := strings.Fields(cm.Data[sealkeys.RecipientsKey])
	if !slices.Contains(recipients, cm.Data[sealkeys.RecipientKey]) {
		t.Errorf("published recipient %q not among recipients %v", cm.Data[sealkeys.RecipientKey], recipients)
	}
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		n := gauge(t, "cruise_sealing_keys")
		return n >= 1, fmt.Errorf("cruise_sealing_keys = %v", n)
	})
	if ts := gauge(t, "cruise_sealing_newest_key_timestamp_seconds"); time.Since(time.Unix(int64(ts), 0)) > time.Hour {
		t.Errorf("cruise_sealing_newest_key_timestamp_seconds = %v", ts)
	}
}

// TestSealingKeyRotation: with a rotation interval of a few seconds a new
// key is added and published as the one to seal to; values sealed to the
// key before it still unseal, and so do values sealed to the new one.
func TestSealingKeyRotation(t *testing.T) {
	ns := env.Namespace(t)
	old := clusterRecipient(t)
	createSealed(t, ns, "before", sealAll(t, ns, "before", map[string]string{"k": "sealed-to-old"}, old), nil)
	waitSealed(t, ns, "before", metav1.ConditionTrue, cruisev1.ReasonUnsealed)

	var newest string
	clustertest.Eventually(t, 4*keysRotation, func() (bool, error) {
		cm := publicKeys(t)
		newest = cm.Data[sealkeys.RecipientKey]
		return newest != old.String() && strings.Contains(cm.Data[sealkeys.RecipientsKey], old.String()),
			fmt.Errorf("published %q, recipients %q", newest, cm.Data[sealkeys.RecipientsKey])
	})
	ring, err := keyStore().Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recipients := ring.Recipients()
	if !slices.Contains(recipients, old.String()) || !slices.Contains(recipients, newest) {
		t.Fatalf("the keys Secret holds %v, want both the old and the new key", recipients)
	}

	createSealed(t, ns, "after-old", sealAll(t, ns, "after-old", map[string]string{"k": "still-old"}, old), nil)
	createSealed(t, ns, "after-new", sealAll(t, ns, "after-new", map[string]string{"k": "new"}, clusterRecipient(t)), nil)
	waitSecretData(t, ns, "after-old", map[string]string{"k": "still-old"})
	waitSecretData(t, ns, "after-new", map[string]string{"k": "new"})
	// The first one is not unsealed again for the rotation.
	waitSecretData(t, ns, "before", map[string]string{"k": "sealed-to-old"})
}

// TestSealingKeysRestoredWhileRunning: a value sealed to a key the
// cluster does not hold fails; once that key is added to the keys Secret
// (`cruise secrets restore` while the controller runs) it unseals without
// any change to the SealedSecret. An older restored key is not published
// over the newest one.
func TestSealingKeysRestoredWhileRunning(t *testing.T) {
	ns := env.Namespace(t)
	lost, err := seal.GenerateKey(time.Now().Add(-48 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	createSealed(t, ns, "backup", sealAll(t, ns, "backup", map[string]string{"k": "from-backup"}, lost.Recipient()), nil)
	ss := waitSealed(t, ns, "backup", metav1.ConditionFalse, cruisev1.ReasonUnsealFailed)
	if msg := readyMessage(ss.Status.Conditions); !strings.Contains(msg, "does not hold") {
		t.Fatalf("message %q", msg)
	}

	if _, _, err := keyStore().Add(t.Context(), lost); err != nil {
		t.Fatal(err)
	}
	waitSealed(t, ns, "backup", metav1.ConditionTrue, cruisev1.ReasonUnsealed)
	waitSecretData(t, ns, "backup", map[string]string{"k": "from-backup"})
	if got := publicKeys(t).Data[sealkeys.RecipientKey]; got == lost.Recipient().String() {
		t.Error("the restored key, older than the cluster's, is published as the one to seal to")
	}
}

// TestSealingKeysSecretDeleted: deleting the keys Secret while the
// controller runs loses no key: it writes back every key it held.
func TestSealingKeysSecretDeleted(t *testing.T) {
	clusterRecipient(t)
	ring, err := keyStore().Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: keysNamespace, Name: sealkeys.SecretName}, secret); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		now, err := keyStore().Load(t.Context())
		if err != nil {
			return false, err
		}
		have := now.Recipients()
		for _, r := range ring.Recipients() {
			if !slices.Contains(have, r) {
				return false, errors.New("key " + r + " not back in the Secret")
			}
		}
		return true, nil
	})
}
