package controller_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/seal"
)

var fiveValues = map[string]string{
	"username":    "admin",
	"password":    "s3cr3t-p4ssw0rd",
	"api-token":   "tok_9f8e7d6c5b4a",
	"config.json": `{"endpoint":"https://db.internal","retries":3}`,
	"tls.key":     "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n",
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// TestSealedSecretUnseals: five values sealed to the cluster's public key
// become a Secret of the same name with the template's type, labels and
// annotations, controlled by the SealedSecret; Ready names the keys,
// sorted, and nothing shows a value.
func TestSealedSecretUnseals(t *testing.T) {
	ns := env.Namespace(t)
	to := clusterRecipient(t)
	before := counter(t, "cruise_sealedsecret_unseal_total")
	ss := createSealed(t, ns, "db", sealAll(t, ns, "db", fiveValues, to), func(ss *cruisev1.SealedSecret) {
		ss.Spec.Template = cruisev1.SecretTemplate{
			Type: "example.com/database",
			Metadata: cruisev1.TemplateMetadata{
				Labels:      map[string]string{"app": "db", "tier": "data"},
				Annotations: map[string]string{"example.com/rotated": "2026-01"},
			},
		}
	})
	got := waitSealed(t, ns, "db", metav1.ConditionTrue, cruisev1.ReasonUnsealed)
	if want := "unsealed 5 keys into Secret db: api-token, config.json, password, tls.key, username"; readyMessage(got.Status.Conditions) != want {
		t.Errorf("Ready message %q, want %q", readyMessage(got.Status.Conditions), want)
	}
	s := waitSecretData(t, ns, "db", fiveValues)
	if s.Type != "example.com/database" {
		t.Errorf("Secret type %q, want example.com/database", s.Type)
	}
	if !maps.Equal(s.Labels, map[string]string{"app": "db", "tier": "data"}) {
		t.Errorf("Secret labels %v", s.Labels)
	}
	if !maps.Equal(s.Annotations, map[string]string{"example.com/rotated": "2026-01"}) {
		t.Errorf("Secret annotations %v", s.Annotations)
	}
	ref := metav1.GetControllerOf(s)
	if ref == nil || ref.UID != ss.UID || ref.Kind != "SealedSecret" || ref.APIVersion != "cruise.dev/v1alpha1" ||
		ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion || len(s.OwnerReferences) != 1 {
		t.Errorf("Secret ownerReferences %+v, want one controller reference to SealedSecret db (uid %s) blocking deletion", s.OwnerReferences, ss.UID)
	}
	if note := waitEvent(t, ns, "db", corev1.EventTypeNormal, cruisev1.ReasonUnsealed); !strings.Contains(note, "created Secret db") {
		t.Errorf("Unsealed event %q", note)
	}
	noValueShown(t, ns, "db", sortedValues(fiveValues)...)
	if n := counter(t, "cruise_sealedsecret_unseal_total"); n <= before {
		t.Errorf("cruise_sealedsecret_unseal_total %v, was %v before", n, before)
	}
}

// TestSealedSecretFollowsItsSpec: a changed value, a new key and a removed
// one are written to the Secret; a new type (immutable in Kubernetes)
// recreates it.
func TestSealedSecretFollowsItsSpec(t *testing.T) {
	ns := env.Namespace(t)
	to := clusterRecipient(t)
	createSealed(t, ns, "app", sealAll(t, ns, "app", map[string]string{"a": "one", "b": "two"}, to), nil)
	first := waitSecretData(t, ns, "app", map[string]string{"a": "one", "b": "two"})

	updateSealed(t, ns, "app", func(ss *cruisev1.SealedSecret) {
		ss.Spec.EncryptedData = sealAll(t, ns, "app", map[string]string{"a": "uno", "c": "tres"}, to)
	})
	waitSealed(t, ns, "app", metav1.ConditionTrue, cruisev1.ReasonUnsealed)
	second := waitSecretData(t, ns, "app", map[string]string{"a": "uno", "c": "tres"})
	if second.UID != first.UID {
		t.Errorf("the Secret was recreated for a data change (uid %s, was %s)", second.UID, first.UID)
	}

	updateSealed(t, ns, "app", func(ss *cruisev1.SealedSecret) { ss.Spec.Template.Type = "example.com/other" })
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		s := getSecret(t, ns, "app")
		if s == nil {
			return false, errorf("no Secret")
		}
		return s.Type == "example.com/other", errorf("Secret type %s", s.Type)
	})
	third := waitSecretData(t, ns, "app", map[string]string{"a": "uno", "c": "tres"})
	if third.UID == second.UID {
		t.Error("the Secret's type changed in place (Kubernetes forbids it): it should be recreated")
	}
	waitSealed(t, ns, "app", metav1.ConditionTrue, cruisev1.ReasonUnsealed)
}

