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
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
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
	Client    client.Client
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

	engines *engines
	drift   *driftWatcher
	changes changedPaths
	driftCh chan event.TypedGenericEvent[*cruisev1.Application]
}

// SetupWithManager registers the reconciler, its indexes and watches.
func (r *ApplicationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.FieldManager == "" {
		r.FieldManager = "cruise"
	}
	if r.Concurrency <= 0 {
		r.Concurrency = 4
	}
	r.engines = newEngines(mgr.GetConfig(), apply.EngineOptions{FieldManager: r.FieldManager})
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

	return ctrl.NewControllerManagedBy(mgr).
		For(&cruisev1.Application{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		// A new revision of the source triggers its Applications.
		Watches(&cruisev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.appsOfSource),
			builder.WithPredicates(revisionChanged{})).
		// An Application turning Ready releases those that depend on it.
		Watches(&cruisev1.Application{}, handler.EnqueueRequestsFromMapFunc(r.dependents),
			builder.WithPredicates(becameReady{})).
		WatchesRawSource(source.Channel(r.driftCh, &handler.TypedEnqueueRequestForObject[*cruisev1.Application]{})).
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
	app := &cruisev1.Application{}
	if err := r.Client.Get(ctx, req.NamespacedName, app); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !app.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, app)
	}
	if !controllerutil.ContainsFinalizer(app, Finalizer) {
		patch := client.MergeFrom(app.DeepCopy())
		controllerutil.AddFinalizer(app, Finalizer)
		if err := r.Client.Patch(ctx, app, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}

	before := app.DeepCopy()
	defer func() {
		if equalStatus(before, app) {
			return
		}
		if err := r.Client.Status().Patch(ctx, app, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("patch status: %w", err))
		}
	}()
	requested := app.Annotations[cruisev1.ReconcileRequestAnnotation]
	forced := requested != "" && requested != app.Status.LastHandledReconcileAt
	app.Status.LastHandledReconcileAt = requested
	app.Status.ObservedGeneration = app.Generation

	if app.Spec.Suspend {
		meta := "suspended: no changes are made until it is resumed"
		set(&app.Status.Conditions, app.Generation, cruisev1.ConditionReady, conditionStatus(app.Status.Conditions), cruisev1.ReasonSuspended, meta)
		return ctrl.Result{}, nil
	}

	dirty := r.drift.takeDirty(req.NamespacedName)
	next, err := r.sync(ctx, app, syncTrigger{forced: forced, drift: dirty})
	return r.outcome(ctx, app, next, err)
}

// outcome turns the result of a sync into conditions, events and the
// requeue. It is the one place that decides what an error means.
func (r *ApplicationReconciler) outcome(ctx context.Context, app *cruisev1.Application, next time.Duration, err error) (ctrl.Result, error) {
	if err == nil {
		return ctrl.Result{RequeueAfter: next}, nil
	}
	pe := asPhaseError(err, cruisev1.ReasonApplyFailed)
	markFailed(&app.Status.Conditions, app.Generation, pe)
	switch {
	case pe.Waiting:
		return ctrl.Result{RequeueAfter: pe.RequeueAfter}, nil
	case pe.Stalling:
		r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, pe.Reason, "Sync", "%s", pe.Error())
		log.FromContext(ctx).Info("sync stalled", "reason", pe.Reason, "error", pe.Error())
		return ctrl.Result{RequeueAfter: interval(app)}, nil
	default:
		r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, pe.Reason, "Sync", "%s", pe.Error())
		// Returning the error lets the workqueue back off exponentially.
		return ctrl.Result{}, pe
	}
}

// finalize prunes what the Application applied (unless prune is off or
// it is suspended) and lets it go.
func (r *ApplicationReconciler) finalize(ctx context.Context, app *cruisev1.Application) error {
	if !controllerutil.ContainsFinalizer(app, Finalizer) {
		return nil
	}
	if app.Spec.Prune && !app.Spec.Suspend && len(app.Status.Inventory) > 0 {
		eng, err := r.engines.forServiceAccount(app.Namespace, app.Spec.ServiceAccountName)
		if err != nil {
			return err
		}
		_, err = eng.Apply(ctx, nil, apply.ApplyOptions{
			Owner:     apply.Owner{Name: app.Name, Namespace: app.Namespace},
			Inventory: &statusInventory{client: r.Client, app: app},
			Prune:     true,
		})
		if err != nil {
			r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, cruisev1.ReasonPruneFailed, "Delete", "%v", err)
			return fmt.Errorf("prune on delete: %w", err)
		}
	}
	patch := client.MergeFrom(app.DeepCopy())
	controllerutil.RemoveFinalizer(app, Finalizer)
	return client.IgnoreNotFound(r.Client.Patch(ctx, app, patch))
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
