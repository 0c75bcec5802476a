package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
	"github.com/cruisegitops/cruise/internal/pipeline"
	"github.com/cruisegitops/cruise/internal/render"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// rendered is an Application's render: its objects, and for a chart the
// release (hooks, chart metadata).
type rendered struct {
	render.Result
	release *helm.Release
	// upgrade: the release was applied before (see releaseInstalled).
	upgrade bool
}

// render renders app from its checkout: a chart when spec.path holds
// Chart.yaml, else kustomize or plain manifests.
func (r *ApplicationReconciler) render(ctx context.Context, app *cruisev1.Application, repo *cruisev1.GitRepository, art *gitsource.Artifact, archive *chartrepo.Archive, dec *render.Decryption) (rendered, error) {
	if archive != nil {
		ch, err := helm.LoadArchive(art.URL, archive.Data)
		if err != nil {
			return rendered{}, stalling(cruisev1.ReasonRenderFailed, err)
		}
		return r.renderChart(ctx, app, "", ch, nil)
	}
	ch, files, isChart, err := pipeline.LoadGitChart(app, art.Dir)
	if !isChart {
		res, err := pipeline.Render(ctx, app, repo, art.Dir, dec)
		if err != nil {
			return rendered{}, stalling(cruisev1.ReasonRenderFailed, fmt.Errorf("render %s at %s: %w", app.Spec.Path, art.Revision, err))
		}
		return rendered{Result: res}, nil
	}
	if err != nil {
		return rendered{}, stalling(cruisev1.ReasonRenderFailed, fmt.Errorf("load chart %s at %s: %w", app.Spec.Path, art.Revision, err))
	}
	res, err := r.renderChart(ctx, app, art.Dir, ch, files)
	if err != nil {
		return rendered{}, err
	}
	return res, nil
}

// renderChart renders a loaded chart and keeps what it generated.
func (r *ApplicationReconciler) renderChart(ctx context.Context, app *cruisev1.Application, root string, ch *chart.Chart, files []string) (rendered, error) {
	cluster, err := r.cluster.Get()
	if err != nil {
		return rendered{}, transient(cruisev1.ReasonRenderFailed, err)
	}
	env := pipeline.ChartEnv{
		Reader:  r.APIReader,
		Cluster: cluster,
		Lookup:  r.engines.configFor(app.Namespace, app.Spec.ServiceAccountName),
		Dependencies: func(ctx context.Context, ch *chart.Chart) error {
			return r.Charts.FetchDependencies(ctx, ch, r.chartCredentials(ctx, app))
		},
	}
	res, err := pipeline.RenderChart(ctx, app, root, ch, files, releaseInstalled(app), env)
	if err != nil {
		return rendered{}, stalling(cruisev1.ReasonRenderFailed, fmt.Errorf("render chart %s: %w", ch.Name(), err))
	}
	if res.Generated.Changed() {
		owner := metav1.NewControllerRef(app, cruisev1.GroupVersion.WithKind(cruisev1.ApplicationKind))
		labels := map[string]string{apply.LabelName: app.Name, apply.LabelNamespace: app.Namespace}
		if err := helm.StoreGenerated(ctx, r.Client, app.Namespace, helm.GeneratedSecretName(app.Name), labels, owner, res.Generated.Kept()); err != nil {
			return rendered{}, transient(cruisev1.ReasonRenderFailed, err)
		}
	}
	rel := res.Release
	app.Status.Chart = &cruisev1.ChartStatus{Name: rel.Name, Version: rel.Version, AppVersion: rel.AppVersion}
	return rendered{Result: res.Result, release: rel, upgrade: releaseInstalled(app)}, nil
}

// releaseInstalled says whether the release was applied before: its
// templates then see .Release.IsUpgrade, and upgrade hooks run.
func releaseInstalled(app *cruisev1.Application) bool {
	return app.Status.LastAppliedRevision != "" || len(app.Status.Inventory) > 0
}

// hookObjects are the objects of a release's hooks, for the digest: a
// changed hook (a new migration image) is a new release.
func hookObjects(rel *helm.Release) []render.Object {
	if rel == nil {
		return nil
	}
	out := make([]render.Object, len(rel.Hooks))
	for i, h := range rel.Hooks {
		out[i] = h.Object
	}
	return out
}

