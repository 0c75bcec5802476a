package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/pipeline"
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
// back if all went well. From the render on, status writes the progress to
// the API server at each phase boundary.
func (r *ApplicationReconciler) sync(ctx context.Context, app *cruisev1.Application, status *statusWriter, why syncTrigger) (time.Duration, error) {
	if err := r.checkDependencies(ctx, app); err != nil {
		return 0, err
	}
	repo, art, archive, err := r.sourceOf(ctx, app)
	if err != nil {
		return 0, err
	}
	defer art.Release() // held for this sync by ArtifactStore.Get
	revision := art.Revision
	app.Status.LastAttemptedRevision = revision

	next := r.untilResync(app)
	sameRevision := revisionKey(app.Status.LastAppliedRevision) == art.Commit
	// Ready at this generation: the spec as it is now has been applied
	// (read before the progress write below turns Ready Unknown).
	specApplied := isReady(app.Status.Conditions, app.Generation)
	settled := specApplied && !why.forced && !why.drift && next > 0
	if settled && sameRevision {
		return next, nil // nothing new: woken by something that does not concern us
	}
	if settled && repo != nil && r.unaffected(ctx, repo, app, art) {
		// A commit elsewhere in the repository: record it, apply nothing.
		app.Status.LastAppliedRevision = revision
		markReady(&app.Status.Conditions, app.Generation, cruisev1.ReasonSucceeded, "revision "+revision+" changes no file of this application")
		return next, nil
	}

	applying := "applying revision " + revision
	status.quiet = sameRevision && specApplied
	if err := status.progress(ctx, app, applying); err != nil {
		return 0, transient(cruisev1.ReasonApplyFailed, err)
	}
	dec, digestKey, err := r.decryption(ctx, app)
	if err != nil {
		return 0, err
	}
	rendered, err := r.render(ctx, app, repo, art, archive, dec)
	if err != nil {
		r.recordHistory(app, art, "", err)
		return 0, err
	}
	digest, err := renderDigest(append(rendered.Objects[:len(rendered.Objects):len(rendered.Objects)], hookObjects(rendered.release)...), digestKey)
	if err != nil {
		return 0, stalling(cruisev1.ReasonRenderFailed, err)
	}
	status.progressLater(ctx, app, fmt.Sprintf("%s: rendered %d object(s)", applying, len(rendered.Objects)))
	eng, err := r.engines.forServiceAccount(app.Namespace, app.Spec.ServiceAccountName)
	if err != nil {
		return 0, transient(cruisev1.ReasonApplyFailed, err)
	}

	// selfHeal off only reports drift; a changed spec is still applied.
	if !app.SelfHealEnabled() && sameRevision && specApplied && !why.forced {
		return r.reportDrift(ctx, app, eng, rendered.Result, revision)
	}
	return r.apply(ctx, app, status, eng, rendered, renderedRevision{art: art, digest: digest}, why)
}

// renderedRevision is what a sync deploys: the checkout and the digest of
// its render.
type renderedRevision struct {
	art    *gitsource.Artifact
	digest string
}

// checkDependencies waits until every Application in dependsOn is Ready at
// the current revision of its own source: Ready at an older one means it
// has not deployed what is in Git yet.
func (r *ApplicationReconciler) checkDependencies(ctx context.Context, app *cruisev1.Application) error {
	for _, d := range app.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = app.Namespace
		}
		key := types.NamespacedName{Namespace: ns, Name: d.Name}
		dep := &cruisev1.Application{}
		if err := r.Client.Get(ctx, key, dep); err != nil {
			if apierrors.IsNotFound(err) {
				return waiting(cruisev1.ReasonDependencyNotReady, time.Minute, "waiting for dependency %s, which does not exist", key)
			}
			return transient(cruisev1.ReasonDependencyNotReady, fmt.Errorf("read dependency %s: %w", key, err))
		}
		why, err := r.dependencyPending(ctx, dep)
		if err != nil {
			return transient(cruisev1.ReasonDependencyNotReady, err)
		}
		if why != "" {
			// The dependency turning Ready, or applying a new revision,
			// enqueues us; the requeue is a safety net.
			return waiting(cruisev1.ReasonDependencyNotReady, time.Minute, "waiting for dependency %s: %s", key, why)
		}
	}
	return nil
}

