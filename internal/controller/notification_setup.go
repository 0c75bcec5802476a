package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	notification "github.com/cruisegitops/cruise/internal/notify"
)

// setupNotifications registers the Provider and Alert reconcilers and the
// runnable that starts the Dispatcher on the leader.
func setupNotifications(mgr ctrl.Manager, d *notification.Dispatcher, statusInterval time.Duration) error {
	providers := &ProviderReconciler{Client: mgr.GetClient(), Dispatcher: d}
	if err := providers.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Provider controller: %w", err)
	}
	alerts := &AlertReconciler{Client: mgr.GetClient(), Dispatcher: d, StatusInterval: statusInterval}
	if err := alerts.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Alert controller: %w", err)
	}
	start := &dispatcherStart{client: mgr.GetClient(), cache: mgr.GetCache(), dispatcher: d}
	if err := mgr.Add(runnable(start.run)); err != nil {
		return fmt.Errorf("set up notifications: %w", err)
	}
	return nil
}

// dispatcherStart runs the Dispatcher on the leader, once the Providers
// and Alerts in the cache are configured and the failures already
// announced are seeded. Events the reconcilers send meanwhile wait in the
// Dispatcher's intake, so none is routed before the Alerts are known.
//
// Dedup state lives in the leader's memory. After a restart or a change
// of leader, it is rebuilt from status: every object whose Ready
// condition is False with a failure (not a wait, not suspended) is taken
// as already announced, so a still failing Application is not announced
// again, and its recovery is sent to the Alerts that select its failure.
// An object caught mid-sync (Ready Unknown) is not seeded: if it fails
// again, that failure is sent once more.
type dispatcherStart struct {
	client     client.Client
	cache      interface{ WaitForCacheSync(context.Context) bool }
	dispatcher *notification.Dispatcher
}

func (s *dispatcherStart) run(ctx context.Context) error {
	if !s.cache.WaitForCacheSync(ctx) {
		return errors.New("notifications: cache did not sync")
	}
	if err := s.configure(ctx); err != nil {
		return err
	}
	seeds, err := s.seeds(ctx)
	if err != nil {
		return err
	}
	s.dispatcher.Seed(seeds...)
	log.FromContext(ctx).V(1).Info("notifications started", "knownFailures", len(seeds))
	return s.dispatcher.Run(ctx)
}

// configure hands the Providers and Alerts in the cache to the Dispatcher
// (their reconcilers will too, and write their status).
func (s *dispatcherStart) configure(ctx context.Context) error {
	var providers cruisev1.ProviderList
	if err := s.client.List(ctx, &providers); err != nil {
		return fmt.Errorf("notifications: list Providers: %w", err)
	}
	for i := range providers.Items {
		p := &providers.Items[i]
		if cfg, err := providerConfig(ctx, s.client, p); err == nil {
			_ = s.dispatcher.SetProvider(notification.Ref{Namespace: p.Namespace, Name: p.Name}, cfg, p.Spec.Suspend)
		}
	}
	var alerts cruisev1.AlertList
	if err := s.client.List(ctx, &alerts); err != nil {
		return fmt.Errorf("notifications: list Alerts: %w", err)
	}
	for i := range alerts.Items {
		if a, _ := notification.CompileAlert(alertSpec(&alerts.Items[i])); a != nil {
			s.dispatcher.SetAlert(a)
		}
	}
	return nil
}

// seeds are the failures the objects' status shows.
func (s *dispatcherStart) seeds(ctx context.Context) ([]notification.Event, error) {
	var out []notification.Event
	add := func(obj client.Object, kind string, conds []metav1.Condition) {
		if ev, ok := seedOf(obj, kind, conds); ok {
			out = append(out, ev)
		}
	}
	var apps cruisev1.ApplicationList
	if err := s.client.List(ctx, &apps); err != nil {
		return nil, fmt.Errorf("notifications: list Applications: %w", err)
	}
	for i := range apps.Items {
		add(&apps.Items[i], cruisev1.ApplicationKind, apps.Items[i].Status.Conditions)
	}
	var repos cruisev1.GitRepositoryList
	if err := s.client.List(ctx, &repos); err != nil {
		return nil, fmt.Errorf("notifications: list GitRepositories: %w", err)
	}
	for i := range repos.Items {
		add(&repos.Items[i], cruisev1.GitRepositoryKind, repos.Items[i].Status.Conditions)
	}
	var autos cruisev1.ImageUpdateAutomationList
	if err := s.client.List(ctx, &autos); err != nil {
		return nil, fmt.Errorf("notifications: list ImageUpdateAutomations: %w", err)
	}
	for i := range autos.Items {
		add(&autos.Items[i], cruisev1.ImageUpdateAutomationKind, autos.Items[i].Status.Conditions)
	}
	return out, nil
}

// seedOf is the failure an object's Ready condition records, if any: the
// event outcomes.finish sent for it (same type, reason and message).
func seedOf(obj client.Object, kind string, conds []metav1.Condition) (notification.Event, bool) {
	c := meta.FindStatusCondition(conds, cruisev1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionFalse || meta.IsStatusConditionTrue(conds, cruisev1.ConditionReconciling) {
		return notification.Event{}, false
	}
	switch c.Reason {
	case cruisev1.ReasonSuspended, cruisev1.ReasonProgressing, cruisev1.ReasonSourceNotReady,
		cruisev1.ReasonSourceNotFound, cruisev1.ReasonDependencyNotReady:
		return notification.Event{}, false
	}
	typ := notification.Failed
	if c.Reason == cruisev1.ReasonHealthCheckFailed {
		typ = notification.HealthDegraded
	}
	ev := objectEvent(obj, kind, typ)
	ev.Reason, ev.Message = c.Reason, c.Message
	return ev, true
}
