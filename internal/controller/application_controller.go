package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/helm"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// Finalizer lets an Application prune what it applied before it goes.
const Finalizer = "cruise.dev/finalizer"

// Field indexes for finding Applications by what they refer to.
const (
	indexSource    = ".spec.sourceRef"
	indexDependsOn = ".spec.dependsOn"
)

// ApplicationReconciler keeps Applications applied.
type ApplicationReconciler struct {
	Client client.Client
	// APIReader reads Applications past the cache (see Reconcile); Client
	// when nil.
	APIReader client.Reader
	Fetcher   *gitsource.Fetcher
	Artifacts *ArtifactStore
	Recorder  events.EventRecorder
	Metrics   *Metrics
	// FieldManager for server-side apply; default "cruise".
	FieldManager string
	// Concurrency of syncs; default 4.
	Concurrency int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Notifier is told of syncs, failures and recoveries; nil: nobody.
	Notifier Notifier
	// Charts fetches repository charts and chart dependencies; nil: a
	// client with chartrepo's defaults.
	Charts *chartrepo.Client

	engines *engines
	cluster *helm.ClusterCache
	// valuesChanged holds the Applications whose valuesFrom changed.
	valuesChanged keySet
	drift         *driftWatcher
	changes       changedPaths
	driftCh       chan event.TypedGenericEvent[*cruisev1.Application]
	outcomes      *outcomes
}

// SetupWithManager registers the reconciler, its indexes and watches.
func (r *ApplicationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.FieldManager == "" {
		r.FieldManager = "cruise"
	}
	if r.Concurrency <= 0 {
		r.Concurrency = 4
	}
	if r.APIReader == nil {
		r.APIReader = r.Client
	}
	if r.Charts == nil {
		r.Charts = chartrepo.NewClient(chartrepo.Options{})
	}
	r.outcomes = newOutcomes(r.Recorder).notifying(r.Notifier, cruisev1.ApplicationKind)
	r.outcomes.notices.source = r.sourceURL
	r.engines = newEngines(mgr.GetConfig(), apply.EngineOptions{FieldManager: r.FieldManager})
	// Charts read .Capabilities from here: a CRD another Application
	// installs shows within minutes, or at once after our own apply wrote
	// one.
	r.cluster = &helm.ClusterCache{Config: mgr.GetConfig(), TTL: 5 * time.Minute}
	mc, err := metadata.NewForConfig(mgr.GetConfig())
	if err != nil {
		return fmt.Errorf("metadata client: %w", err)
	}
	r.driftCh = make(chan event.TypedGenericEvent[*cruisev1.Application], 1024)
	r.drift = newDriftWatcher(mc, mgr.GetRESTMapper(), r.FieldManager, r.Metrics, func(key types.NamespacedName) {
		app := &cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		r.driftCh <- event.TypedGenericEvent[*cruisev1.Application]{Object: app}
	})
	if err := mgr.Add(r.drift); err != nil {
		return err
	}

	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &cruisev1.Application{}, indexSource, func(o client.Object) []string {
		app := o.(*cruisev1.Application)
		if app.Spec.Chart != nil {
			return nil
		}
		return []string{app.SourceNamespace() + "/" + app.Spec.SourceRef.Name}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &cruisev1.Application{}, indexDependsOn, func(o client.Object) []string {
		app := o.(*cruisev1.Application)
		var keys []string
		for _, d := range app.Spec.DependsOn {
			ns := d.Namespace
			if ns == "" {
				ns = app.Namespace
			}
			keys = append(keys, ns+"/"+d.Name)
		}
		return keys
	}); err != nil {
		return err
	}

	if err := idx.IndexField(ctx, &cruisev1.Application{}, indexValuesFrom, valuesFromKeys); err != nil {
		return err
	}
	configMap := &metav1.PartialObjectMetadata{}
	configMap.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))

	return ctrl.NewControllerManagedBy(mgr).
		// A ConfigMap or Secret a chart's valuesFrom reads, changed.
		Watches(configMap, handler.EnqueueRequestsFromMapFunc(r.valuesChangedFor("ConfigMap")), builder.OnlyMetadata).
		Watches(secretMetadata(), handler.EnqueueRequestsFromMapFunc(r.valuesChangedFor("Secret")), builder.OnlyMetadata).
		For(&cruisev1.Application{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		// A new revision of the source triggers its Applications.
		Watches(&cruisev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.appsOfSource),
			builder.WithPredicates(revisionChanged{})).
		// An Application turning Ready releases those that depend on it.
		Watches(&cruisev1.Application{}, handler.EnqueueRequestsFromMapFunc(r.dependents),
			builder.WithPredicates(becameReady{})).
		WatchesRawSource(source.Channel(r.driftCh, &handler.TypedEnqueueRequestForObject[*cruisev1.Application]{})).
		// A checkout this process did not have (after a restart, the same
		// commit as before) releases the Applications waiting for it.
		WatchesRawSource(source.Channel(r.Artifacts.Published(), handler.TypedEnqueueRequestsFromMapFunc(
			func(ctx context.Context, repo *cruisev1.GitRepository) []reconcile.Request {
				return r.appsOfSource(ctx, repo)
			}))).
		WithOptions(ctrlOptions(r.Concurrency)).
		Named("application").
		Complete(r)
}