// TestSealedSecretRevertsHandEdits: edits of the Secret's data, labels,
// annotations and immutability are reverted; a deleted Secret comes back.
func TestSealedSecretRevertsHandEdits(t *testing.T) {
	ns := env.Namespace(t)
	to := clusterRecipient(t)
	want := map[string]string{"user": "admin", "pass": "hunter2"}
	createSealed(t, ns, "web", sealAll(t, ns, "web", want, to), func(ss *cruisev1.SealedSecret) {
		ss.Spec.Template.Metadata.Labels = map[string]string{"app": "web"}
	})
	waitSecretData(t, ns, "web", want)

	edits := []struct {
		name string
		edit func(*corev1.Secret)
	}{
		{"value changed", func(s *corev1.Secret) { s.Data["pass"] = []byte("changed-by-hand") }},
		{"key added", func(s *corev1.Secret) { s.Data["extra"] = []byte("x") }},
		{"key removed", func(s *corev1.Secret) { delete(s.Data, "user") }},
		{"labels changed", func(s *corev1.Secret) { s.Labels = map[string]string{"app": "other", "added": "by-hand"} }},
		{"annotation added", func(s *corev1.Secret) { s.Annotations = map[string]string{"by": "hand"} }},
		{"made immutable", func(s *corev1.Secret) { yes := true; s.Immutable = &yes }},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
				s := getSecret(t, ns, "web")
				if s == nil {
					return false, errorf("no Secret")
				}
				e.edit(s)
				err := k8s.Update(t.Context(), s)
				return err == nil, err
			})
			clustertest.Eventually(t, time.Minute, func() (bool, error) {
				s := getSecret(t, ns, "web")
				if s == nil {
					return false, errorf("no Secret")
				}
				ok := maps.Equal(s.Labels, map[string]string{"app": "web"}) && len(s.Annotations) == 0 &&
					(s.Immutable == nil || !*s.Immutable) && len(s.Data) == 2 &&
					string(s.Data["user"]) == want["user"] && string(s.Data["pass"]) == want["pass"]
				return ok, errorf("Secret not reverted yet: keys %v, labels %v, annotations %v", sortedKeys(s.Data), s.Labels, s.Annotations)
			})
		})
	}

	t.Run("deleted", func(t *testing.T) {
		old := getSecret(t, ns, "web")
		if err := k8s.Delete(t.Context(), old); err != nil {
			t.Fatal(err)
		}
		clustertest.Eventually(t, time.Minute, func() (bool, error) {
			s := getSecret(t, ns, "web")
			return s != nil && s.UID != old.UID, errorf("Secret not recreated")
		})
		waitSecretData(t, ns, "web", want)
	})
}

// TestSealedSecretNotOwned: a Secret of the same name that the
// SealedSecret does not control is left untouched, with SecretNotOwned
// and a Warning event; once it is deleted, the SealedSecret unseals.
func TestSealedSecretNotOwned(t *testing.T) {
	ns := env.Namespace(t)
	to := clusterRecipient(t)
	foreign := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared", Labels: map[string]string{"owner": "someone-else"}},
		Data:       map[string][]byte{"key": []byte("theirs")},
	}
	if err := k8s.Create(t.Context(), foreign); err != nil {
		t.Fatal(err)
	}
	createSealed(t, ns, "shared", sealAll(t, ns, "shared", map[string]string{"key": "ours"}, to), nil)
	ss := waitSealed(t, ns, "shared", metav1.ConditionFalse, cruisev1.ReasonSecretNotOwned)
	if msg := readyMessage(ss.Status.Conditions); !strings.Contains(msg, "does not control") || !strings.Contains(msg, "no controller") {
		t.Errorf("SecretNotOwned message %q", msg)
	}
	if note := waitEvent(t, ns, "shared", corev1.EventTypeWarning, cruisev1.ReasonSecretNotOwned); !strings.Contains(note, "left untouched") {
		t.Errorf("SecretNotOwned event %q", note)
	}
	s := getSecret(t, ns, "shared")
	if s.ResourceVersion != foreign.ResourceVersion || string(s.Data["key"]) != "theirs" || len(s.OwnerReferences) != 0 {
		t.Errorf("the foreign Secret was changed: resourceVersion %s (was %s), ownerReferences %v", s.ResourceVersion, foreign.ResourceVersion, s.OwnerReferences)
	}
	noValueShown(t, ns, "shared", "ours", "theirs")

	if err := k8s.Delete(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	waitSealed(t, ns, "shared", metav1.ConditionTrue, cruisev1.ReasonUnsealed)
	waitSecretData(t, ns, "shared", map[string]string{"key": "ours"})
}

