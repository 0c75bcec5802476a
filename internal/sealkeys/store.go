package sealkeys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/seal"
)

// Names of the objects in the keys' namespace.
const (
	// DefaultNamespace is where cruise is installed.
	DefaultNamespace = "cruise-system"
	// SecretName holds the private keys.
	SecretName = "cruise-sealing-keys"
	// PublicName is the ConfigMap with the public keys.
	PublicName = "cruise-sealing-public-key"
	// RecipientKey in the ConfigMap: the newest recipient, the one to seal
	// to.
	RecipientKey = "recipient"
	// RecipientsKey in the ConfigMap: every recipient, oldest first, one a
	// line (a valid age -R file).
	RecipientsKey = "recipients"
	// LabelKeys marks both objects.
	LabelKeys = "cruise.dev/sealing-keys"
)

// ErrNoPublicKey is returned by PublicKey before any key exists.
var ErrNoPublicKey = errors.New("the cluster has no sealing key yet: start the controller (it creates one) or run cruise secrets restore")

// Store reads and writes the keys in Namespace.
type Store struct {
	Client    client.Client
	Namespace string
}

func (s Store) ns() string {
	if s.Namespace == "" {
		return DefaultNamespace
	}
	return s.Namespace
}

// Load returns every key in the Secret; an absent Secret is an empty ring.
// A data entry that does not parse fails the load, naming the entry.
func (s Store) Load(ctx context.Context) (seal.Ring, error) {
	secret := &corev1.Secret{}
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.ns(), Name: SecretName}, secret)
	if apierrors.IsNotFound(err) {
		return seal.Ring{}, nil
	}
	if err != nil {
		return seal.Ring{}, fmt.Errorf("read Secret %s/%s: %w", s.ns(), SecretName, err)
	}
	return decode(secret)
}

func decode(secret *corev1.Secret) (seal.Ring, error) {
	var ring seal.Ring
	for name, data := range secret.Data {
		if !strings.HasSuffix(name, ".agekey") {
			continue
		}
		keys, err := seal.ParseKeys(bytes.NewReader(data), secret.CreationTimestamp.UTC())
		if err != nil {
			return seal.Ring{}, fmt.Errorf("keys Secret %s/%s, entry %s: %w", secret.Namespace, secret.Name, name, err)
		}
		ring.Add(keys...)
	}
	return ring, nil
}

// entryName orders entries by creation and keeps two keys made in the same
// second apart.
func entryName(k seal.Key) string {
	r := k.Recipient().String()
	return k.Created.UTC().Format("20060102T150405Z") + "-" + r[len(r)-8:] + ".agekey"
}

// Add stores keys the Secret does not hold yet, creating the Secret (and
// the namespace, for a restore before install) when needed, then publishes
// the public keys. It returns the whole ring and how many keys were new.
func (s Store) Add(ctx context.Context, keys ...seal.Key) (seal.Ring, int, error) {
	var ring seal.Ring
	added := 0
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		secret := &corev1.Secret{}
		err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.ns(), Name: SecretName}, secret)
		create := apierrors.IsNotFound(err)
		if err != nil && !create {
			return fmt.Errorf("read Secret %s/%s: %w", s.ns(), SecretName, err)
		}
		if create {
			secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
				Namespace: s.ns(), Name: SecretName,
				Labels: map[string]string{LabelKeys: "private", "app.kubernetes.io/part-of": "cruise"},
			}, Type: corev1.SecretTypeOpaque}
		}
		have, err := decode(secret)
		if err != nil {
			return err
		}
		added = have.Add(keys...)
		ring = have
		if added == 0 {
			return nil
		}
		secret.Data = map[string][]byte{}
		for _, k := range have.Keys() {
			secret.Data[entryName(k)] = seal.MarshalKey(k)
		}
		if create {
			if err := s.ensureNamespace(ctx); err != nil {
				return err
			}
			err = s.Client.Create(ctx, secret)
			if apierrors.IsAlreadyExists(err) {
				// Another writer created it first: read it and merge again.
				return apierrors.NewConflict(corev1.Resource("secrets"), SecretName, err)
			}
		} else {
			err = s.Client.Update(ctx, secret)
		}
		if err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("write Secret %s/%s: %w", s.ns(), SecretName, err)
		}
		return err
	})
	if err != nil {
		return seal.Ring{}, 0, err
	}
	if ring, err = s.publishCurrent(ctx, ring); err != nil {
		return ring, added, err
	}
	return ring, added, nil
}

