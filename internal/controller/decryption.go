package controller

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/pipeline"
	"github.com/cruisegitops/cruise/internal/render"
)

// decryption reads the age keys of app's spec.decryption from its Secret,
// for the render to decrypt SOPS files with; nil when the Application
// decrypts nothing. A missing Secret fails the sync naming it and is
// retried, as it may be created any moment; a Secret without usable keys,
// or a spec naming none, stalls (and is retried on backoff, since fixing
// the Secret triggers no reconcile). The messages name the Secret and its
// data keys, never their content.
//
// It also returns the key the history digest hashes decrypted objects
// with (see renderDigest): derived from the Secret's keys, so it is stable
// while they are, and unknown to whoever can only read the Application.
func (r *ApplicationReconciler) decryption(ctx context.Context, app *cruisev1.Application) (*render.Decryption, []byte, error) {
	key, ok, err := pipeline.DecryptionSecret(app)
	if err != nil {
		return nil, nil, stalling(cruisev1.ReasonRenderFailed, err)
	}
	if !ok {
		return nil, nil, nil
	}
	// Past the cache, as the Application itself is read: a Secret created
	// just before the Application must not fail its first sync.
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, transient(cruisev1.ReasonSecretNotFound, fmt.Errorf("decryption Secret %s not found (spec.decryption.secretRef)", key))
		}
		return nil, nil, transient(cruisev1.ReasonRenderFailed, fmt.Errorf("read decryption Secret %s: %w", key, err))
	}
	dec, err := pipeline.DecryptionKeys(secret)
	if err != nil {
		return nil, nil, stalling(cruisev1.ReasonRenderFailed, err)
	}
	return dec, digestKey(secret), nil
}

// digestKey is SHA-256 over the Secret's data, keys sorted.
func digestKey(secret *corev1.Secret) []byte {
	names := make([]string, 0, len(secret.Data))
	for k := range secret.Data {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	h.Write([]byte("cruise history digest v1\n"))
	for _, k := range names {
		fmt.Fprintf(h, "%d:%s%d:", len(k), k, len(secret.Data[k]))
		h.Write(secret.Data[k])
	}
	return h.Sum(nil)
}
