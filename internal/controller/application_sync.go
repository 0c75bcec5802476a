package controller

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/render"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// syncTrigger says why a sync runs, beyond a new revision or spec.
type syncTrigger struct {
	forced bool // cruise.dev/reconcile-at asked for it
	drift  bool // a managed object changed in the cluster
}

// sync runs the phases of one Application in order: dependencies, source,
// the skip check, render, apply (or diff), status. It returns when to come
// back if all went well.
func (r *ApplicationReconciler) sync(ctx context.Context, app *cruisev1.Application, why syncTrigger) (time.Duration, error) {
	if err := r.checkDependencies(ctx, app); err != nil {
		return 0, err
	}
	repo, art, err := r.source(ctx, app)
	if err != nil {
		return 0, err
	}
	defer art.Release() // held for this sync by ArtifactStore.Get
	revision := art.Revision
	app.Status.LastAttemptedRevision = revision

	next := r.untilResync(app)
	sameRevision := revisionCommit(app.Status.LastAppliedRevision) == art.Commit
	settled := isReady(app.Status.Conditions, app.Generation) && !why.forced && !why.drift && next > 0
	if settled && sameRevision {
		return next, nil // nothing new: woken by something that does not concern us
	}
	if settled && r.unaffected(ctx, repo, app, art) {
		// A commit elsewhere in the repository: record it, apply nothing.
		app.Status.LastAppliedRevision = revision
		markReady(&app.Status.Conditions, app.Generation, cruisev1.ReasonSucceeded, "revision "+revision+" changes no file of this application")
		return next, nil
	}

	markReconciling(&app.Status.Conditions, app.Generation, "syncing revision "+revision)
	rendered, err := render.Render(ctx, render.Options{Root: art.Dir, Path: app.Spec.Path, Ignore: repo.Spec.Ignore})
	if err != nil {
		r.recordHistory(app, art, err)
		return 0, stalling(cruisev1.ReasonRenderFailed, fmt.Errorf("render %s at %s: %w", app.Spec.Path, revision, err))
	}
	eng, err := r.engines.forServiceAccount(app.Namespace, app.Spec.ServiceAccountName)
	if err != nil {
		return 0, transient(cruisev1.ReasonApplyFailed, err)
	}

	if !app.SelfHealEnabled() && sameRevision && !why.forced {
		return r.reportDrift(ctx, app, eng, rendered, revision)
	}
	return r.apply(ctx, app, eng, rendered, art, why)
}

// checkDependencies waits until every Application in dependsOn is Ready.
func (r *ApplicationReconciler) checkDependencies(ctx context.Context, app *cruisev1.Application) error {
	for _, d := range app.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = app.Namespace
		}
		dep := &cruisev1.Application{}
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: d.Name}, dep)
		if err == nil && isReady(dep.Status.Conditions, dep.Generation) {
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return transient(cruisev1.ReasonDependencyNotReady, err)
		}
		// The dependency's turn to Ready enqueues us; the requeue is a
		// safety net.
		return waiting(cruisev1.ReasonDependencyNotReady, time.Minute, "waiting for dependency %s/%s to be Ready", ns, d.Name)
	}
	return nil
}

// source finds the GitRepository and its current checkout.
func (r *ApplicationReconciler) source(ctx context.Context, app *cruisev1.Application) (*cruisev1.GitRepository, *gitsource.Artifact, error) {
	key := types.NamespacedName{Namespace: app.SourceNamespace(), Name: app.Spec.SourceRef.Name}
	repo := &cruisev1.GitRepository{}
	if err := r.Client.Get(ctx, key, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, waiting(cruisev1.ReasonSourceNotFound, time.Minute, "GitRepository %s not found", key)
		}
		return nil, nil, transient(cruisev1.ReasonSourceNotReady, err)
	}
	if key.Namespace != app.Namespace && !accessAllowed(repo, app.Namespace) {
		return nil, nil, stalling(cruisev1.ReasonSourceNotAllowed, fmt.Errorf(
			"GitRepository %s does not allow Applications from namespace %s (spec.accessFrom)", key, app.Namespace))
	}
	if repo.Status.Artifact == nil {
		return nil, nil, waiting(cruisev1.ReasonSourceNotReady, time.Minute, "GitRepository %s has no revision yet", key)
	}
	art, ok := r.Artifacts.Get(key, repo.Status.Artifact.Commit)
	if !ok {
		// Fetched by an earlier process (before a restart or a leader
		// change): this process's GitRepository reconcile brings it back.
		return nil, nil, waiting(cruisev1.ReasonSourceNotReady, 2*time.Second, "waiting for revision %s of %s", repo.Status.Artifact.Revision, key)
	}
	return repo, art, nil
}

func accessAllowed(repo *cruisev1.GitRepository, ns string) bool {
	if repo.Spec.AccessFrom == nil {
		return false
	}
	return slices.Contains(repo.Spec.AccessFrom.Namespaces, ns) || slices.Contains(repo.Spec.AccessFrom.Namespaces, "*")
}

