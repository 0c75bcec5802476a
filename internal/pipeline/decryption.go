package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/render"
)

// AgeKeySuffix marks the data keys of a decryption Secret that hold age
// identities, as in Flux ("identity.agekey").
const AgeKeySuffix = ".agekey"

// DecryptionSecret names the Secret holding app's decryption keys, in the
// Application's namespace; ok is false when app decrypts nothing. A
// provider other than sops, or sops without a secretRef, is an error: the
// cluster's own sealing keys are deliberately not used for SOPS files, so
// that one tenant's files never decrypt in another tenant's Application.
func DecryptionSecret(app *v1alpha1.Application) (key types.NamespacedName, ok bool, err error) {
	d := app.Spec.Decryption
	if d == nil {
		return types.NamespacedName{}, false, nil
	}
	if d.Provider != v1alpha1.DecryptionProviderSOPS {
		return types.NamespacedName{}, false, fmt.Errorf("spec.decryption.provider %q is not supported: use %q", d.Provider, v1alpha1.DecryptionProviderSOPS)
	}
	if d.SecretRef == nil || d.SecretRef.Name == "" {
		return types.NamespacedName{}, false, errors.New("spec.decryption.secretRef.name is required: it names the Secret holding the age keys (*.agekey)")
	}
	return types.NamespacedName{Namespace: app.Namespace, Name: d.SecretRef.Name}, true, nil
}

// DecryptionKeys reads the age identities of a decryption Secret: every
// data key ending in AgeKeySuffix holds identities as age-keygen writes
// them (AGE-SECRET-KEY-1… lines, # comments). The error names the Secret
// and the data key, never their content.
func DecryptionKeys(secret *corev1.Secret) (*render.Decryption, error) {
	name := secret.Namespace + "/" + secret.Name
	var keys []string
	for k := range secret.Data {
		if strings.HasSuffix(k, AgeKeySuffix) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("decryption Secret %s holds no age keys: put them under a data key ending in %q (e.g. identity.agekey)", name, AgeKeySuffix)
	}
	sort.Strings(keys)
	d := &render.Decryption{}
	for _, k := range keys {
		ids, err := ParseAgeIdentities(secret.Data[k])
		if err != nil {
			return nil, fmt.Errorf("decryption Secret %s, key %s: %w", name, k, err)
		}
		d.Identities = append(d.Identities, ids...)
	}
	return d, nil
}

// ParseAgeIdentities reads an age identity file. age's own parse errors
// are not passed on: they may quote part of a malformed key.
func ParseAgeIdentities(data []byte) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, errors.New("not age identities (AGE-SECRET-KEY-1… lines, as age-keygen writes them)")
	}
	return ids, nil
}