// publishCurrent publishes ring, then reads the Secret again and
// publishes what it holds until the two agree. Two writers adding keys at
// once (a rotation during a restore) each publish the ring they wrote;
// without the second read the earlier one's could be published last. With
// it, whoever publishes last has read the Secret after every write that
// went before. It returns the ring as published.
func (s Store) publishCurrent(ctx context.Context, ring seal.Ring) (seal.Ring, error) {
	for range 5 {
		if err := s.Publish(ctx, ring); err != nil {
			return ring, err
		}
		now, err := s.Load(ctx)
		if err != nil {
			return ring, err
		}
		if slices.Equal(now.Recipients(), ring.Recipients()) {
			return ring, nil
		}
		ring = now
	}
	return ring, fmt.Errorf("publish ConfigMap %s/%s: the keys kept changing while publishing; the controller publishes them on its next change", s.ns(), PublicName)
}

func (s Store) ensureNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.ns()}}
	err := s.Client.Create(ctx, ns)
	if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsForbidden(err) {
		return fmt.Errorf("create namespace %s: %w", s.ns(), err)
	}
	return nil
}

// Publish writes the ring's public keys to the ConfigMap, unless it holds
// them already.
func (s Store) Publish(ctx context.Context, ring seal.Ring) error {
	newest, ok := ring.Newest()
	if !ok {
		return nil
	}
	want := map[string]string{
		RecipientKey:  newest.Recipient().String(),
		RecipientsKey: strings.Join(ring.Recipients(), "\n") + "\n",
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm := &corev1.ConfigMap{}
		err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.ns(), Name: PublicName}, cm)
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
				Namespace: s.ns(), Name: PublicName,
				Labels: map[string]string{LabelKeys: "public", "app.kubernetes.io/part-of": "cruise"},
			}, Data: want}
			err = s.Client.Create(ctx, cm)
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("configmaps"), PublicName, err)
			}
			return wrapPublish(s.ns(), err)
		}
		if err != nil {
			return wrapPublish(s.ns(), err)
		}
		if cm.Data[RecipientKey] == want[RecipientKey] && cm.Data[RecipientsKey] == want[RecipientsKey] {
			return nil
		}
		cm.Data = want
		return wrapPublish(s.ns(), s.Client.Update(ctx, cm))
	})
}

func wrapPublish(ns string, err error) error {
	if err == nil || apierrors.IsConflict(err) {
		return err
	}
	return fmt.Errorf("publish ConfigMap %s/%s: %w", ns, PublicName, err)
}

// PublicKey reads the newest recipient from the ConfigMap: what `cruise
// secrets pubkey` prints. Any authenticated user may read it.
func (s Store) PublicKey(ctx context.Context) (string, error) {
	cm := &corev1.ConfigMap{}
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.ns(), Name: PublicName}, cm)
	if apierrors.IsNotFound(err) {
		return "", ErrNoPublicKey
	}
	if err != nil {
		return "", fmt.Errorf("read ConfigMap %s/%s: %w", s.ns(), PublicName, err)
	}
	r := strings.TrimSpace(cm.Data[RecipientKey])
	if r == "" {
		return "", ErrNoPublicKey
	}
	return r, nil
}

// Rotation says whether the ring needs a new key at now, and when to look
// again: a key is due when the ring is empty, or when the newest key is
// interval old (never, for interval 0).
func Rotation(ring seal.Ring, now time.Time, interval time.Duration) (due bool, next time.Duration) {
	newest, ok := ring.Newest()
	if !ok {
		return true, 0
	}
	if interval <= 0 {
		return false, 0
	}
	age := now.Sub(newest.Created)
	if age >= interval {
		return true, 0
	}
	return false, interval - age
}

// EnsureCurrent adds a key when Rotation says one is due, and publishes the
// public keys either way (a restore or an upgrade may have left the
// ConfigMap stale). It returns the ring and when to call it again (0:
// rotation is off).
func (s Store) EnsureCurrent(ctx context.Context, now time.Time, interval time.Duration) (seal.Ring, time.Duration, error) {
	ring, err := s.Load(ctx)
	if err != nil {
		return seal.Ring{}, 0, err
	}
	if due, _ := Rotation(ring, now, interval); due {
		k, err := seal.GenerateKey(now)
		if err != nil {
			return seal.Ring{}, 0, err
		}
		if ring, _, err = s.Add(ctx, k); err != nil {
			return seal.Ring{}, 0, err
		}
	} else if err := s.Publish(ctx, ring); err != nil {
		return ring, 0, err
	}
	_, next := Rotation(ring, now, interval)
	return ring, next, nil
}