// unaffected reports whether the new revision changes none of the files
// the last render read. In plain mode a new file under the path counts
// too, since the render would pick it up.
func (r *ApplicationReconciler) unaffected(ctx context.Context, repo *cruisev1.GitRepository, app *cruisev1.Application, art *gitsource.Artifact) bool {
	from := revisionCommit(app.Status.LastAppliedRevision)
	if from == "" || len(app.Status.RenderedFiles) == 0 {
		return false
	}
	changed, err := r.changes.get(ctx, r.Fetcher, repo.Spec.URL, from, art.Commit)
	if err != nil {
		return false // when in doubt, sync
	}
	dir := path.Clean(app.Spec.Path)
	for _, p := range changed {
		if slices.Contains(app.Status.RenderedFiles, p) || dir == "." || strings.HasPrefix(p, dir+"/") {
			return false
		}
	}
	return true
}

// apply makes the cluster match the rendered objects.
func (r *ApplicationReconciler) apply(ctx context.Context, app *cruisev1.Application, eng *apply.Engine, rendered render.Result, art *gitsource.Artifact, why syncTrigger) (time.Duration, error) {
	opts := apply.ApplyOptions{
		Owner:      apply.Owner{Name: app.Name, Namespace: app.Namespace},
		Inventory:  &statusInventory{client: r.Client, app: app},
		Namespaces: apply.Namespaces{Default: app.Namespace, Target: app.Spec.TargetNamespace},
		Prune:      app.Spec.Prune,
		Force:      app.Spec.Force,
	}
	timeout := 5 * time.Minute
	if app.Spec.Timeout != nil && app.Spec.Timeout.Duration > 0 {
		timeout = app.Spec.Timeout.Duration
	}
	if app.WaitEnabled() {
		opts.WaitTimeout = timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()

	res, err := eng.Apply(ctx, rendered.Objects, opts)
	if res != nil {
		r.recordResources(app, res)
	}
	// Whatever was applied is watched for drift, even when the sync then
	// failed (for example on health).
	r.drift.watch(kindsOf(app.Status.Inventory))
	if err != nil {
		if errors.Is(err, apply.ErrUnhealthy) {
			set(&app.Status.Conditions, app.Generation, cruisev1.ConditionHealthy, metav1.ConditionFalse, cruisev1.ReasonHealthCheckFailed, err.Error())
		}
		r.recordHistory(app, art, err)
		return 0, classifyApplyError(err)
	}
	app.Status.RenderedFiles = rendered.Files
	written := 0
	for _, c := range res.Changes {
		if c.Action != apply.Unchanged && c.Action != apply.PruneSkipped {
			written++
			r.Metrics.countObject(string(c.Action))
		}
	}
	newRevision := app.Status.LastAppliedRevision != art.Revision
	app.Status.LastAppliedRevision = art.Revision
	if newRevision || written > 0 {
		r.recordHistory(app, art, nil)
	}
	switch {
	case written > 0 && why.drift && !newRevision:
		r.Metrics.countDrift(true)
		r.Recorder.Eventf(app, nil, corev1.EventTypeNormal, "DriftCorrected", "Sync", "reverted %d object(s) changed outside Git to %s", written, art.Revision)
	case written > 0 || newRevision:
		r.Recorder.Eventf(app, nil, corev1.EventTypeNormal, "Synced", "Sync", "applied %s: %s", art.Revision, summary(res.Changes))
	}
	if app.WaitEnabled() {
		set(&app.Status.Conditions, app.Generation, cruisev1.ConditionHealthy, metav1.ConditionTrue, cruisev1.ReasonSucceeded, "all objects are healthy")
	} else {
		set(&app.Status.Conditions, app.Generation, cruisev1.ConditionHealthy, metav1.ConditionUnknown, cruisev1.ReasonSucceeded, "health is not checked (spec.wait: false)")
	}
	markReady(&app.Status.Conditions, app.Generation, cruisev1.ReasonSucceeded, "applied revision "+art.Revision)
	return r.untilResync(app), nil
}

// reportDrift compares without changing anything, for selfHeal: false.
func (r *ApplicationReconciler) reportDrift(ctx context.Context, app *cruisev1.Application, eng *apply.Engine, rendered render.Result, revision string) (time.Duration, error) {
	diffs, err := eng.Diff(ctx, rendered.Objects, apply.DiffOptions{
		Owner:      apply.Owner{Name: app.Name, Namespace: app.Namespace},
		Inventory:  &statusInventory{client: r.Client, app: app},
		Namespaces: apply.Namespaces{Default: app.Namespace, Target: app.Spec.TargetNamespace},
	})
	if err != nil {
		return 0, classifyApplyError(err)
	}
	var drifted []string
	for i := range app.Status.Resources {
		app.Status.Resources[i].Sync = "Synced"
	}
	for _, d := range diffs {
		if !d.Drifted() {
			continue
		}
		drifted = append(drifted, d.Ref.String())
		for i := range app.Status.Resources {
			rs := &app.Status.Resources[i]
			if rs.Kind == d.Ref.Kind && rs.Namespace == d.Ref.Namespace && rs.Name == d.Ref.Name && rs.Group == d.Ref.Group {
				rs.Sync = "OutOfSync"
			}
		}
	}
	if len(drifted) == 0 {
		markReady(&app.Status.Conditions, app.Generation, cruisev1.ReasonSucceeded, "applied revision "+revision)
		return r.untilResync(app), nil
	}
	r.Metrics.countDrift(false)
	msg := fmt.Sprintf("%d object(s) differ from %s and selfHeal is off: %s", len(drifted), revision, strings.Join(drifted, ", "))
	r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, cruisev1.ReasonDriftDetected, "Diff", "%s", msg)
	set(&app.Status.Conditions, app.Generation, cruisev1.ConditionReady, metav1.ConditionTrue, cruisev1.ReasonDriftDetected, msg)
	return r.untilResync(app), nil
}

