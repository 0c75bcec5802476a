package controller

import (
	"fmt"

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
}

// Setup registers both reconcilers with mgr, sharing one artifact store,
// and returns the GitRepository reconciler, which push webhooks trigger.
func Setup(mgr ctrl.Manager, o Options) (*GitRepositoryReconciler, error) {
	artifacts := NewArtifactStore()
	recorder := mgr.GetEventRecorder("cruise-controller")
	repos := &GitRepositoryReconciler{
		Client: mgr.GetClient(), Fetcher: o.Fetcher, Artifacts: artifacts, Recorder: recorder, Metrics: o.Metrics,
	}
	if err := repos.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up GitRepository controller: %w", err)
	}
	apps := &ApplicationReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Fetcher: o.Fetcher, Artifacts: artifacts, Recorder: recorder, Metrics: o.Metrics,
		Concurrency: o.Concurrency,
	}
	if err := apps.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up Application controller: %w", err)
	}
	return repos, nil
}
