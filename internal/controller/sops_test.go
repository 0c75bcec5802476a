package controller_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/seal/sealtest"
)

// Values only the decrypted files hold; none may show outside the objects
// deployed.
var sopsSecrets = []string{"s3cret-regex-password", "s3cret-whole-token", "s3cret-config-endpoint"}

const (
	sopsSecretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cret-regex-password
`
	sopsWholeSecretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: api
type: Opaque
stringData:
  token: s3cret-whole-token
`
	sopsConfigYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  endpoint: https://s3cret-config-endpoint.example
  replicas: "3"
`
)

// sopsKey is an age key, the SOPS encryptions made to it, and the Secret
// that hands it to an Application.
type sopsKey struct {
	t   testing.TB
	key seal.Key
}

func newSOPSKey(t testing.TB) sopsKey {
	t.Helper()
	k, err := seal.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sopsKey{t: t, key: k}
}

// regex encrypts as Flux documents it; whole as sops does by default.
func (k sopsKey) regex(plain string) string {
	return string(sealtest.Encrypt(k.t, []byte(plain), ".yaml", []string{k.key.Recipient().String()}, "--encrypted-regex", "^(data|stringData)$"))
}

func (k sopsKey) whole(plain string) string {
	return string(sealtest.Encrypt(k.t, []byte(plain), ".yaml", []string{k.key.Recipient().String()}))
}

// secret creates the decryption Secret name in ns.
func (k sopsKey) secret(ns, name string) {
	k.t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       map[string][]byte{"identity.agekey": seal.MarshalKey(k.key)},
	}
	if err := k8s.Create(k.t.Context(), s); err != nil {
		k.t.Fatalf("create decryption Secret: %v", err)
	}
}

func withDecryption(secret string) func(*cruisev1.ApplicationSpec) {
	return func(s *cruisev1.ApplicationSpec) {
		s.Decryption = &cruisev1.Decryption{Provider: cruisev1.DecryptionProviderSOPS, SecretRef: &cruisev1.LocalObjectReference{Name: secret}}
	}
}

func (f *fixture) secret(name string) *corev1.Secret {
	f.t.Helper()
	s := &corev1.Secret{}
	err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, s)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.t.Fatalf("get Secret %s: %v", name, err)
	}
	return s
}

// checkNothingShown fails if a decrypted value appears in an Application's
// status or in the events of the test's namespace.
func (f *fixture) checkNothingShown(apps ...string) {
	f.t.Helper()
	var shown []string
	for _, name := range apps {
		b, err := json.Marshal(f.getApp(name))
		if err != nil {
			f.t.Fatal(err)
		}
		shown = append(shown, string(b))
	}
	var events corev1.EventList
	if err := k8s.List(f.t.Context(), &events, client.InNamespace(f.ns)); err != nil {
		f.t.Fatal(err)
	}
	for _, e := range events.Items {
		shown = append(shown, e.Message)
	}
	for _, s := range shown {
		for _, secret := range sopsSecrets {
			if strings.Contains(s, secret) {
				f.t.Errorf("%q shown in %s", secret, s)
			}
		}
	}
}

// TestSOPSApplications deploys files the sops CLI encrypted, in Flux's
// regex form and sops's whole-document form, from a plain directory and
// from a kustomization.
func TestSOPSApplications(t *testing.T) {
	f := newFixture(t)
	k := newSOPSKey(t)
	k.secret(f.ns, "sops-age")
	commit := f.commit("encrypted", map[string]string{
		"plain/secret.yaml":       k.regex(sopsSecretYAML),
		"plain/api.yaml":          k.whole(sopsWholeSecretYAML),
		"plain/settings.yaml":     k.whole(sopsConfigYAML),
		"kust/kustomization.yaml": "namePrefix: kust-\nresources: [secret.yaml, api.yaml, settings.yaml]\n",
		"kust/secret.yaml":        k.regex(sopsSecretYAML),
		"kust/api.yaml":           k.whole(sopsWholeSecretYAML),
		"kust/settings.yaml":      k.whole(sopsConfigYAML),
	})
	f.source()
	f.app("plain", "plain", withDecryption("sops-age"))
	f.app("kust", "kust", withDecryption("sops-age"))
	f.waitReady("plain", commit)
	f.waitReady("kust", commit)

	for _, prefix := range []string{"", "kust-"} {
		if s := f.secret(prefix + "db"); s == nil || string(s.Data["password"]) != "s3cret-regex-password" {
			t.Errorf("Secret %sdb: %v", prefix, s)
		}
		if s := f.secret(prefix + "api"); s == nil || string(s.Data["token"]) != "s3cret-whole-token" || s.Type != corev1.SecretTypeOpaque {
			t.Errorf("Secret %sapi: %v", prefix, s)
		}
		if cm := f.configMap(prefix + "settings"); cm == nil || cm.Data["endpoint"] != "https://s3cret-config-endpoint.example" || cm.Data["replicas"] != "3" {
			t.Errorf("ConfigMap %ssettings: %v", prefix, cm)
		}
	}
	f.checkNothingShown("plain", "kust")
}

// TestSOPSFailures: a SOPS file that does not decrypt fails the sync
// naming the file, and nothing of that revision is applied; a missing
// decryption Secret is named.
func TestSOPSFailures(t *testing.T) {
	f := newFixture(t)
	k, stranger := newSOPSKey(t), newSOPSKey(t)
	k.secret(f.ns, "sops-age")
	good := f.commit("good", map[string]string{
		"app/secret.yaml": k.regex(sopsSecretYAML),
		"app/plain.yaml":  cmYAML("plain", "one"),
	})
	f.source()
	f.app("web", "app", withDecryption("sops-age"))
	f.waitReady("web", good)

	for _, tc := range []struct {
		name, file, want string
	}{
		{"wrong key", stranger.regex(sopsSecretYAML), "render: app/secret.yaml: sops: SOPS file is encrypted to none of the age identities given"},
		{"tampered", strings.Replace(k.regex(sopsSecretYAML), "name: db", "name: db2", 1), "render: app/secret.yaml: sops: SOPS file fails authentication"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := f.commit(tc.name, map[string]string{"app/secret.yaml": tc.file, "app/plain.yaml": cmYAML("plain", "two")})
			f.requestFetch(bad)
			f.eventually("the sync of "+bad[:8]+" fails naming the file", func() (bool, string) {
				app := f.getApp("web")
				c := readyCondition(app)
				if c == nil {
					return false, "no Ready"
				}
				return c.Status == metav1.ConditionFalse && c.Reason == cruisev1.ReasonRenderFailed &&
					strings.Contains(app.Status.LastAttemptedRevision, bad) && strings.Contains(c.Message, tc.want), c.Reason + ": " + c.Message
			})
			if v := f.configMap("plain").Data["value"]; v != "one" {
				t.Errorf("ConfigMap plain = %q: the failed revision changed the cluster", v)
			}
			if s := f.secret("db"); s == nil || string(s.Data["password"]) != "s3cret-regex-password" {
				t.Errorf("Secret db changed: %v", s)
			}
			f.checkNothingShown("web")
		})
	}

	t.Run("no decryption configured", func(t *testing.T) {
		f.app("bare", "app", nil)
		app := f.waitCondition("bare", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
		if c := readyCondition(app); !strings.Contains(c.Message, "render: app/secret.yaml: encrypted with sops, and no decryption keys are configured") {
			t.Errorf("message: %s", c.Message)
		}
	})
	t.Run("missing decryption Secret", func(t *testing.T) {
		f.app("nokeys", "app", withDecryption("no-such-secret"))
		app := f.waitCondition("nokeys", metav1.ConditionFalse, cruisev1.ReasonSecretNotFound)
		if c := readyCondition(app); !strings.Contains(c.Message, "decryption Secret "+f.ns+"/no-such-secret not found") {
			t.Errorf("message: %s", c.Message)
		}
	})
}

func readyCondition(app *cruisev1.Application) *metav1.Condition {
	for i := range app.Status.Conditions {
		if app.Status.Conditions[i].Type == cruisev1.ConditionReady {
			return &app.Status.Conditions[i]
		}
	}
	return nil
}
