package sealkeys

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Published are the public keys the ConfigMap holds.
type Published struct {
	// Recipient is the newest key, the one to seal to.
	Recipient string
	// Recipients are every key, oldest first.
	Recipients []string
}

// Published reads the ConfigMap's public keys: what `cruise server`
// shows a logged-in user. Like PublicKey, it returns ErrNoPublicKey
// before any key exists.
func (s Store) Published(ctx context.Context) (Published, error) {
	cm := &corev1.ConfigMap{}
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.ns(), Name: PublicName}, cm)
	if apierrors.IsNotFound(err) {
		return Published{}, ErrNoPublicKey
	}
	if err != nil {
		return Published{}, fmt.Errorf("read ConfigMap %s/%s: %w", s.ns(), PublicName, err)
	}
	p := Published{Recipient: strings.TrimSpace(cm.Data[RecipientKey])}
	if p.Recipient == "" {
		return Published{}, ErrNoPublicKey
	}
	for _, l := range strings.Split(cm.Data[RecipientsKey], "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			p.Recipients = append(p.Recipients, l)
		}
	}
	return p, nil
}
