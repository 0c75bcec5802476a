package controller

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// DefaultCollectInterval is how often the storage collector runs when
// nothing asks for it sooner.
const DefaultCollectInterval = 10 * time.Minute

// StorageCollector keeps the Fetcher's cache down to what is in use. It is
// a manager Runnable: it collects when it starts, whenever a GitRepository's
// artifact gives way to a new commit or goes (ArtifactStore.Changed), when
// the storage limit refused something (Fetcher.LimitReached), and every
// Interval.
//
// In use means:
//
//   - for each GitRepository, its URL (the clone) and its current artifact:
//     the one in the ArtifactStore, which holds it, or, until this process
//     has fetched it, the one its status names;
//   - for each Application, the checkout of its lastAppliedRevision;
//   - any checkout someone holds: the ArtifactStore holds the current
//     artifacts, each sync holds the one it reads until it is done.
//
// lastAttemptedRevision is not kept for its own sake: while a sync of it
// runs, the sync holds it, which is exact, where the status field cannot
// tell a running sync from a finished one.
type StorageCollector struct {
	Client    client.Reader
	Fetcher   *gitsource.Fetcher
	Artifacts *ArtifactStore
	Metrics   *Metrics
	// Interval between collections nothing triggered;
	// DefaultCollectInterval when zero.
	Interval time.Duration

	over bool // the last collection left the cache over its limit; only Start's goroutine touches it
}

// Start collects until ctx ends.
func (c *StorageCollector) Start(ctx context.Context) error {
	interval := c.Interval
	if interval <= 0 {
		interval = DefaultCollectInterval
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithName("storage"))
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		c.collect(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-c.Artifacts.Changed():
		case <-c.Fetcher.LimitReached():
		}
	}
}

// collect runs one collection and reports it. An error is logged and the
// next collection tries again: nothing here is worth stopping the manager.
func (c *StorageCollector) collect(ctx context.Context) {
	logger := log.FromContext(ctx)
	keep, err := c.inUse(ctx)
	if err != nil {
		// Without the full list, collecting could remove what is in use.
		logger.Error(err, "storage collection skipped")
		return
	}
	res, err := c.Fetcher.Collect(ctx, keep)
	if err != nil && ctx.Err() == nil {
		logger.Error(err, "storage collection incomplete")
	}
	c.Metrics.observeCollection(res)
	if res.RemovedCheckouts+res.RemovedClones+res.CompactedClones > 0 {
		logger.V(1).Info("storage collected", "removedCheckouts", res.RemovedCheckouts, "removedClones", res.RemovedClones,
			"compactedClones", res.CompactedClones, "freedBytes", res.FreedBytes, "bytes", res.Usage.Bytes)
	}
	switch over := res.Usage.Over(); {
	case over && !c.over:
		logger.Info("the Git cache is over its storage limit after collection: fetches of new revisions are refused (their GitRepository turns Ready=False) until checkouts are released or the limit is raised",
			"bytes", res.Usage.Bytes, "limit", res.Usage.Limit, "checkouts", res.Usage.Checkouts, "clones", res.Usage.Clones)
		c.over = true
	case !over && c.over:
		logger.Info("the Git cache is back under its storage limit", "bytes", res.Usage.Bytes, "limit", res.Usage.Limit)
		c.over = false
	}
}

// inUse lists the URLs and commits the cache must keep, from the
// manager's cache of GitRepositories and Applications.
func (c *StorageCollector) inUse(ctx context.Context) (gitsource.Keep, error) {
	var keep gitsource.Keep
	var repos cruisev1.GitRepositoryList
	if err := c.Client.List(ctx, &repos, client.UnsafeDisableDeepCopy); err != nil {
		return keep, fmt.Errorf("list GitRepositories: %w", err)
	}
	for i := range repos.Items {
		repo := &repos.Items[i]
		keep.URLs = append(keep.URLs, repo.Spec.URL)
		// The status lags the store: the collection a new revision
		// triggers runs before the status names it, and must not keep the
		// revision it replaces on the status's word.
		if repo.Status.Artifact != nil && !c.Artifacts.Has(client.ObjectKeyFromObject(repo)) {
			keep.Commits = append(keep.Commits, repo.Status.Artifact.Commit)
		}
	}
	var apps cruisev1.ApplicationList
	if err := c.Client.List(ctx, &apps, client.UnsafeDisableDeepCopy); err != nil {
		return keep, fmt.Errorf("list Applications: %w", err)
	}
	for i := range apps.Items {
		if commit := gitsource.RevisionCommit(apps.Items[i].Status.LastAppliedRevision); commit != "" {
			keep.Commits = append(keep.Commits, commit)
		}
	}
	return keep, nil
}

// NeedLeaderElection is true: only the leader fetches, so a standby's
// cache stays empty, and collecting it would cost each standby an
// Application informer for nothing (the storage metrics read the Fetcher
// directly).
func (c *StorageCollector) NeedLeaderElection() bool { return true }
