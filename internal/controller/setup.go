package controller

import (
	"fmt"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	notification "github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/sealkeys"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// Options configure Setup. Fetcher and Metrics are required.
type Options struct {
	Fetcher *gitsource.Fetcher
	Metrics *Metrics
	// Concurrency is the number of Applications reconciled at once;
	// default 4.
	Concurrency int
	// CollectInterval is how often the Git cache is collected besides
	// after each new revision; default DefaultCollectInterval.
	CollectInterval time.Duration
	// Notifications, when set, is told of what the reconcilers do and is
	// configured by the Provider and Alert reconcilers, which run only
	// then; it runs on the leader.
	Notifications *notification.Dispatcher
	// AlertStatusInterval; default DefaultAlertStatusInterval.
	AlertStatusInterval time.Duration
	// Sealing runs the sealing key manager and the SealedSecret
	// reconciler; nil leaves both out.
	Sealing *SealingOptions
	// Charts fetches charts from Helm repositories and OCI registries;
	// nil: a client with chartrepo's defaults.
	Charts *chartrepo.Client
}

// SealingOptions configure sealed secrets.
type SealingOptions struct {
	// KeysNamespace holds the keys Secret and the public-key ConfigMap;
	// default sealkeys.DefaultNamespace.
	KeysNamespace string
	// RotationInterval adds a key when the newest is this old; 0 never.
	RotationInterval time.Duration
}

// Setup registers the reconcilers with mgr (GitRepository and Application
// sharing one artifact store; ImageRepository and ImagePolicy sharing one
// tag store; ImageUpdateAutomation; Provider and Alert with
// o.Notifications), the storage collector of the Fetcher's cache, and with
// o.Sealing the key manager and the SealedSecret reconciler.
func Setup(mgr ctrl.Manager, o Options) error {
	artifacts := NewArtifactStore()
	recorder := o.Metrics.countingFailures(mgr.GetEventRecorder("cruise-controller"), mgr.GetScheme())
	var notifier Notifier
	if o.Notifications != nil {
		notifier = o.Notifications
	}
	repos := &GitRepositoryReconciler{
		Client: mgr.GetClient(), Fetcher: o.Fetcher, Artifacts: artifacts, Recorder: recorder, Metrics: o.Metrics,
		Notifier: notifier,
	}
	if err := repos.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up GitRepository controller: %w", err)
	}
	apps := &ApplicationReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Fetcher: o.Fetcher, Artifacts: artifacts, Recorder: recorder, Metrics: o.Metrics,
		Concurrency: o.Concurrency, Notifier: notifier, Charts: o.Charts,
	}
	if err := apps.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Application controller: %w", err)
	}
	if err := setupImageScanning(mgr, recorder, o.Metrics); err != nil {
		return err
	}
	images := &ImageUpdateAutomationReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: recorder, Notifier: notifier}
	if err := images.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up ImageUpdateAutomation controller: %w", err)
	}
	if o.Notifications != nil {
		if err := setupNotifications(mgr, o.Notifications, o.AlertStatusInterval); err != nil {
			return err
		}
	}
	o.Metrics.watchStorage(o.Fetcher)
	if err := mgr.Add(o.Metrics.watchStatuses(mgr.GetCache())); err != nil {
		return fmt.Errorf("set up status metrics: %w", err)
	}
	collector := &StorageCollector{
		Client: mgr.GetClient(), Fetcher: o.Fetcher, Artifacts: artifacts, Metrics: o.Metrics, Interval: o.CollectInterval,
	}
	if err := mgr.Add(collector); err != nil {
		return fmt.Errorf("set up storage collector: %w", err)
	}
	if o.Sealing != nil {
		if err := setupSealing(mgr, *o.Sealing, recorder, o.Metrics); err != nil {
			return fmt.Errorf("set up sealed secrets: %w", err)
		}
	}
	return nil
}

// setupSealing registers the key manager and the SealedSecret reconciler,
// both on the leader only.
func setupSealing(mgr ctrl.Manager, o SealingOptions, recorder events.EventRecorder, m *Metrics) error {
	// The keys are written with retries on conflicts, so they are read
	// past the cache.
	direct, err := client.New(mgr.GetConfig(), client.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), HTTPClient: mgr.GetHTTPClient(),
	})
	if err != nil {
		return err
	}
	m.setRotationInterval(o.RotationInterval)
	keys := newSealingKeys(sealkeys.Store{Client: direct, Namespace: o.KeysNamespace}, mgr.GetCache(), o.RotationInterval, m)
	if err := mgr.Add(keys); err != nil {
		return err
	}
	r := &SealedSecretReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Keys: keys, Recorder: recorder, Metrics: m,
	}
	return r.SetupWithManager(mgr)
}
