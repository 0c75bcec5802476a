package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// indexImageRepository indexes ImagePolicies by "namespace/name" of their
// ImageRepository.
const indexImageRepository = "imagePolicy.imageRepository"

// EventNewTagChosen is the reason of the Normal event an ImagePolicy gets
// when its choice (tag or digest) changes.
const EventNewTagChosen = "NewTagChosen"

// ImagePolicyReconciler chooses one tag of an ImageRepository's, by the
// policy's ordering, filter, minimum age and digest reflection, and
// records it as status.latestRef. It is woken when its repository's tags
// change (by Tags) and when the ImageRepository itself does.
type ImagePolicyReconciler struct {
	Client client.Client
	// APIReader reads policies past the cache, so that a reconcile sees
	// the choice the previous one wrote (and announces a change once).
	APIReader client.Reader
	Tags      *ImageTagStore
	Recorder  events.EventRecorder
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	outcomes *outcomes
}

// SetupWithManager registers the reconciler, its index and watches.
func (r *ImagePolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.outcomes = newOutcomes(r.Recorder)
	if r.APIReader == nil {
		r.APIReader = r.Client
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &cruisev1.ImagePolicy{}, indexImageRepository,
		func(o client.Object) []string {
			return []string{policyRepositoryKey(o.(*cruisev1.ImagePolicy)).String()}
		}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&cruisev1.ImagePolicy{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		// A repository created, deleted, respecified (image, accessFrom)
		// or turning Ready or not.
		Watches(&cruisev1.ImageRepository{}, handler.EnqueueRequestsFromMapFunc(
			func(ctx context.Context, o client.Object) []reconcile.Request { return r.policiesOf(ctx, o) }),
			builder.WithPredicates(repositoryChanged{})).
		// New tags.
		WatchesRawSource(source.Channel(r.Tags.Changed(), handler.TypedEnqueueRequestsFromMapFunc(
			func(ctx context.Context, repo *cruisev1.ImageRepository) []reconcile.Request {
				return r.policiesOf(ctx, repo)
			}))).
		// The same tags again: only the policies that re-read the digest
		// at every scan (a tag may have been pushed again).
		WatchesRawSource(source.Channel(r.Tags.Rescanned(), handler.TypedEnqueueRequestsFromMapFunc(
			func(ctx context.Context, repo *cruisev1.ImageRepository) []reconcile.Request {
				return r.policiesOf(ctx, repo, cruisev1.DigestReflectAlways)
			}))).
		WithOptions(ctrlOptions(imageConcurrency)).
		Named("imagepolicy").
		Complete(r)
}

func (r *ImagePolicyReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// policyRepositoryKey is the ImageRepository a policy chooses from.
func policyRepositoryKey(pol *cruisev1.ImagePolicy) types.NamespacedName {
	ns := pol.Spec.ImageRepositoryRef.Namespace
	if ns == "" {
		ns = pol.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: pol.Spec.ImageRepositoryRef.Name}
}

// policiesOf lists the ImagePolicies of an ImageRepository; with a digest
// reflection policy, only those that have it.
func (r *ImagePolicyReconciler) policiesOf(ctx context.Context, o client.Object, digestReflection ...string) []reconcile.Request {
	var list cruisev1.ImagePolicyList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexImageRepository: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		if len(digestReflection) > 0 && !slices.Contains(digestReflection, list.Items[i].Spec.DigestReflectionPolicy) {
			continue
		}
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

// Reconcile chooses one ImagePolicy's tag.
func (r *ImagePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	pol := &cruisev1.ImagePolicy{}
	if ok, err := readLive(ctx, r.APIReader, req.NamespacedName, pol, r.outcomes.forget); !ok {
		return ctrl.Result{}, err
	}
	patchStatus := patchStatusLater(ctx, r.Client, pol)
	defer func() { retErr = errors.Join(retErr, patchStatus()) }()

	interval := defaultImageInterval
	c, err := r.choose(ctx, pol, &interval)
	if c.pause > 0 {
		// Nothing decided yet (configs still to read, or the tags not yet
		// back after a restart): the status stays as it is.
		return ctrl.Result{RequeueAfter: c.pause}, nil
	}
	pol.Status.LastHandledReconcileAt = pol.Annotations[cruisev1.ReconcileRequestAnnotation]
	next := interval
	if c.recheck > 0 {
		next = min(next, c.recheck)
	}
	return r.outcomes.finish(ctx, subject{
		obj: pol, conditions: &pol.Status.Conditions, observedGeneration: &pol.Status.ObservedGeneration,
		action: "Choose", fallbackReason: cruisev1.ReasonRepositoryNotReady,
		timing: newRetryTiming(interval, nil),
	}, next, err), nil
}

// choice is what choose decided besides the status.
type choice struct {
	// pause, when set, leaves the status alone and comes back after it.
	pause time.Duration
	// recheck, when set, comes back sooner than the interval: a preferred
	// tag becomes old enough then.
	recheck time.Duration
}

// choose runs the phases: the policy's selector, its repository and
// tags, the minimum age, the digest; then records the choice. interval
// receives the repository's interval once known.
func (r *ImagePolicyReconciler) choose(ctx context.Context, pol *cruisev1.ImagePolicy, interval *time.Duration) (choice, error) {
	sel, err := selectorOf(pol.Spec)
	if err != nil {
		return choice{}, stalling(cruisev1.ReasonInvalidPolicy, err)
	}
	key := policyRepositoryKey(pol)
	repo := &cruisev1.ImageRepository{}
	if err := r.Client.Get(ctx, key, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return choice{}, waiting(cruisev1.ReasonRepositoryNotReady, time.Minute, "ImageRepository %s not found", key)
		}
		return choice{}, transient(cruisev1.ReasonRepositoryNotReady, fmt.Errorf("read ImageRepository %s: %w", key, err))
	}
	*interval = imageInterval(repo)
	if key.Namespace != pol.Namespace && !imageAccessAllowed(repo, pol.Namespace) {
		return choice{}, stalling(cruisev1.ReasonSourceNotAllowed, fmt.Errorf(
			"ImageRepository %s does not allow ImagePolicies from namespace %s (spec.accessFrom)", key, pol.Namespace))
	}
	tags, ok := r.Tags.Get(key)
	if !ok {
		return r.noTags(pol, repo, key)
	}

	ranked := sel.Rank(tags.Tags)
	if len(ranked) == 0 {
		return choice{}, transient(cruisev1.ReasonNoMatchingTag, fmt.Errorf(
			"none of the %d tags of %s matches the policy (%s)", len(tags.Tags), repo.Spec.Image, describePolicy(pol.Spec)))
	}
	tag, younger := ranked[0], ""
	var c choice
	if age := pol.Spec.MinimumAge; age != nil && age.Duration > 0 {
		now := r.now()
		pick, err := pickOldEnough(ranked, age.Duration, now, maxConfigReads,
			func(tag string) (time.Time, bool) { return r.Tags.Created(key, tag) },
			func(tag string) (time.Time, error) {
				readCtx, cancel := context.WithTimeout(ctx, scanTimeout(repo))
				defer cancel()
				when, err := tags.Scan.Created(readCtx, tag)
				if err != nil {
					return when, classifyScanError(fmt.Errorf("read the config of %s:%s: %w", repo.Spec.Image, tag, err), scanTimeout(repo))
				}
				r.Tags.SetCreated(key, tag, when)
				return when, nil
			})
		switch {
		case err != nil:
			return choice{}, err
		case pick.Undecided:
			return choice{pause: configReadPause}, nil
		case pick.Tag == "":
			return choice{}, waiting(cruisev1.ReasonNoMatchingTag, pick.Eligible.Sub(now),
				"no tag of %s matching the policy is older than the minimum age %s yet; %s will be at %s",
				repo.Spec.Image, age.Duration, pick.Younger, pick.Eligible.UTC().Format(time.RFC3339))
		}
		tag, younger = pick.Tag, pick.Younger
		if !pick.Eligible.IsZero() {
			c.recheck = pick.Eligible.Sub(now)
		}
	}

	ref := cruisev1.ImageRef{Name: repo.Spec.Image, Tag: tag}
	if ref.Digest, err = r.digest(ctx, pol, repo, tags, ref); err != nil {
		return choice{}, err
	}
	r.record(pol, ref)
	msg := "chose " + tag
	if younger != "" {
		msg += fmt.Sprintf("; %s is preferred but younger than the minimum age %s", younger, pol.Spec.MinimumAge.Duration)
	}
	markReady(&pol.Status.Conditions, pol.Generation, cruisev1.ReasonSucceeded, msg)
	return c, nil
}

// noTags decides what to say when this process has no tags of the
// repository. After a restart the repository scans again at once and the
// store wakes its policies: a policy that had chosen keeps its status
// rather than flap to not Ready for those seconds.
func (r *ImagePolicyReconciler) noTags(pol *cruisev1.ImagePolicy, repo *cruisev1.ImageRepository, key types.NamespacedName) (choice, error) {
	ready := meta.FindStatusCondition(repo.Status.Conditions, cruisev1.ConditionReady)
	if repo.Status.LastScanResult != nil && ready != nil && ready.Status == metav1.ConditionTrue &&
		pol.Status.LatestRef != nil && pol.Status.ObservedGeneration == pol.Generation {
		return choice{pause: 30 * time.Second}, nil
	}
	if ready != nil && ready.Status == metav1.ConditionFalse {
		return choice{}, waiting(cruisev1.ReasonRepositoryNotReady, time.Minute, "ImageRepository %s is not ready: %s", key, ready.Message)
	}
	return choice{}, waiting(cruisev1.ReasonRepositoryNotReady, time.Minute, "ImageRepository %s has not been scanned yet", key)
}

// digest reads the chosen tag's digest as spec.digestReflectionPolicy
// asks: Never, Always (every reconcile: each scan and each interval), or
// IfNotPresent (once per tag: kept while the choice stays the same).
func (r *ImagePolicyReconciler) digest(ctx context.Context, pol *cruisev1.ImagePolicy, repo *cruisev1.ImageRepository, tags ImageTags, ref cruisev1.ImageRef) (string, error) {
	switch pol.Spec.DigestReflectionPolicy {
	case cruisev1.DigestReflectAlways:
	case cruisev1.DigestReflectIfNotPresent:
		if old := pol.Status.LatestRef; old != nil && old.Name == ref.Name && old.Tag == ref.Tag && old.Digest != "" {
			return old.Digest, nil
		}
	default:
		return "", nil
	}
	timeout := scanTimeout(repo)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d, err := tags.Scan.Digest(ctx, ref.Tag)
	if err != nil {
		return "", classifyScanError(fmt.Errorf("read the digest of %s:%s: %w", ref.Name, ref.Tag, err), timeout)
	}
	return d, nil
}

// record sets the choice; a change moves the previous one to
// observedPreviousRef and is announced.
func (r *ImagePolicyReconciler) record(pol *cruisev1.ImagePolicy, ref cruisev1.ImageRef) {
	old := pol.Status.LatestRef
	if old != nil && *old == ref {
		return
	}
	pol.Status.LatestRef = &ref
	note := "chose " + ref.String()
	if old != nil {
		pol.Status.ObservedPreviousRef = old
		note += " (was " + old.String() + ")"
	}
	r.Recorder.Eventf(pol, nil, corev1.EventTypeNormal, EventNewTagChosen, "Choose", "%s", note)
}

// imageAccessAllowed reports whether an ImageRepository lets policies of
// namespace ns choose from it.
func imageAccessAllowed(repo *cruisev1.ImageRepository, ns string) bool {
	a := repo.Spec.AccessFrom
	if a == nil {
		return false
	}
	for _, n := range a.Namespaces {
		if n == ns || n == "*" {
			return true
		}
	}
	return false
}

// repositoryChanged passes the ImageRepository events its policies care
// about: created, deleted, a new spec, Ready turning; not the status
// update of every scan (new tags come through the store).
type repositoryChanged struct{ predicate.Funcs }

func (repositoryChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*cruisev1.ImageRepository)
	n, ok2 := e.ObjectNew.(*cruisev1.ImageRepository)
	if !ok1 || !ok2 {
		return false
	}
	return o.Generation != n.Generation || conditionStatus(o.Status.Conditions) != conditionStatus(n.Status.Conditions)
}

// setupImageScanning registers the ImageRepository and ImagePolicy
// reconcilers, sharing one tag store.
func setupImageScanning(mgr ctrl.Manager, recorder events.EventRecorder, m *Metrics) error {
	tags := NewImageTagStore()
	repos := &ImageRepositoryReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Tags: tags, Recorder: recorder, Metrics: m}
	if err := repos.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up ImageRepository controller: %w", err)
	}
	policies := &ImagePolicyReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Tags: tags, Recorder: recorder}
	if err := policies.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up ImagePolicy controller: %w", err)
	}
	return nil
}