// classifyApplyError decides whether retrying an engine error can help.
func classifyApplyError(err error) error {
	switch {
	case errors.Is(err, apply.ErrInvalid), errors.Is(err, apply.ErrUnknownKind), errors.Is(err, apply.ErrImmutable):
		return stalling(cruisev1.ReasonValidationFailed, err)
	case errors.Is(err, apply.ErrForbidden):
		return stalling(cruisev1.ReasonForbidden, err)
	case errors.Is(err, apply.ErrUnhealthy):
		return transient(cruisev1.ReasonHealthCheckFailed, err)
	}
	return transient(cruisev1.ReasonApplyFailed, err)
}

// recordResources stores each object's sync and health from a result.
func (r *ApplicationReconciler) recordResources(app *cruisev1.Application, res *apply.Result) {
	health := map[string]apply.Health{}
	for _, h := range res.Health {
		health[h.Ref.Key()] = h
	}
	out := make([]cruisev1.ResourceStatus, 0, len(res.Changes))
	for _, c := range res.Changes {
		if c.Action == apply.Pruned || c.Action == apply.PruneSkipped {
			continue
		}
		rs := cruisev1.ResourceStatus{
			ObjectRef: cruisev1.ObjectRef{Group: c.Ref.Group, Version: c.Ref.Version, Kind: c.Ref.Kind, Namespace: c.Ref.Namespace, Name: c.Ref.Name},
			Sync:      "Synced",
		}
		if h, ok := health[c.Ref.Key()]; ok {
			rs.Health, rs.Message = string(h.Status), h.Message
		}
		out = append(out, rs)
	}
	app.Status.Resources = out
}

// recordHistory adds a sync result, newest first, keeping MaxHistory.
func (r *ApplicationReconciler) recordHistory(app *cruisev1.Application, art *gitsource.Artifact, err error) {
	h := cruisev1.SyncResult{
		Revision: art.Revision, Message: art.Message, Author: art.Author,
		Time: metav1.NewTime(r.now()), Result: "Succeeded",
	}
	if err != nil {
		h.Result, h.Error = "Failed", err.Error()
		if len(h.Error) > 512 {
			h.Error = h.Error[:509] + "..."
		}
	}
	app.Status.History = append([]cruisev1.SyncResult{h}, app.Status.History...)
	if len(app.Status.History) > cruisev1.MaxHistory {
		app.Status.History = app.Status.History[:cruisev1.MaxHistory]
	}
}

// untilResync is the time left until the next full resync, measured from
// the last recorded sync; 0 when it is due.
func (r *ApplicationReconciler) untilResync(app *cruisev1.Application) time.Duration {
	if len(app.Status.History) == 0 {
		return 0
	}
	d := app.Status.History[0].Time.Add(interval(app)).Sub(r.now())
	if d < 0 {
		return 0
	}
	return d
}

func interval(app *cruisev1.Application) time.Duration {
	if d := app.Spec.Interval.Duration; d > 0 {
		return d
	}
	return 10 * time.Minute
}

// revisionCommit takes the commit out of "<ref>@sha1:<commit>".
func revisionCommit(rev string) string {
	return gitsource.RevisionCommit(rev)
}

func kindsOf(refs []cruisev1.ObjectRef) []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, r := range refs {
		gvk := schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
		if !seen[gvk] {
			seen[gvk] = true
			out = append(out, gvk)
		}
	}
	return out
}

func summary(changes []apply.Change) string {
	counts := map[apply.Action]int{}
	for _, c := range changes {
		counts[c.Action]++
	}
	var parts []string
	for _, a := range []apply.Action{apply.Created, apply.Configured, apply.Recreated, apply.Pruned, apply.Unchanged} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	return strings.Join(parts, ", ")
}

func equalStatus(a, b *cruisev1.Application) bool {
	return equality.Semantic.DeepEqual(a.Status, b.Status)
}

func ctrlOptions(concurrency int) controller.Options {
	return controller.Options{MaxConcurrentReconciles: concurrency}
}