// TestSealedSecretUnsealFailedKeepsSecret: when a new spec has a value
// that does not unseal, the Secret written from the previous spec stays
// exactly as it was.
func TestSealedSecretUnsealFailedKeepsSecret(t *testing.T) {
	ns := env.Namespace(t)
	to := clusterRecipient(t)
	createSealed(t, ns, "api", sealAll(t, ns, "api", map[string]string{"token": "v1-token", "user": "bot"}, to), nil)
	before := waitSecretData(t, ns, "api", map[string]string{"token": "v1-token", "user": "bot"})

	updateSealed(t, ns, "api", func(ss *cruisev1.SealedSecret) {
		ss.Spec.EncryptedData = map[string]string{
			"token": sealFor(t, "v2-token", seal.Strict, ns, "api", "token", to),
			"user":  sealFor(t, "bot", seal.Strict, ns, "elsewhere", "user", to),
		}
	})
	ss := waitSealed(t, ns, "api", metav1.ConditionFalse, cruisev1.ReasonUnsealFailed)
	msg := readyMessage(ss.Status.Conditions)
	if !strings.Contains(msg, `key "user"`) || strings.Contains(msg, `key "token"`) || !strings.Contains(msg, "left as it was") {
		t.Errorf("UnsealFailed message %q: want it to name key user only", msg)
	}
	waitEvent(t, ns, "api", corev1.EventTypeWarning, cruisev1.ReasonUnsealFailed)
	after := getSecret(t, ns, "api")
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the Secret was written (resourceVersion %s, was %s) although a value did not unseal", after.ResourceVersion, before.ResourceVersion)
	}
	noValueShown(t, ns, "api", "v1-token", "v2-token")
}

// TestSealedSecretScopes: a namespace-wide value unseals under any name
// in its namespace, a cluster-wide one under any name in any namespace.
func TestSealedSecretScopes(t *testing.T) {
	ns, other := env.Namespace(t), env.Namespace(t)
	to := clusterRecipient(t)
	nsWide := sealFor(t, "shared-in-ns", seal.NamespaceWide, ns, "", "token", to)
	clusterWide := sealFor(t, "shared-everywhere", seal.ClusterWide, "", "", "ca.crt", to)
	for _, name := range []string{"first", "second"} {
		createSealed(t, ns, name, map[string]string{"token": nsWide, "ca.crt": clusterWide}, nil)
	}
	createSealed(t, other, "third", map[string]string{"ca.crt": clusterWide}, nil)
	for _, name := range []string{"first", "second"} {
		waitSealed(t, ns, name, metav1.ConditionTrue, cruisev1.ReasonUnsealed)
		waitSecretData(t, ns, name, map[string]string{"token": "shared-in-ns", "ca.crt": "shared-everywhere"})
	}
	waitSealed(t, other, "third", metav1.ConditionTrue, cruisev1.ReasonUnsealed)
	waitSecretData(t, other, "third", map[string]string{"ca.crt": "shared-everywhere"})
}

// TestSealedSecretNewIncarnation: deleting a SealedSecret leaves its
// Secret to the garbage collector, through its ownerReference; a new
// SealedSecret of the same name does not take over the old Secret while
// it waits for the collector, and unseals once it is gone.
func TestSealedSecretNewIncarnation(t *testing.T) {
	ns := env.Namespace(t)
	to := clusterRecipient(t)
	enc := sealAll(t, ns, "cache", map[string]string{"k": "v"}, to)
	first := createSealed(t, ns, "cache", enc, nil)
	waitSecretData(t, ns, "cache", map[string]string{"k": "v"})
	if err := k8s.Delete(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: "cache"}, &cruisev1.SealedSecret{})
		return apierrors.IsNotFound(err), errorf("SealedSecret still there: %v", err)
	})
	// This control plane runs no garbage collector: the Secret stays,
	// owned by the deleted SealedSecret.
	createSealed(t, ns, "cache", enc, nil)
	ss := waitSealed(t, ns, "cache", metav1.ConditionFalse, cruisev1.ReasonSecretNotOwned)
	if msg := readyMessage(ss.Status.Conditions); !strings.Contains(msg, "garbage collector") {
		t.Errorf("message %q should say the old Secret awaits the garbage collector", msg)
	}
	// The collector's work, done by hand: the new one unseals.
	if err := k8s.Delete(t.Context(), getSecret(t, ns, "cache")); err != nil {
		t.Fatal(err)
	}
	waitSealed(t, ns, "cache", metav1.ConditionTrue, cruisev1.ReasonUnsealed)
}

// TestSealedSecretRefusesTokenType: a template of type
// kubernetes.io/service-account-token is refused, since Kubernetes would
// put a ServiceAccount's token into the Secret.
func TestSealedSecretRefusesTokenType(t *testing.T) {
	ns := env.Namespace(t)
	to := clusterRecipient(t)
	createSealed(t, ns, "token", sealAll(t, ns, "token", map[string]string{"k": "v"}, to), func(ss *cruisev1.SealedSecret) {
		ss.Spec.Template.Type = string(corev1.SecretTypeServiceAccountToken)
		ss.Spec.Template.Metadata.Annotations = map[string]string{corev1.ServiceAccountNameKey: "default"}
	})
	ss := waitSealed(t, ns, "token", metav1.ConditionFalse, cruisev1.ReasonSecretWriteFailed)
	if msg := readyMessage(ss.Status.Conditions); !strings.Contains(msg, "refused") {
		t.Errorf("message %q", msg)
	}
	waitEvent(t, ns, "token", corev1.EventTypeWarning, cruisev1.ReasonSecretWriteFailed)
	if s := getSecret(t, ns, "token"); s != nil {
		t.Error("a service-account-token Secret was written")
	}
}
