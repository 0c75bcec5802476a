package controller_test

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/seal"
)

// flip changes one byte of a sealed value: at the end of the payload
// (the last chunk's authentication tag), or in the header's MAC.
func flip(t *testing.T, encoded string, inHeader bool) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	i := len(b) - 1
	if inHeader {
		i = bytes.Index(b, []byte("\n--- ")) + len("\n--- ") + 3
	}
	b[i] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

func truncate(t *testing.T, encoded string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b[:len(b)-20])
}

// TestSealedSecretTampering mirrors the attacks on other tools'
// sealed secrets: every one ends in UnsealFailed naming the key (and only
// the keys that failed), a Warning event, no Secret, and no value shown.
// Scope, namespace, name and key are inside the authenticated ciphertext,
// so nothing outside it (names, labels, annotations, the template) can
// move or widen a value.
func TestSealedSecretTampering(t *testing.T) {
	ns, other := env.Namespace(t), env.Namespace(t)
	to := clusterRecipient(t)
	stranger, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const password, username = "correct-horse-battery", "admin-user"
	strict := func(name, key, value string) string { return sealFor(t, value, seal.Strict, ns, name, key, to) }
	widen := map[string]string{
		"sealedsecrets.bitnami.com/cluster-wide":   "true",
		"sealedsecrets.bitnami.com/namespace-wide": "true",
		"cruise.dev/scope":                         "cluster-wide",
	}

	cases := []struct {
		name     string // of the SealedSecret
		data     map[string]string
		mutate   func(*cruisev1.SealedSecret)
		wantKeys []string
		wantWhy  string
	}{
		{
			// CVE-2026-22728's shape: a strict value copied into a
			// SealedSecret of another name whose metadata claims a wider
			// scope.
			name: "scope-widened-by-metadata",
			data: map[string]string{"password": strict("db", "password", password)},
			mutate: func(ss *cruisev1.SealedSecret) {
				ss.Annotations, ss.Labels = widen, map[string]string{"cruise.dev/scope": "cluster-wide"}
				ss.Spec.Template.Metadata.Annotations = widen
			},
			wantKeys: []string{"password"}, wantWhy: `sealed strict for name "db", not "scope-widened-by-metadata"`,
		},
		{
			name:     "moved-namespace",
			data:     map[string]string{"password": sealFor(t, password, seal.Strict, other, "moved-namespace", "password", to)},
			wantKeys: []string{"password"}, wantWhy: `sealed strict for namespace "` + other + `", not "` + ns + `"`,
		},
		{
			name:     "moved-namespace-wide",
			data:     map[string]string{"password": sealFor(t, password, seal.NamespaceWide, other, "", "password", to)},
			wantKeys: []string{"password"}, wantWhy: `sealed namespace-wide for namespace "` + other + `"`,
		},
		{
			name:     "renamed",
			data:     map[string]string{"password": strict("original", "password", password)},
			wantKeys: []string{"password"}, wantWhy: `sealed strict for name "original", not "renamed"`,
		},
		{
			name: "swapped-keys",
			data: map[string]string{
				"password": strict("swapped-keys", "username", username),
				"username": strict("swapped-keys", "password", password),
			},
			wantKeys: []string{"password", "username"}, wantWhy: `sealed as key "password", not "username"`,
		},
		{
			name:     "cluster-wide-other-key",
			data:     map[string]string{"password": sealFor(t, password, seal.ClusterWide, "", "", "token", to)},
			wantKeys: []string{"password"}, wantWhy: `sealed as key "token", not "password"`,
		},
		{
			name:     "flipped-payload",
			data:     map[string]string{"password": flip(t, strict("flipped-payload", "password", password), false)},
			wantKeys: []string{"password"}, wantWhy: "fails authentication",
		},
		{
			name:     "flipped-header",
			data:     map[string]string{"password": flip(t, strict("flipped-header", "password", password), true)},
			wantKeys: []string{"password"}, wantWhy: "fails authentication",
		},
		{
			name:     "truncated",
			data:     map[string]string{"password": truncate(t, strict("truncated", "password", password))},
			wantKeys: []string{"password"}, wantWhy: "fails authentication",
		},
		{
			name:     "unknown-key",
			data:     map[string]string{"password": sealFor(t, password, seal.Strict, ns, "unknown-key", "password", stranger.Recipient())},
			wantKeys: []string{"password"}, wantWhy: "sealed to a key this cluster does not hold",
		},
		{
			name:     "not-base64",
			data:     map[string]string{"password": "this is *not* base64!"},
			wantKeys: []string{"password"}, wantWhy: "not standard base64",
		},
		{
			name:     "not-age",
			data:     map[string]string{"password": base64.StdEncoding.EncodeToString([]byte("-----BEGIN AGE ENCRYPTED FILE-----"))},
			wantKeys: []string{"password"}, wantWhy: "not an age v1 file",
		},
		{
			name:     "bad-key-name",
			data:     map[string]string{"bad/key": strict("bad-key-name", "bad/key", password)},
			wantKeys: []string{"bad/key"}, wantWhy: "not a valid Secret key",
		},
		{
			// One good value does not make a half Secret.
			name: "one-of-two",
			data: map[string]string{
				"username": strict("one-of-two", "username", username),
				"password": strict("elsewhere", "password", password),
			},
			wantKeys: []string{"password"}, wantWhy: "1 of 2 keys did not unseal",
		},
	}
	for _, tc := range cases {
		createSealed(t, ns, tc.name, tc.data, tc.mutate)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ss := waitSealed(t, ns, tc.name, metav1.ConditionFalse, cruisev1.ReasonUnsealFailed)
			msg := readyMessage(ss.Status.Conditions)
			for _, k := range tc.wantKeys {
				if !strings.Contains(msg, `key "`+k+`"`) {
					t.Errorf("message %q does not name key %s", msg, k)
				}
			}
			for k := range tc.data {
				if !slices.Contains(tc.wantKeys, k) && strings.Contains(msg, `key "`+k+`"`) {
					t.Errorf("message %q names key %s, which unsealed", msg, k)
				}
			}
			if !strings.Contains(msg, tc.wantWhy) {
				t.Errorf("message %q does not say %q", msg, tc.wantWhy)
			}
			note := waitEvent(t, ns, tc.name, corev1.EventTypeWarning, cruisev1.ReasonUnsealFailed)
			if !strings.Contains(note, tc.wantWhy) {
				t.Errorf("event %q does not say %q", note, tc.wantWhy)
			}
			if s := getSecret(t, ns, tc.name); s != nil {
				t.Errorf("a Secret %s was written with keys %v", tc.name, sortedKeys(s.Data))
			}
			noValueShown(t, ns, tc.name, password, username)
		})
	}
}
