package pipeline

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/seal"
)

func TestDecryptionSecret(t *testing.T) {
	tests := []struct {
		name    string
		dec     *v1alpha1.Decryption
		want    string
		wantErr string
	}{
		{"none", nil, "", ""},
		{"sops with a Secret", &v1alpha1.Decryption{Provider: "sops", SecretRef: &v1alpha1.LocalObjectReference{Name: "sops-age"}}, "shop/sops-age", ""},
		{"sops without a Secret", &v1alpha1.Decryption{Provider: "sops"}, "", "spec.decryption.secretRef.name is required"},
		{"another provider", &v1alpha1.Decryption{Provider: "vault", SecretRef: &v1alpha1.LocalObjectReference{Name: "x"}}, "", `spec.decryption.provider "vault" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, ok, err := DecryptionSecret(app(func(s *v1alpha1.ApplicationSpec) { s.Decryption = tt.dec }))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := map[bool]string{true: key.String(), false: ""}[ok]; got != tt.want {
				t.Errorf("DecryptionSecret = %q (ok %v), want %q", key, ok, tt.want)
			}
		})
	}
}

func TestDecryptionKeys(t *testing.T) {
	k1, err := seal.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k2, err := seal.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	secret := func(data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "sops-age"}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	tests := []struct {
		name    string
		data    map[string]string
		want    int
		wantErr string
	}{
		{"one key", map[string]string{"identity.agekey": string(seal.MarshalKey(k1))}, 1, ""},
		{"two keys, other data ignored", map[string]string{"a.agekey": string(seal.MarshalKey(k1)), "b.agekey": k2.Identity.String(), "README": "not a key"}, 2, ""},
		{"no agekey", map[string]string{"identity": string(seal.MarshalKey(k1))}, 0, `decryption Secret shop/sops-age holds no age keys: put them under a data key ending in ".agekey"`},
		{"not identities", map[string]string{"x.agekey": "AGE-SECRET-KEY-1NOTAKEYATALLBUTSOMETHINGSECRETISH"}, 0, "decryption Secret shop/sops-age, key x.agekey: not age identities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DecryptionKeys(secret(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "SECRETISH") {
					t.Errorf("error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Identities) != tt.want {
				t.Errorf("%d identities, want %d", len(d.Identities), tt.want)
			}
		})
	}
}
