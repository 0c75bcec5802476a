package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image"
)

// imageConcurrency is how many ImageRepositories are scanned, and how
// many ImagePolicies choose, at once: both mostly wait on registries.
const imageConcurrency = 4

// latestTagsInStatus is how many tags status.lastScanResult.latestTags
// shows.
const latestTagsInStatus = 10

// ImageRepositoryReconciler lists an image's tags on the ImageRepository's
// interval and publishes them in Tags, for the ImagePolicies. The status
// carries a summary only.
type ImageRepositoryReconciler struct {
	Client client.Client
	// APIReader reads the Secrets a scan uses, past the cache: one read
	// per scan, and a Secret created just before the ImageRepository is
	// found even before the cache has seen it.
	APIReader client.Reader
	Tags      *ImageTagStore
	Recorder  events.EventRecorder
	Metrics   *Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	outcomes *outcomes
	schedule scanSchedule
}

// SetupWithManager registers the reconciler. Only spec and annotation
// changes (and its own requeues) wake it, never its status updates; and a
// reconcile scans only when a scan is due (see scanSchedule).
func (r *ImageRepositoryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.outcomes = newOutcomes(r.Recorder)
	return ctrl.NewControllerManagedBy(mgr).
		For(&cruisev1.ImageRepository{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(ctrlOptions(imageConcurrency)).
		Named("imagerepository").
		Complete(r)
}

func (r *ImageRepositoryReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile scans one ImageRepository if a scan is due.
func (r *ImageRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	repo := &cruisev1.ImageRepository{}
	if ok, err := readLive(ctx, r.Client, req.NamespacedName, repo, r.forget); !ok {
		return ctrl.Result{}, err
	}
	patchStatus := patchStatusLater(ctx, r.Client, repo)
	defer func() { retErr = errors.Join(retErr, patchStatus()) }()

	requested := repo.Annotations[cruisev1.ReconcileRequestAnnotation]
	if repo.Spec.Suspend {
		repo.Status.LastHandledReconcileAt = requested
		repo.Status.ObservedGeneration = repo.Generation
		set(&repo.Status.Conditions, repo.Generation, cruisev1.ConditionReady,
			conditionStatus(repo.Status.Conditions), cruisev1.ReasonSuspended, "suspended: no scans until it is resumed")
		r.schedule.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if wait := r.schedule.wait(req.NamespacedName, repo.Generation, requested, r.now()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}

	interval := imageInterval(repo)
	err := r.scan(ctx, repo)
	repo.Status.LastHandledReconcileAt = requested
	result = r.outcomes.finish(ctx, subject{
		obj: repo, conditions: &repo.Status.Conditions, observedGeneration: &repo.Status.ObservedGeneration,
		action: "Scan", fallbackReason: cruisev1.ReasonScanFailed,
		// An ImageRepository has no retryInterval of its own: interval/5,
		// at least 10s.
		timing: newRetryTiming(interval, nil),
	}, interval, err)
	r.schedule.set(req.NamespacedName, scanDue{
		at: r.now().Add(result.RequeueAfter), generation: repo.Generation, handled: requested,
	})
	return result, nil
}

// scan lists the tags, publishes them and records the summary.
func (r *ImageRepositoryReconciler) scan(ctx context.Context, repo *cruisev1.ImageRepository) error {
	key := types.NamespacedName{Namespace: repo.Namespace, Name: repo.Name}
	s, err := r.scanOf(ctx, repo)
	if name, perr := image.Repository(repo.Spec.Image, repo.Spec.Insecure); perr == nil {
		repo.Status.CanonicalImageName = name.Name()
	}
	if err != nil {
		r.Metrics.observeImageScan(0, asPhaseError(err, cruisev1.ReasonScanFailed).Reason)
		return err
	}
	timeout := scanTimeout(repo)
	scanCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := r.now()
	res, err := s.Run(scanCtx)
	took := r.now().Sub(start)
	if err != nil {
		err = classifyScanError(err, timeout)
		r.Metrics.observeImageScan(took, asPhaseError(err, cruisev1.ReasonScanFailed).Reason)
		return err
	}
	r.Metrics.observeImageScan(took, "success")
	r.Metrics.setImageTags(key, len(res.Tags))
	now := r.now()
	r.Tags.Put(key, ImageTags{Tags: res.Tags, Scan: s, Time: now})
	repo.Status.CanonicalImageName = res.Repository
	repo.Status.LastScanResult = &cruisev1.ScanResult{
		ScanTime:   metav1.NewTime(now),
		TagCount:   len(res.Tags),
		LatestTags: image.Latest(res.Tags, latestTagsInStatus),
	}
	msg := fmt.Sprintf("found %d tags of %s", len(res.Tags), res.Repository)
	if res.Truncated {
		msg += fmt.Sprintf(" (the listing stopped at the tag limit, %d)", len(res.Tags))
	}
	markReady(&repo.Status.Conditions, repo.Generation, cruisev1.ReasonSucceeded, msg)
	return nil
}

// forget drops what the process holds of a deleted ImageRepository; its
// policies are woken by the store.
func (r *ImageRepositoryReconciler) forget(key types.NamespacedName) {
	r.Tags.Delete(key)
	r.schedule.forget(key)
	r.outcomes.forget(key)
	r.Metrics.deleteImageTags(key)
}

// scanSchedule remembers when each ImageRepository's next scan is due, so
// that a reconcile that is not a due requeue (a watch resync, a stray
// event) scans nothing. It is safe for concurrent use; the zero value is
// ready. It lives in memory: after a restart every repository scans once,
// since the tags are in memory too.
type scanSchedule struct {
	mu  sync.Mutex
	due map[types.NamespacedName]scanDue // guarded by mu
}

type scanDue struct {
	// at is when the next scan is due: the success interval or the
	// failure backoff after the last scan, as requeued.
	at time.Time
	// generation that the last scan was of: a new spec scans at once.
	generation int64
	// handled is the reconcile-at annotation value the last scan served.
	handled string
}

// wait returns how long until the next scan of an object is due; 0 when
// it is due now: never scanned by this process, a new generation, a new
// reconcile request, or the time has come.
func (s *scanSchedule) wait(key types.NamespacedName, generation int64, requested string, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.due[key]
	if !ok || d.generation != generation || (requested != "" && requested != d.handled) {
		return 0
	}
	return max(d.at.Sub(now), 0)
}

func (s *scanSchedule) set(key types.NamespacedName, d scanDue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.due == nil {
		s.due = map[types.NamespacedName]scanDue{}
	}
	s.due[key] = d
}

func (s *scanSchedule) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.due, key)
}
