package controller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image"
)

// defaultScanTimeout bounds a scan whose ImageRepository sets no timeout:
// ten thousand tags are ten pages of a thousand, seconds on any registry.
const defaultScanTimeout = time.Minute

// defaultImageInterval is the CRD's default, for objects written without
// it (the API server fills it in otherwise).
const defaultImageInterval = 5 * time.Minute

func imageInterval(repo *cruisev1.ImageRepository) time.Duration {
	if d := repo.Spec.Interval.Duration; d > 0 {
		return d
	}
	return defaultImageInterval
}

func scanTimeout(repo *cruisev1.ImageRepository) time.Duration {
	if t := repo.Spec.Timeout; t != nil && t.Duration > 0 {
		return t.Duration
	}
	return defaultScanTimeout
}

// scanOf builds the scan an ImageRepository's spec asks for, reading its
// Secrets. A spec that cannot work stalls, naming the field; a Secret that
// does not exist yet backs off (it is often created just after).
func (r *ImageRepositoryReconciler) scanOf(ctx context.Context, repo *cruisev1.ImageRepository) (image.Scan, error) {
	spec := repo.Spec
	s := image.Scan{
		Image: spec.Image, Insecure: spec.Insecure, TagLimit: spec.TagLimit,
		// The timeout bounds the whole scan anyway; a registry asking for
		// a longer pause than that fails the scan at once.
		MaxRetryWait: scanTimeout(repo),
	}
	name, err := image.Repository(spec.Image, spec.Insecure)
	if err != nil {
		return s, stalling(cruisev1.ReasonScanFailed, fmt.Errorf("spec.image: %w", err))
	}
	if s.Exclude, err = image.CompileExclusions(spec.ExclusionList); err != nil {
		return s, stalling(cruisev1.ReasonScanFailed, fmt.Errorf("spec.exclusionList: %w", err))
	}
	if spec.IncludePattern != "" {
		if s.Include, err = regexp.Compile(spec.IncludePattern); err != nil {
			return s, stalling(cruisev1.ReasonScanFailed, fmt.Errorf("spec.includePattern %q: %w", spec.IncludePattern, err))
		}
	}
	if spec.SecretRef != nil {
		secret, err := r.secret(ctx, repo.Namespace, spec.SecretRef.Name, "credentials")
		if err != nil {
			return s, err
		}
		key := types.NamespacedName{Namespace: repo.Namespace, Name: spec.SecretRef.Name}
		data, ok := secret.Data[corev1.DockerConfigJsonKey]
		if !ok {
			return s, stalling(cruisev1.ReasonAuthenticationFailed, fmt.Errorf(
				"credentials Secret %s has no %s key (create it with kubectl create secret docker-registry)", key, corev1.DockerConfigJsonKey))
		}
		if s.Auth, err = image.AuthFromDockerConfig(data, name.RegistryStr()); err != nil {
			return s, stalling(cruisev1.ReasonAuthenticationFailed, fmt.Errorf("credentials Secret %s, key %s: %w", key, corev1.DockerConfigJsonKey, err))
		}
	}
	if spec.CertSecretRef != nil {
		secret, err := r.secret(ctx, repo.Namespace, spec.CertSecretRef.Name, "certificate")
		if err != nil {
			return s, err
		}
		d := secret.Data
		if s.Transport, err = image.Transport(d["ca.crt"], d[corev1.TLSCertKey], d[corev1.TLSPrivateKeyKey]); err != nil {
			return s, stalling(cruisev1.ReasonScanFailed, fmt.Errorf("certificate Secret %s/%s: %w", repo.Namespace, spec.CertSecretRef.Name, err))
		}
	}
	return s, nil
}

// secret reads a Secret an ImageRepository names.
func (r *ImageRepositoryReconciler) secret(ctx context.Context, ns, name, what string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: ns, Name: name}
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	if err := reader.Get(ctx, key, secret); err != nil {
		reason := cruisev1.ReasonScanFailed
		if apierrors.IsNotFound(err) {
			reason = cruisev1.ReasonSecretNotFound
		}
		return nil, transient(reason, fmt.Errorf("read %s Secret %s: %w", what, key, err))
	}
	return secret, nil
}

// classifyScanError decides, per kind of registry error, whether retrying
// can help. Refused credentials stall until the Secret changes; a missing
// repository (it may be pushed yet), an unreachable or slow registry, and
// anything else (5xx, a rate limit that outlasted the timeout) back off.
// Every message names the registry's host:port (image.Scan does).
func classifyScanError(err error, timeout time.Duration) error {
	var untrusted *tls.CertificateVerificationError
	var op *net.OpError
	switch {
	// TLS failures first: on a loopback or private address the client
	// falls back to plain HTTP, and the TLS server's 400 would hide them.
	case errors.As(err, &untrusted):
		return transient(cruisev1.ReasonRegistryUnreachable, fmt.Errorf(
			"the registry's certificate is not trusted (a certSecretRef's ca.crt can trust its CA): %w", err))
	case errors.As(err, &op) && op.Op == "remote error":
		// A TLS alert from the registry: most often, no client
		// certificate or one it does not trust.
		return transient(cruisev1.ReasonRegistryUnreachable, fmt.Errorf(
			"the registry refused the TLS handshake (does it want a client certificate, certSecretRef's tls.crt and tls.key?): %w", err))
	case errors.Is(err, image.ErrUnauthorized):
		return stalling(cruisev1.ReasonAuthenticationFailed, err)
	case errors.Is(err, image.ErrNotFound):
		return transient(cruisev1.ReasonImageNotFound, err)
	case errors.Is(err, image.ErrUnreachable):
		return transient(cruisev1.ReasonRegistryUnreachable, err)
	case errors.Is(err, context.DeadlineExceeded):
		return transient(cruisev1.ReasonRegistryUnreachable, fmt.Errorf("no answer within the timeout (%s): %w", timeout, err))
	}
	return transient(cruisev1.ReasonScanFailed, err)
}
