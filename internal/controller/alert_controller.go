package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	notification "github.com/cruisegitops/cruise/internal/notify"
)

// indexAlertProvider finds Alerts by the Provider they send to.
const indexAlertProvider = ".spec.providerRef.name"

// DefaultAlertStatusInterval is the least time between two status writes
// of an Alert caused by deliveries.
const DefaultAlertStatusInterval = 2 * time.Second

// AlertReconciler compiles Alerts into the Dispatcher and reports, in
// their status, whether they can deliver and how the last delivery went.
// Ready is False with ProviderNotFound or InvalidProvider while the
// Provider cannot be used, TemplateError when a template or pattern does
// not parse or a template failed on an event (the default was sent), and
// DeliveryFailed while the last delivery failed. Delivery outcomes reach
// the status at most once per StatusInterval per Alert.
type AlertReconciler struct {
	Client     client.Client
	Dispatcher *notification.Dispatcher
	// StatusInterval; default DefaultAlertStatusInterval.
	StatusInterval time.Duration

	deliveries chan event.TypedGenericEvent[*cruisev1.Alert]
}

// SetupWithManager registers the reconciler, its index and watches, and
// the runnable that turns deliveries into status updates.
func (r *AlertReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.StatusInterval <= 0 {
		r.StatusInterval = DefaultAlertStatusInterval
	}
	r.deliveries = make(chan event.TypedGenericEvent[*cruisev1.Alert], 1024)
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &cruisev1.Alert{}, indexAlertProvider, func(o client.Object) []string {
		return []string{o.(*cruisev1.Alert).Spec.ProviderRef.Name}
	}); err != nil {
		return err
	}
	if err := mgr.Add(runnable(r.pumpDeliveries)); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&cruisev1.Alert{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A Provider's readiness is part of its Alerts' status.
		Watches(&cruisev1.Provider{}, handler.EnqueueRequestsFromMapFunc(r.alertsOfProvider)).
		WatchesRawSource(source.Channel(r.deliveries, &handler.TypedEnqueueRequestForObject[*cruisev1.Alert]{})).
		Named("alert").
		Complete(r)
}

// runnable is a manager Runnable that runs on the leader.
type runnable func(context.Context) error

func (f runnable) Start(ctx context.Context) error { return f(ctx) }

// pumpDeliveries enqueues the Alerts whose delivery state changed, at
// most one batch per StatusInterval.
func (r *AlertReconciler) pumpDeliveries(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.Dispatcher.Changed():
		}
		for _, ref := range r.Dispatcher.TakeChanged() {
			a := &cruisev1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}}
			select {
			case r.deliveries <- event.TypedGenericEvent[*cruisev1.Alert]{Object: a}:
			case <-ctx.Done():
				return nil
			}
		}
		t := time.NewTimer(r.StatusInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (r *AlertReconciler) alertsOfProvider(ctx context.Context, o client.Object) []reconcile.Request {
	var list cruisev1.AlertList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{indexAlertProvider: o.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}
	}
	return out
}

