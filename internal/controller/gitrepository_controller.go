package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/pipeline"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// GitRepositoryReconciler fetches GitRepositories and publishes their
// checkouts in Artifacts.
type GitRepositoryReconciler struct {
	Client    client.Client
	Fetcher   *gitsource.Fetcher
	Artifacts *ArtifactStore
	Recorder  events.EventRecorder
	Metrics   *Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Notifier is told of failures and recoveries; nil: nobody.
	Notifier Notifier

	outcomes *outcomes
}

// SetupWithManager registers the reconciler.
func (r *GitRepositoryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.outcomes = newOutcomes(r.Recorder).notifying(r.Notifier, cruisev1.GitRepositoryKind)
	r.outcomes.notices.source = gitRepositoryURL
	return ctrl.NewControllerManagedBy(mgr).
		For(&cruisev1.GitRepository{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Named("gitrepository").
		Complete(r)
}

func (r *GitRepositoryReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile fetches one GitRepository.
func (r *GitRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	repo := &cruisev1.GitRepository{}
	if ok, err := readLive(ctx, r.Client, req.NamespacedName, repo, r.forget); !ok {
		return ctrl.Result{}, err
	}
	patchStatus := patchStatusLater(ctx, r.Client, repo)
	defer func() { retErr = errors.Join(retErr, patchStatus()) }()
	if v := repo.Annotations[cruisev1.ReconcileRequestAnnotation]; v != "" {
		repo.Status.LastHandledReconcileAt = v
	}
	if repo.Spec.Suspend {
		repo.Status.ObservedGeneration = repo.Generation
		set(&repo.Status.Conditions, repo.Generation, cruisev1.ConditionReady,
			conditionStatus(repo.Status.Conditions), cruisev1.ReasonSuspended, "suspended")
		return ctrl.Result{}, nil
	}

	interval := repoInterval(repo)
	art, err := r.fetch(ctx, repo)
	now := metav1.NewTime(r.now())
	repo.Status.LastFetchTime = &now
	if err == nil {
		r.Artifacts.Put(req.NamespacedName, art)
		r.recordArtifact(repo, art)
	}
	return r.outcomes.finish(ctx, subject{
		obj: repo, conditions: &repo.Status.Conditions, observedGeneration: &repo.Status.ObservedGeneration,
		action: "Fetch", fallbackReason: cruisev1.ReasonFetchFailed,
		// A GitRepository has no retryInterval of its own: interval/5,
		// at least 10s.
		timing: newRetryTiming(interval, nil),
	}, interval, err), nil
}

// recordArtifact puts a fetched revision in the status.
func (r *GitRepositoryReconciler) recordArtifact(repo *cruisev1.GitRepository, art *gitsource.Artifact) {
	if repo.Status.Artifact == nil || repo.Status.Artifact.Commit != art.Commit {
		r.Recorder.Eventf(repo, nil, corev1.EventTypeNormal, "NewRevision", "Fetch", "fetched %s: %s", art.Revision, art.Message)
	}
	t := metav1.NewTime(art.Time)
	repo.Status.Artifact = &cruisev1.Artifact{
		Revision: art.Revision, Commit: art.Commit, Message: art.Message, Author: art.Author, Time: &t,
	}
	markReady(&repo.Status.Conditions, repo.Generation, cruisev1.ReasonSucceeded, "stored revision "+art.Revision)
}

func repoInterval(repo *cruisev1.GitRepository) time.Duration {
	if d := repo.Spec.Interval.Duration; d > 0 {
		return d
	}
	return time.Minute
}

// fetch resolves the ref and brings the revision into the cache.
func (r *GitRepositoryReconciler) fetch(ctx context.Context, repo *cruisev1.GitRepository) (*gitsource.Artifact, error) {
	auth, err := r.auth(ctx, repo)
	if err != nil {
		return nil, err
	}
	if repo.Spec.Timeout != nil && repo.Spec.Timeout.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, repo.Spec.Timeout.Duration)
		defer cancel()
	}
	start := r.now()
	art, err := r.Fetcher.Fetch(ctx, pipeline.SourceRequest(repo, auth))
	r.Metrics.observeFetch(r.now().Sub(start), err)
	if err != nil {
		return nil, classifyFetchError(err)
	}
	return art, nil
}

// classifyFetchError decides, per kind of source error, whether retrying
// can help. A wrong URL, ref syntax or key, refused credentials, an
// unknown host key, a missing repository, an oversized or unsafe checkout
// stall until the spec, the Secret or the repository changes; a ref that
// does not exist yet (it may be pushed), an unreachable remote and
// anything unknown back off.
func classifyFetchError(err error) error {
	stalls := []struct {
		kind   error
		reason string
	}{
		{gitsource.ErrInvalid, cruisev1.ReasonInvalidSource},
		{gitsource.ErrAuth, cruisev1.ReasonAuthenticationFailed},
		{gitsource.ErrHostKey, cruisev1.ReasonHostKeyRejected},
		{gitsource.ErrRepoNotFound, cruisev1.ReasonRepositoryNotFound},
		{gitsource.ErrTooLarge, cruisev1.ReasonCheckoutTooLarge},
		{gitsource.ErrUnsafePath, cruisev1.ReasonUnsafePath},
	}
	for _, s := range stalls {
		if errors.Is(err, s.kind) {
			return stalling(s.reason, err)
		}
	}
	switch {
	case errors.Is(err, gitsource.ErrRefNotFound):
		return transient(cruisev1.ReasonRefNotFound, err)
	case errors.Is(err, gitsource.ErrUnreachable):
		return transient(cruisev1.ReasonRemoteUnreachable, err)
	}
	return transient(cruisev1.ReasonFetchFailed, err)
}

// auth reads the credentials Secret named by the GitRepository. A missing
// Secret may be created any moment (often just after the GitRepository):
// it backs off rather than stalls.
func (r *GitRepositoryReconciler) auth(ctx context.Context, repo *cruisev1.GitRepository) (*gitsource.Auth, error) {
	if repo.Spec.SecretRef == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: repo.Namespace, Name: repo.Spec.SecretRef.Name}
	if err := r.Client.Get(ctx, key, secret); err != nil {
		reason := cruisev1.ReasonFetchFailed
		if apierrors.IsNotFound(err) {
			reason = cruisev1.ReasonSecretNotFound
		}
		return nil, transient(reason, fmt.Errorf("read credentials Secret %s: %w", key, err))
	}
	return gitsource.AuthFromData(secret.Data), nil
}

// conditionStatus is the Ready status, Unknown when there is none yet.
func conditionStatus(conds []metav1.Condition) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(conds, cruisev1.ConditionReady); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

// forget drops what the process holds of a deleted GitRepository: its
// checkout and its failure count.
func (r *GitRepositoryReconciler) forget(key types.NamespacedName) {
	r.Artifacts.Delete(key)
	r.outcomes.forget(key)
}
