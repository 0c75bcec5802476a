package helm

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// GeneratedSecretType marks the Secrets that keep a release's generated
// values.
const GeneratedSecretType corev1.SecretType = "cruise.dev/helm-generated"

const generatedKey = "generated.json"

// GeneratedSecretName is the Secret that keeps the generated values of the
// release an inventory (an Application, or push mode's --name) owns.
func GeneratedSecretName(owner string) string { return "cruise-helm-" + owner }

// LoadGenerated reads the kept values from Secret namespace/name; a
// missing Secret is an empty store.
func LoadGenerated(ctx context.Context, c client.Reader, namespace, name string) (map[string]string, error) {
	var s corev1.Secret
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read generated values from Secret %s/%s: %w", namespace, name, err)
	}
	if s.Type != GeneratedSecretType {
		return nil, fmt.Errorf("secret %s/%s is of type %s, not %s: it is not cruise's, rename the release or remove it", namespace, name, s.Type, GeneratedSecretType)
	}
	var kept map[string]string
	if err := json.Unmarshal(s.Data[generatedKey], &kept); err != nil {
		return nil, fmt.Errorf("secret %s/%s: key %s: %w", namespace, name, generatedKey, err)
	}
	return kept, nil
}

// StoreGenerated writes kept to Secret namespace/name, labelled with
// labels and owned by owner when it is not nil (an Application: the
// garbage collector removes the Secret with it).
func StoreGenerated(ctx context.Context, c client.Client, namespace, name string, labels map[string]string, owner *metav1.OwnerReference, kept map[string]string) error {
	data, err := json.Marshal(kept)
	if err != nil {
		return err
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	_, err = controllerutil.CreateOrUpdate(ctx, c, s, func() error {
		if s.Type != "" && s.Type != GeneratedSecretType {
			return fmt.Errorf("secret %s/%s is of type %s, not %s", namespace, name, s.Type, GeneratedSecretType)
		}
		s.Type = GeneratedSecretType
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		for k, v := range labels {
			s.Labels[k] = v
		}
		if owner != nil {
			s.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		s.Data = map[string][]byte{generatedKey: data}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keep generated values in Secret %s/%s: %w", namespace, name, err)
	}
	return nil
}