// Reconcile compiles one Alert and reports its state.
func (r *AlertReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ref := notification.Ref{Namespace: req.Namespace, Name: req.Name}
	a := &cruisev1.Alert{}
	if err := r.Client.Get(ctx, req.NamespacedName, a); err != nil {
		if apierrors.IsNotFound(err) {
			r.Dispatcher.RemoveAlert(ref)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !a.DeletionTimestamp.IsZero() {
		r.Dispatcher.RemoveAlert(ref)
		return ctrl.Result{}, nil
	}
	patchStatus := patchStatusLater(ctx, r.Client, a)
	defer func() { retErr = errors.Join(retErr, patchStatus()) }()
	a.Status.ObservedGeneration = a.Generation
	compiled, compileErr := notification.CompileAlert(alertSpec(a))
	if compiled == nil {
		r.Dispatcher.RemoveAlert(ref)
		r.mark(a, metav1.ConditionFalse, cruisev1.ReasonTemplateError, compileErr.Error()+": nothing is sent until it is fixed")
		return ctrl.Result{}, nil
	}
	r.Dispatcher.SetAlert(compiled)
	state := r.Dispatcher.AlertState(ref)
	a.Status.LastDelivery = deliveryStatus(state.LastDelivery)

	provider := &cruisev1.Provider{}
	pkey := client.ObjectKey{Namespace: a.Namespace, Name: a.Spec.ProviderRef.Name}
	if err := r.Client.Get(ctx, pkey, provider); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("read Provider %s of Alert %s: %w", pkey, ref, err)
		}
		r.mark(a, metav1.ConditionFalse, cruisev1.ReasonProviderNotFound, fmt.Sprintf("Provider %s not found", pkey))
		return ctrl.Result{}, nil
	}
	pready := meta.FindStatusCondition(provider.Status.Conditions, cruisev1.ConditionReady)
	ld := state.LastDelivery
	switch {
	case pready == nil || pready.ObservedGeneration != provider.Generation:
		r.mark(a, metav1.ConditionUnknown, cruisev1.ReasonProgressing, fmt.Sprintf("Provider %s has not been checked yet", pkey))
	case pready.Status != metav1.ConditionTrue:
		r.mark(a, metav1.ConditionFalse, cruisev1.ReasonInvalidProvider, fmt.Sprintf("Provider %s cannot deliver: %s", pkey, pready.Message))
	case compileErr != nil:
		r.mark(a, metav1.ConditionFalse, cruisev1.ReasonTemplateError, compileErr.Error()+": the default messages are sent")
	case ld != nil && ld.Error != "":
		r.mark(a, metav1.ConditionFalse, cruisev1.ReasonDeliveryFailed, fmt.Sprintf("%s about %s, attempt %d: %s", ld.Type, ld.Object, ld.Attempts, ld.Error))
	case state.TemplateError != "":
		r.mark(a, metav1.ConditionFalse, cruisev1.ReasonTemplateError, state.TemplateError)
	case a.Spec.Suspend || provider.Spec.Suspend:
		r.mark(a, metav1.ConditionTrue, cruisev1.ReasonSuspended, "suspended: nothing is sent until it is resumed")
	default:
		r.mark(a, metav1.ConditionTrue, cruisev1.ReasonSucceeded, fmt.Sprintf("sends %s events to %s Provider %s", severityOf(a), provider.Spec.Type, pkey.Name))
	}
	return ctrl.Result{}, nil
}

func (r *AlertReconciler) mark(a *cruisev1.Alert, status metav1.ConditionStatus, reason, msg string) {
	set(&a.Status.Conditions, a.Generation, cruisev1.ConditionReady, status, reason, msg)
}

func severityOf(a *cruisev1.Alert) string {
	if a.Spec.Severity == "" {
		return string(notification.SeverityInfo)
	}
	return a.Spec.Severity
}

// alertSpec is the Dispatcher's view of an Alert.
func alertSpec(a *cruisev1.Alert) notification.AlertSpec {
	s := notification.AlertSpec{
		Ref:      notification.Ref{Namespace: a.Namespace, Name: a.Name},
		Provider: a.Spec.ProviderRef.Name, Severity: notification.Severity(a.Spec.Severity),
		Inclusion: a.Spec.InclusionList, Exclusion: a.Spec.ExclusionList, Suspend: a.Spec.Suspend,
	}
	for _, src := range a.Spec.EventSources {
		s.Sources = append(s.Sources, notification.Source{Kind: src.Kind, Name: src.Name, MatchLabels: src.MatchLabels})
	}
	if t := a.Spec.Template; t != nil {
		s.Subject, s.Body = t.Subject, t.Body
	}
	return s
}

func deliveryStatus(d *notification.Delivery) *cruisev1.Delivery {
	if d == nil {
		return nil
	}
	msg := d.Error
	if len(msg) > 1024 {
		msg = msg[:1021] + "..."
	}
	return &cruisev1.Delivery{
		Time: metav1.NewTime(d.Time.Truncate(time.Second)), Type: string(d.Type), Object: d.Object,
		Attempts: d.Attempts, Error: msg,
	}
}