// newRelease says whether rendered, of digest, is a release not applied
// yet: the hooks of a chart run then.
func newRelease(app *cruisev1.Application, rendered rendered, digest string) bool {
	if rendered.release == nil || len(rendered.release.Hooks) == 0 {
		return false
	}
	for _, h := range app.Status.History {
		if h.Result == "Succeeded" {
			return h.Digest != digest
		}
	}
	return true
}

func preEvent(upgrade bool) string {
	if upgrade {
		return helm.PreUpgrade
	}
	return helm.PreInstall
}

func postEvent(upgrade bool) string {
	if upgrade {
		return helm.PostUpgrade
	}
	return helm.PostInstall
}

// runHooks runs the release's hooks of event as the Application's
// identity; a failure names the hook. timeout bounds each hook's wait.
func (r *ApplicationReconciler) runHooks(ctx context.Context, app *cruisev1.Application, eng *apply.Engine, rendered rendered, event string, timeout time.Duration) error {
	runner := &hookrun.Runner{
		Client: eng.Client(), Namespace: pipeline.ReleaseNamespace(app), Release: pipeline.ReleaseName(app),
		FieldManager: r.FieldManager + "-hooks", Timeout: timeout,
	}
	results, err := runner.Run(ctx, event, rendered.release.Hooks)
	r.hooksRan(app, event, results)
	if err == nil {
		return nil
	}
	var he *hookrun.HookError
	if errors.As(err, &he) && (he.Reason == hookrun.ReasonTimeout || he.Reason == hookrun.ReasonAPI) {
		return transient(cruisev1.ReasonHookFailed, err)
	}
	return stalling(cruisev1.ReasonHookFailed, err)
}

// hooksRan records, in an event, the hooks of event that ran. The event
// name is the action: events of one reason and action are one series, so
// pre- and post- hooks need their own.
func (r *ApplicationReconciler) hooksRan(app *cruisev1.Application, event string, results []hookrun.Result) {
	if len(results) > 0 {
		r.Recorder.Eventf(app, nil, corev1.EventTypeNormal, "HooksRun", event, "%s hooks: %s", event, hookSummary(results))
	}
}

func hookSummary(results []hookrun.Result) string {
	parts := make([]string, 0, len(results))
	for _, res := range results {
		state := "created"
		if res.Succeeded {
			state = "succeeded"
		}
		parts = append(parts, res.Ref.String()+" "+state)
	}
	return strings.Join(parts, ", ")
}

// indexValuesFrom indexes Applications by the ConfigMaps and Secrets
// their spec.helm.valuesFrom reads: "ConfigMap/<ns>/<name>".
const indexValuesFrom = ".spec.helm.valuesFrom"

func valuesFromKeys(o client.Object) []string {
	app := o.(*cruisev1.Application)
	if app.Spec.Helm == nil {
		return nil
	}
	var keys []string
	for _, v := range app.Spec.Helm.ValuesFrom {
		keys = append(keys, v.Kind+"/"+app.Namespace+"/"+v.Name)
	}
	return keys
}

// valuesChangedFor returns the map function of a ConfigMap or Secret
// watch: the Applications reading it are marked for a sync (their Git
// revision did not change, so without the mark the sync would skip).
func (r *ApplicationReconciler) valuesChangedFor(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var list cruisev1.ApplicationList
		if err := r.Client.List(ctx, &list, client.MatchingFields{indexValuesFrom: kind + "/" + o.GetNamespace() + "/" + o.GetName()}); err != nil {
			return nil
		}
		reqs := requests(list.Items)
		for _, req := range reqs {
			r.valuesChanged.add(req.NamespacedName)
		}
		return reqs
	}
}

// keySet is a set of Applications, safe for concurrent use.
type keySet struct {
	mu sync.Mutex
	m  map[types.NamespacedName]bool
}

func (s *keySet) add(k types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[types.NamespacedName]bool{}
	}
	s.m[k] = true
}

// take reports whether k was in the set and removes it.
func (s *keySet) take(k types.NamespacedName) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.m[k]
	delete(s.m, k)
	return ok
}

