package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	notification "github.com/cruisegitops/cruise/internal/notify"
)

// indexProviderSecret finds Providers by the Secret they read.
const indexProviderSecret = ".spec.secretRef.name"

// ProviderReconciler checks Providers and configures the Dispatcher's
// senders with them: a Provider is Ready when its Secret and settings
// make a Sender; otherwise Ready is False with InvalidProvider and a
// message naming the field or Secret key at fault (never a value). It
// runs again when the Provider's Secret changes.
type ProviderReconciler struct {
	Client     client.Client
	Dispatcher *notification.Dispatcher
}

// SetupWithManager registers the reconciler, its index and watches.
func (r *ProviderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &cruisev1.Provider{}, indexProviderSecret, func(o client.Object) []string {
		if ref := o.(*cruisev1.Provider).Spec.SecretRef; ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&cruisev1.Provider{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.providersOfSecret)).
		Named("provider").
		Complete(r)
}

func (r *ProviderReconciler) providersOfSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var list cruisev1.ProviderList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{indexProviderSecret: o.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}
	}
	return out
}

// Reconcile checks one Provider and hands it to the Dispatcher.
func (r *ProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ref := notification.Ref{Namespace: req.Namespace, Name: req.Name}
	p := &cruisev1.Provider{}
	if err := r.Client.Get(ctx, req.NamespacedName, p); err != nil {
		if apierrors.IsNotFound(err) {
			r.Dispatcher.RemoveProvider(ref)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !p.DeletionTimestamp.IsZero() {
		r.Dispatcher.RemoveProvider(ref)
		return ctrl.Result{}, nil
	}
	patchStatus := patchStatusLater(ctx, r.Client, p)
	defer func() { retErr = errors.Join(retErr, patchStatus()) }()
	p.Status.ObservedGeneration = p.Generation
	cfg, err := providerConfig(ctx, r.Client, p)
	if err == nil {
		err = r.Dispatcher.SetProvider(ref, cfg, p.Spec.Suspend)
	} else {
		r.Dispatcher.RemoveProvider(ref)
	}
	switch {
	case err != nil:
		set(&p.Status.Conditions, p.Generation, cruisev1.ConditionReady, metav1.ConditionFalse, cruisev1.ReasonInvalidProvider, err.Error())
	case p.Spec.Suspend:
		markReady(&p.Status.Conditions, p.Generation, cruisev1.ReasonSuspended, "suspended: nothing is delivered until it is resumed")
	default:
		markReady(&p.Status.Conditions, p.Generation, cruisev1.ReasonSucceeded, "delivers to "+cfg.String())
	}
	return ctrl.Result{}, nil
}

// providerConfig resolves a Provider and its Secret. Errors name the
// field or key; values never appear in them.
func providerConfig(ctx context.Context, c client.Reader, p *cruisev1.Provider) (notification.ProviderConfig, error) {
	cfg := notification.ProviderConfig{Type: p.Spec.Type, Address: p.Spec.Address, Channel: p.Spec.Channel}
	if p.Spec.Timeout != nil {
		cfg.Timeout = p.Spec.Timeout.Duration
	}
	if p.Spec.Type == notification.TypeSMTP {
		if p.Spec.SMTP == nil {
			return cfg, errors.New("spec.smtp (from, to) is required for type smtp")
		}
		cfg.From, cfg.To, cfg.TLSMode = p.Spec.SMTP.From, p.Spec.SMTP.To, p.Spec.SMTP.TLS
		if cfg.TLSMode == "" {
			cfg.TLSMode = notification.TLSStartTLS
		}
	}
	if ref := p.Spec.SecretRef; ref != nil {
		secret := &corev1.Secret{}
		key := types.NamespacedName{Namespace: p.Namespace, Name: ref.Name}
		if err := c.Get(ctx, key, secret); err != nil {
			if apierrors.IsNotFound(err) {
				return cfg, fmt.Errorf("spec.secretRef: Secret %s not found", key)
			}
			return cfg, fmt.Errorf("read Secret %s: %w", key, err)
		}
		d := secret.Data
		// Values written with `echo` end in a newline: trim it where it
		// cannot be part of the value. Passwords and HMAC keys are taken
		// as they are.
		trim := func(k string) string { return strings.TrimSpace(string(d[k])) }
		cfg.Username, cfg.Password, cfg.Token = trim("username"), string(d["password"]), trim("token")
		cfg.HMACKey, cfg.CA = d["hmacKey"], d["ca.crt"]
		if a := trim("address"); a != "" {
			cfg.Address = a
		}
		if _, ok := d["address"]; ok && cfg.Address == "" {
			return cfg, fmt.Errorf("spec.secretRef: Secret %s: key address is empty", key)
		}
	}
	return cfg, nil
}
