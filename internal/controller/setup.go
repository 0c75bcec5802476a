package controller

import (
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

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
}

// Setup registers the reconcilers with mgr (GitRepository and Application
// sharing one artifact store; ImageRepository and ImagePolicy sharing one
// tag store; ImageUpdateAutomation), and the storage collector of the
// Fetcher's cache.
func Setup(mgr ctrl.Manager, o Options) error {
	artifacts := NewArtifactStore()
	recorder := mgr.GetEventRecorder("cruise-controller")
	repos := &GitRepositoryReconciler{
		Client: mgr.GetClient(), Fetcher: o.Fetcher, Artifacts: artifacts, Recorder: recorder, Metrics: o.Metrics,
	}
	if err := repos.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up GitRepository controller: %w", err)
	}
	apps := &ApplicationReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Fetcher: o.Fetcher, Artifacts: artifacts, Recorder: recorder, Metrics: o.Metrics,
		Concurrency: o.Concurrency,
	}
	if err := apps.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Application controller: %w", err)
	}
	if err := setupImageScanning(mgr, recorder, o.Metrics); err != nil {
		return err
	}
	images := &ImageUpdateAutomationReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: recorder}
	if err := images.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up ImageUpdateAutomation controller: %w", err)
	}
	o.Metrics.watchStorage(o.Fetcher)
	collector := &StorageCollector{
		Client: mgr.GetClient(), Fetcher: o.Fetcher, Artifacts: artifacts, Metrics: o.Metrics, Interval: o.CollectInterval,
	}
	if err := mgr.Add(collector); err != nil {
		return fmt.Errorf("set up storage collector: %w", err)
	}
	return nil
}
