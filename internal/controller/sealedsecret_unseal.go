package controller

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/seal"
)

// maxSecretData is what a Secret may hold in all (the API server refuses
// more).
const maxSecretData = 1 << 20

// maxEncodedValue bounds one spec.encryptedData value before it is
// decoded: the padded base64 of the largest age file seal accepts.
const maxEncodedValue = (seal.MaxSealedSize + 2) / 3 * 4

// keyFailure is why one key did not unseal. why never holds a value.
type keyFailure struct {
	key string
	why string
}

// unsealError lists the keys that did not unseal, sorted.
type unsealError struct {
	failures []keyFailure
	total    int
}

func (e *unsealError) Error() string {
	var b strings.Builder
	if e.total > 1 {
		fmt.Fprintf(&b, "%d of %d keys did not unseal: ", len(e.failures), e.total)
	}
	for i, f := range e.failures {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "key %q: %s", f.key, f.why)
	}
	b.WriteString("; the Secret is left as it was")
	return b.String()
}

// unsealData opens every value of the SealedSecret as its own namespace,
// name and key, with ids (newest first). All must open: a SealedSecret
// half unsealed would write a Secret its consumers cannot use. Work is
// bounded per value (seal's limits, checked before decoding) and in all
// (a Secret's size).
func unsealData(ss *cruisev1.SealedSecret, ids []age.Identity) (map[string][]byte, error) {
	keys := slices.Sorted(maps.Keys(ss.Spec.EncryptedData))
	data := make(map[string][]byte, len(keys))
	var failures []keyFailure
	size := 0
	for _, key := range keys {
		value, why := unsealValue(ss, key, ids)
		if why != "" {
			failures = append(failures, keyFailure{key: key, why: why})
			continue
		}
		data[key] = value
		size += len(key) + len(value)
	}
	if len(failures) > 0 {
		return nil, &unsealError{failures: failures, total: len(keys)}
	}
	if size > maxSecretData {
		return nil, fmt.Errorf("the unsealed keys hold %d bytes in all, over a Secret's limit of %d; the Secret is left as it was", size, maxSecretData)
	}
	return data, nil
}

// unsealValue opens one value, or says why not.
func unsealValue(ss *cruisev1.SealedSecret, key string, ids []age.Identity) ([]byte, string) {
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		return nil, "not a valid Secret key: " + strings.Join(errs, "; ")
	}
	encoded := ss.Spec.EncryptedData[key]
	if len(encoded) > maxEncodedValue {
		return nil, fmt.Sprintf("%v: %d bytes of base64, the limit is %d", seal.ErrTooLarge, len(encoded), maxEncodedValue)
	}
	sealed, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, "not standard base64 (a sealed value is the base64 of an age file)"
	}
	value, err := seal.Open(sealed, seal.Target{Namespace: ss.Namespace, Name: ss.Name, Key: key}, ids...)
	if err != nil {
		return nil, describeOpenError(err)
	}
	return value, ""
}

// describeOpenError says what went wrong in a user's terms. seal's errors
// name scopes, namespaces, names and keys, never values.
func describeOpenError(err error) string {
	switch {
	case errors.Is(err, seal.ErrUnknownKey):
		return "sealed to a key this cluster does not hold (seal it to `cruise secrets pubkey`, or restore the key it was sealed to)"
	case errors.Is(err, seal.ErrWrongTarget):
		return err.Error() + " (seal it again for this namespace, name and key, or with a wider --scope)"
	case errors.Is(err, seal.ErrMalformed):
		return err.Error() + " (not an age file sealed by cruise seal)"
	}
	return err.Error()
}

// secretType is the template's type, Opaque by default.
func secretType(ss *cruisev1.SealedSecret) corev1.SecretType {
	if t := ss.Spec.Template.Type; t != "" {
		return corev1.SecretType(t)
	}
	return corev1.SecretTypeOpaque
}

// ownerRef makes the SealedSecret the Secret's controller, so the
// garbage collector deletes the Secret with it.
func ownerRef(ss *cruisev1.SealedSecret) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion: cruisev1.GroupVersion.String(), Kind: cruisev1.SealedSecretKind,
		Name: ss.Name, UID: ss.UID, Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// newSecret is the Secret a SealedSecret describes.
func newSecret(ss *cruisev1.SealedSecret, data map[string][]byte) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ss.Namespace, Name: ss.Name}}
	conform(s, ss, data)
	return s
}

// conform makes s what the SealedSecret describes: its data, type,
// labels, annotations and owner, exactly. Labels and annotations others
// added are removed too: the SealedSecret describes the whole Secret, so
// a hand edit of any of them is reverted like one of the data. Finalizers
// are left to whoever set them.
func conform(s *corev1.Secret, ss *cruisev1.SealedSecret, data map[string][]byte) {
	s.Type = secretType(ss)
	s.Labels = maps.Clone(ss.Spec.Template.Metadata.Labels)
	s.Annotations = maps.Clone(ss.Spec.Template.Metadata.Annotations)
	s.OwnerReferences = []metav1.OwnerReference{ownerRef(ss)}
	s.Data = data
	s.StringData = nil
	s.Immutable = nil
}

// conforms reports whether s is already what the SealedSecret describes.
// Values are compared in constant time.
func conforms(s *corev1.Secret, ss *cruisev1.SealedSecret, data map[string][]byte) bool {
	if s.Type != secretType(ss) || (s.Immutable != nil && *s.Immutable) ||
		!maps.Equal(s.Labels, ss.Spec.Template.Metadata.Labels) ||
		!maps.Equal(s.Annotations, ss.Spec.Template.Metadata.Annotations) {
		return false
	}
	if len(s.OwnerReferences) != 1 || !ownerRefEqual(s.OwnerReferences[0], ownerRef(ss)) {
		return false
	}
	if len(s.Data) != len(data) {
		return false
	}
	same := 1
	for k, want := range data {
		have, ok := s.Data[k]
		if !ok {
			return false
		}
		same &= subtle.ConstantTimeCompare(have, want)
	}
	return same == 1
}

func ownerRefEqual(a, b metav1.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		a.Controller != nil && *a.Controller && a.BlockOwnerDeletion != nil && *a.BlockOwnerDeletion
}

// controlledBy reports whether the SealedSecret is obj's controller.
func controlledBy(obj metav1.Object, ss *cruisev1.SealedSecret) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == ss.UID
}

// describeController names what controls obj, for SecretNotOwned.
func describeController(obj metav1.Object) string {
	ref := metav1.GetControllerOf(obj)
	switch {
	case ref == nil:
		return "it has no controller"
	case ref.Kind == cruisev1.SealedSecretKind && ref.Name == obj.GetName():
		return "it belongs to an earlier SealedSecret of this name (uid " + string(ref.UID) +
			"), which the garbage collector has yet to delete it with"
	}
	return "it is controlled by " + ref.Kind + " " + ref.Name
}

// keyList names the keys for messages: sorted, comma-separated.
func keyList(data map[string][]byte) string {
	if len(data) == 0 {
		return "no keys"
	}
	return strings.Join(slices.Sorted(maps.Keys(data)), ", ")
}