// checkRelease refuses, before anything of a chart's release changes, a
// CRD update that drops a stored version, and, when pre-hooks are about
// to run (they change the cluster), a release the API server would refuse.
func (r *ApplicationReconciler) checkRelease(ctx context.Context, eng *apply.Engine, rendered rendered, opts apply.ApplyOptions, hooks bool) error {
	if rendered.release == nil {
		return nil
	}
	if err := helm.CheckStoredVersions(ctx, eng.Client(), rendered.release.CRDs); err != nil {
		return stalling(cruisev1.ReasonValidationFailed, err)
	}
	if !hooks {
		return nil
	}
	check := opts
	check.DryRun, check.Progress, check.Prune = true, nil, false
	if _, err := eng.Apply(ctx, rendered.Objects, check); err != nil {
		return classifyApplyError(err)
	}
	return nil
}

// releaseDelete is what deleting a chart's Application does around the
// prune: its post-delete hooks, then the removal of every hook object the
// release left behind (Helm leaves them; an Application that is gone
// should leave nothing).
type releaseDelete struct {
	runner *hookrun.Runner
	hooks  []helm.Hook
	ran    func(event string, results []hookrun.Result)
}

// after runs the post-delete hooks and removes the release's hooks. The
// zero releaseDelete does nothing.
func (d releaseDelete) after(ctx context.Context) error {
	if d.runner == nil {
		return nil
	}
	results, err := d.runner.Run(ctx, helm.PostDelete, d.hooks)
	d.ran(helm.PostDelete, results)
	if err != nil {
		return stalling(cruisev1.ReasonHookFailed, err)
	}
	if _, err := d.runner.Remove(ctx, d.hooks); err != nil {
		return transient(cruisev1.ReasonPruneFailed, fmt.Errorf("remove the release's hook objects: %w", err))
	}
	return nil
}

// deleteHooks renders the release of a chart's Application being deleted
// and runs its pre-delete hooks, as `helm uninstall` does; a failed one
// stops the deletion (the next attempt runs it again). When the release
// cannot be rendered any more (its source or chart is gone), no hook can
// run: that is said in a Warning event and the prune goes ahead.
func (r *ApplicationReconciler) deleteHooks(ctx context.Context, app *cruisev1.Application) (releaseDelete, error) {
	if app.Status.Chart == nil {
		return releaseDelete{}, nil
	}
	if sa := app.Spec.ServiceAccountName; sa != "" {
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: sa}, &corev1.ServiceAccount{})
		if apierrors.IsNotFound(err) {
			return releaseDelete{}, nil // pruneAll says the identity is gone
		}
	}
	res, err := r.renderForDelete(ctx, app)
	if err != nil {
		r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, cruisev1.ReasonHookFailed, "Delete",
			"delete hooks not run: the release cannot be rendered: %v", err)
		return releaseDelete{}, nil
	}
	if res.release == nil || len(res.release.Hooks) == 0 {
		return releaseDelete{}, nil
	}
	eng, err := r.engines.forServiceAccount(app.Namespace, app.Spec.ServiceAccountName)
	if err != nil {
		return releaseDelete{}, transient(cruisev1.ReasonPruneFailed, err)
	}
	d := releaseDelete{
		runner: &hookrun.Runner{
			Client: eng.Client(), Namespace: pipeline.ReleaseNamespace(app), Release: pipeline.ReleaseName(app),
			FieldManager: r.FieldManager + "-hooks", Timeout: pipeline.TargetOf(app).Timeout,
		},
		hooks: res.release.Hooks,
		ran: func(event string, results []hookrun.Result) {
			r.hooksRan(app, event, results)
		},
	}
	results, err := d.runner.Run(ctx, helm.PreDelete, d.hooks)
	d.ran(helm.PreDelete, results)
	if err != nil {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			// The identity cannot act any more: pruneAll says so and lets
			// the Application go; hooks cannot run either.
			r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, cruisev1.ReasonHookFailed, "Delete", "delete hooks not run: %v", err)
			return releaseDelete{}, nil
		}
		return releaseDelete{}, stalling(cruisev1.ReasonHookFailed, err)
	}
	return d, nil
}

// renderForDelete renders the release as the last sync would have.
func (r *ApplicationReconciler) renderForDelete(ctx context.Context, app *cruisev1.Application) (rendered, error) {
	repo, art, archive, err := r.sourceOf(ctx, app)
	if err != nil {
		return rendered{}, err
	}
	defer art.Release()
	return r.render(ctx, app, repo, art, archive, nil)
}