func (r *ApplicationReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile brings one Application in line with its source.
func (r *ApplicationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	// Read past the cache: a reconcile queued while the previous one ran
	// (a source's new revision, then `cruise reconcile`) must see the
	// status that one wrote, or it would apply and announce the same
	// revision again.
	app := &cruisev1.Application{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, app); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	status := newStatusWriter(r.Client, app)
	defer func() {
		if err := status.write(ctx, app); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, err)
		}
	}()
	if !app.DeletionTimestamp.IsZero() {
		err := r.finalize(ctx, app, status)
		return r.outcomes.finish(ctx, r.subject(app, "Delete"), 0, err), nil
	}
	if !controllerutil.ContainsFinalizer(app, Finalizer) {
		patch := mergeFrom(app.DeepCopy())
		controllerutil.AddFinalizer(app, Finalizer)
		if err := r.Client.Patch(ctx, app, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}

	requested := app.Annotations[cruisev1.ReconcileRequestAnnotation]
	forced := requested != "" && requested != app.Status.LastHandledReconcileAt
	if app.Spec.Suspend {
		app.Status.LastHandledReconcileAt = requested
		app.Status.ObservedGeneration = app.Generation
		meta := "suspended: no changes are made until it is resumed"
		set(&app.Status.Conditions, app.Generation, cruisev1.ConditionReady, conditionStatus(app.Status.Conditions), cruisev1.ReasonSuspended, meta)
		return ctrl.Result{}, nil
	}

	dirty := r.drift.takeDirty(req.NamespacedName)
	values := r.valuesChanged.take(req.NamespacedName)
	next, err := r.sync(ctx, app, status, syncTrigger{forced: forced || values, drift: dirty})
	// Handled once the sync is over, so that whoever asked (`cruise
	// reconcile --wait`) reads its outcome, not the state before it.
	app.Status.LastHandledReconcileAt = requested
	return r.outcomes.finish(ctx, r.subject(app, "Sync"), next, err), nil
}

// subject describes an Application to outcomes.finish.
func (r *ApplicationReconciler) subject(app *cruisev1.Application, action string) subject {
	return subject{
		obj: app, conditions: &app.Status.Conditions, observedGeneration: &app.Status.ObservedGeneration,
		action: action, fallbackReason: cruisev1.ReasonApplyFailed,
		timing: newRetryTiming(interval(app), app.Spec.RetryInterval),
	}
}

// forget drops what the reconciler remembers of a deleted Application.
func (r *ApplicationReconciler) forget(key types.NamespacedName) {
	r.outcomes.forget(key)
}

// appsOfSource lists the Applications that use a GitRepository.
func (r *ApplicationReconciler) appsOfSource(ctx context.Context, o client.Object) []reconcile.Request {
	var list cruisev1.ApplicationList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexSource: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		return nil
	}
	return requests(list.Items)
}

// dependents lists the Applications that depend on one.
func (r *ApplicationReconciler) dependents(ctx context.Context, o client.Object) []reconcile.Request {
	var list cruisev1.ApplicationList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexDependsOn: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		return nil
	}
	return requests(list.Items)
}

func requests(apps []cruisev1.Application) []reconcile.Request {
	out := make([]reconcile.Request, len(apps))
	for i := range apps {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&apps[i])}
	}
	return out
}

// revisionChanged passes GitRepository updates that bring a new artifact.
type revisionChanged struct{ predicate.Funcs }

func (revisionChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*cruisev1.GitRepository)
	n, ok2 := e.ObjectNew.(*cruisev1.GitRepository)
	if !ok1 || !ok2 || n.Status.Artifact == nil {
		return false
	}
	return o.Status.Artifact == nil || o.Status.Artifact.Commit != n.Status.Artifact.Commit
}

func (revisionChanged) Create(e event.CreateEvent) bool {
	repo, ok := e.Object.(*cruisev1.GitRepository)
	return ok && repo.Status.Artifact != nil
}

// becameReady passes Application updates that turn Ready True.
type becameReady struct{ predicate.Funcs }

func (becameReady) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*cruisev1.Application)
	n, ok2 := e.ObjectNew.(*cruisev1.Application)
	if !ok1 || !ok2 {
		return false
	}
	return isReady(n.Status.Conditions, n.Generation) &&
		(!isReady(o.Status.Conditions, o.Generation) || o.Status.LastAppliedRevision != n.Status.LastAppliedRevision)
}