// dependencyPending says why dep is not ready to be depended on yet, or
// "" when it is.
func (r *ApplicationReconciler) dependencyPending(ctx context.Context, dep *cruisev1.Application) (string, error) {
	if !isReady(dep.Status.Conditions, dep.Generation) {
		return "not Ready", nil
	}
	if dep.Spec.Chart != nil {
		return "", nil // Ready at its generation: the chart version it resolved is applied
	}
	key := types.NamespacedName{Namespace: dep.SourceNamespace(), Name: dep.Spec.SourceRef.Name}
	repo := &cruisev1.GitRepository{}
	if err := r.Client.Get(ctx, key, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return "its GitRepository " + key.String() + " does not exist", nil
		}
		return "", fmt.Errorf("read GitRepository %s of dependency %s/%s: %w", key, dep.Namespace, dep.Name, err)
	}
	if repo.Status.Artifact == nil {
		return "its GitRepository " + key.String() + " has no revision yet", nil
	}
	if gitsource.RevisionCommit(dep.Status.LastAppliedRevision) != repo.Status.Artifact.Commit {
		return fmt.Sprintf("Ready at %s, not yet at its source's revision %s", dep.Status.LastAppliedRevision, repo.Status.Artifact.Revision), nil
	}
	return "", nil
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
		// change): this process's GitRepository reconcile brings it back,
		// and ArtifactStore.Published wakes us then; the requeue is a
		// safety net.
		return nil, nil, waiting(cruisev1.ReasonSourceNotReady, 30*time.Second, "waiting for revision %s of %s", repo.Status.Artifact.Revision, key)
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
	from := gitsource.RevisionCommit(app.Status.LastAppliedRevision)
	if from == "" || len(app.Status.RenderedFiles) == 0 {
		return false
	}
	changed, err := r.changes.get(ctx, r.Fetcher, repo.Spec.URL, from, art.Commit)
	if err != nil {
		return false // when in doubt, sync
	}
	return !pipeline.Affected(app, changed)
}

// apply makes the cluster match the rendered objects.
func (r *ApplicationReconciler) apply(ctx context.Context, app *cruisev1.Application, status *statusWriter, eng *apply.Engine, rendered rendered, rev renderedRevision, why syncTrigger) (time.Duration, error) {
	art := rev.art
	target := pipeline.TargetOf(app)
	opts := target.ApplyOptions(&statusInventory{client: r.Client, app: app})
	if target.Wait {
		opts.Progress = r.healthWaitProgress(ctx, app, status, art.Revision, len(rendered.Objects), target.Timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, target.Timeout+time.Minute)
	defer cancel()

	// Hooks run for a new release (a new render, hooks included), not for
	// a drift correction or a resync that re-applies the same one.
	hooks := newRelease(app, rendered, rev.digest)
	if err := r.checkRelease(ctx, eng, rendered, opts, hooks); err != nil {
		r.recordHistory(app, art, rev.digest, err)
		return 0, err
	}
	if hooks {
		if err := r.runHooks(ctx, app, eng, rendered, preEvent(rendered.upgrade), target.Timeout); err != nil {
			r.recordHistory(app, art, rev.digest, err)
			return 0, err
		}
	}
	res, err := eng.Apply(ctx, rendered.Objects, opts)
	if res != nil {
		r.recordResources(app, res)
	}
	if err == nil && hooks {
		err = r.runHooks(ctx, app, eng, rendered, postEvent(rendered.upgrade), target.Timeout)
	}
	// Whatever was applied is watched for drift, even when the sync then
	// failed (for example on health).
	r.drift.watch(kindsOf(app.Status.Inventory))
	if err != nil {
		if errors.Is(err, apply.ErrUnhealthy) {
			set(&app.Status.Conditions, app.Generation, cruisev1.ConditionHealthy, metav1.ConditionFalse, cruisev1.ReasonHealthCheckFailed, err.Error())
		}
		r.recordHistory(app, art, rev.digest, err)
		return 0, classifyApplyError(err)
	}
	app.Status.RenderedFiles = rendered.Files
	written := 0
	for _, c := range res.Changes {
		if c.Action != apply.Unchanged && c.Action != apply.PruneSkipped {
			written++
			r.Metrics.countObject(string(c.Action))
			if c.Ref.Kind == "CustomResourceDefinition" {
				// Charts rendered next see the new API in .Capabilities.
				r.cluster.Invalidate()
			}
		}
	}
	newRevision := app.Status.LastAppliedRevision != art.Revision
	app.Status.LastAppliedRevision = art.Revision
	if newRevision || written > 0 {
		r.recordHistory(app, art, rev.digest, nil)
	}
	switch {
	case written > 0 && why.drift && !newRevision:
		r.Metrics.countDrift(true)
		r.Recorder.Eventf(app, nil, corev1.EventTypeNormal, "DriftCorrected", "Sync", "reverted %d object(s) changed outside Git to %s", written, art.Revision)
		r.notifyApplied(app, art, res.Changes, true)
	case written > 0 || newRevision:
		r.Recorder.Eventf(app, nil, corev1.EventTypeNormal, "Synced", "Sync", "applied %s: %s", art.Revision, summary(res.Changes))
		r.notifyApplied(app, art, res.Changes, false)
		if kept := keptObjects(res.Changes); kept != "" {
			r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, cruisev1.ReasonPruneSkipped, "Prune", "%s", kept)
		}
	}
	if target.Wait {
		set(&app.Status.Conditions, app.Generation, cruisev1.ConditionHealthy, metav1.ConditionTrue, cruisev1.ReasonSucceeded, "all objects are healthy")
	} else {
		set(&app.Status.Conditions, app.Generation, cruisev1.ConditionHealthy, metav1.ConditionUnknown, cruisev1.ReasonSucceeded, "health is not checked (spec.wait: false)")
	}
	markReady(&app.Status.Conditions, app.Generation, cruisev1.ReasonSucceeded, "applied revision "+art.Revision)
	return r.resynced(app), nil
}

// healthWaitProgress reports the end of the apply phase once there is a
// wait to report: at the first object the engine finds not yet healthy
// (health reports come once every object is written). Objects healthy at
// once, as most are, cost no status write.
func (r *ApplicationReconciler) healthWaitProgress(ctx context.Context, app *cruisev1.Application, status *statusWriter, revision string, objects int, timeout time.Duration) func(apply.Event) {
	reported := false
	return func(ev apply.Event) {
		if ev.Type != apply.EventHealth || ev.Health.Status == apply.Current || reported {
			return
		}
		reported = true
		status.progressLater(ctx, app, fmt.Sprintf("applying revision %s: applied %d object(s), waiting up to %s for them to become healthy", revision, objects, timeout))
	}
}

// reportDrift compares without changing anything, for selfHeal: false.
func (r *ApplicationReconciler) reportDrift(ctx context.Context, app *cruisev1.Application, eng *apply.Engine, rendered render.Result, revision string) (time.Duration, error) {
	diffs, err := eng.Diff(ctx, rendered.Objects, pipeline.TargetOf(app).DiffOptions(&statusInventory{client: r.Client, app: app}))
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
		return r.resynced(app), nil
	}
	r.Metrics.countDrift(false)
	msg := fmt.Sprintf("%d object(s) differ from %s and selfHeal is off: %s", len(drifted), revision, strings.Join(drifted, ", "))
	r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, cruisev1.ReasonDriftDetected, "Diff", "%s", msg)
	set(&app.Status.Conditions, app.Generation, cruisev1.ConditionReady, metav1.ConditionTrue, cruisev1.ReasonDriftDetected, msg)
	meta.RemoveStatusCondition(&app.Status.Conditions, cruisev1.ConditionReconciling)
	return r.resynced(app), nil
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

// recordHistory adds a sync result, newest first, keeping MaxHistory. A
// retry that fails again at the same revision and render updates the
// newest entry instead: retries would otherwise push the successful syncs,
// which are what a rollback goes back to, out of the history.
func (r *ApplicationReconciler) recordHistory(app *cruisev1.Application, art *gitsource.Artifact, digest string, err error) {
	h := cruisev1.SyncResult{
		Revision: art.Revision, Message: art.Message, Author: art.Author,
		Time: metav1.NewTime(r.now()), Digest: digest, Result: "Succeeded",
	}
	if err != nil {
		h.Result, h.Error = "Failed", err.Error()
		if len(h.Error) > 512 {
			h.Error = h.Error[:509] + "..."
		}
		if hs := app.Status.History; len(hs) > 0 && hs[0].Result == "Failed" && hs[0].Revision == h.Revision && hs[0].Digest == h.Digest {
			hs[0] = h
			return
		}
	}
	app.Status.History = append([]cruisev1.SyncResult{h}, app.Status.History...)
	if len(app.Status.History) > cruisev1.MaxHistory {
		app.Status.History = app.Status.History[:cruisev1.MaxHistory]
	}
}

// resynced records that a full sync of app succeeded now and returns the
// time until the next one.
func (r *ApplicationReconciler) resynced(app *cruisev1.Application) time.Duration {
	app.Status.LastSyncTime = &metav1.Time{Time: r.now()}
	return interval(app)
}

// untilResync is the time left until the next full resync, measured from
// the last full sync (status.lastSyncTime, or the newest history entry,
// failures included, when that is later or the status predates the
// field), so that a restart does not resync everything at once; 0 when it
// is due.
func (r *ApplicationReconciler) untilResync(app *cruisev1.Application) time.Duration {
	var last time.Time
	if t := app.Status.LastSyncTime; t != nil {
		last = t.Time
	}
	if len(app.Status.History) > 0 && app.Status.History[0].Time.After(last) {
		last = app.Status.History[0].Time.Time
	}
	if last.IsZero() {
		return 0
	}
	return max(last.Add(interval(app)).Sub(r.now()), 0)
}

func interval(app *cruisev1.Application) time.Duration {
	if d := app.Spec.Interval.Duration; d > 0 {
		return d
	}
	return 10 * time.Minute
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

// keptObjects says which objects no longer in Git were kept, and why;
// "" when none were.
func keptObjects(changes []apply.Change) string {
	var kept []string
	for _, c := range changes {
		if c.Action == apply.PruneSkipped {
			kept = append(kept, c.Ref.String()+" ("+c.Message+")")
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return fmt.Sprintf("kept %d object(s) no longer in Git: %s", len(kept), strings.Join(kept, "; "))
}

func summary(changes []apply.Change) string {
	counts := map[apply.Action]int{}
	for _, c := range changes {
		counts[c.Action]++
	}
	var parts []string
	for _, a := range []apply.Action{apply.Created, apply.Configured, apply.Recreated, apply.Pruned, apply.PruneSkipped, apply.Unchanged} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	return strings.Join(parts, ", ")
}

func ctrlOptions(concurrency int) controller.Options {
	return controller.Options{MaxConcurrentReconciles: concurrency}
}
