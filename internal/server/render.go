package server

import (
	"context"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/pipeline"
	"github.com/cruisegitops/cruise/internal/render"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/internal/source"
)

// renderApp renders app as a sync would now, reading as the user: the
// source's current revision (a Git checkout or a repository chart), the
// values, and for a chart the kept generated values, so the diff shows
// only what a sync would change. It returns the objects and the revision.
func (s *Server) renderApp(ctx context.Context, id Identity, c client.Client, app *v1alpha1.Application) ([]render.Object, string, error) {
	if app.Spec.Chart != nil {
		return s.renderRepoChart(ctx, id, c, app)
	}
	repo := &v1alpha1.GitRepository{}
	srcKey := client.ObjectKey{Namespace: app.SourceNamespace(), Name: app.Spec.SourceRef.Name}
	if err := c.Get(ctx, srcKey, repo); err != nil {
		return nil, "", fromKube(err, "source "+srcKey.String())
	}
	var auth *source.Auth
	if ref := repo.Spec.SecretRef; ref != nil {
		secret := &corev1.Secret{}
		key := client.ObjectKey{Namespace: repo.Namespace, Name: ref.Name}
		if err := c.Get(ctx, key, secret); err != nil {
			return nil, "", fromKube(err, "credentials Secret "+key.String())
		}
		auth = source.AuthFromData(secret.Data)
	}
	art, err := s.fetcher.Fetch(ctx, pipeline.SourceRequest(repo, auth))
	if err != nil {
		return nil, "", newError(http.StatusBadGateway, apiv1.CodeUnavailable, "fetch %s: %v", srcKey, err)
	}
	defer art.Release()
	ch, files, isChart, err := pipeline.LoadGitChart(app, art.Dir)
	if isChart {
		if err != nil {
			return nil, "", newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "load chart %s at %s: %v", app.Spec.Path, art.Revision, err)
		}
		objs, err := s.renderChart(ctx, id, c, app, art.Dir, ch, files)
		return objs, art.Revision, err
	}
	dec, err := s.decryption(ctx, c, app)
	if err != nil {
		return nil, "", err
	}
	rendered, err := pipeline.Render(ctx, app, repo, art.Dir, dec)
	if err != nil {
		return nil, "", newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "render %s at %s: %v", app.Spec.Path, art.Revision, err)
	}
	return rendered.Objects, art.Revision, nil
}

func (s *Server) renderRepoChart(ctx context.Context, id Identity, c client.Client, app *v1alpha1.Application) ([]render.Object, string, error) {
	spec := app.Spec.Chart
	var auth chartrepo.Auth
	if ref := spec.SecretRef; ref != nil {
		secret := &corev1.Secret{}
		key := client.ObjectKey{Namespace: app.Namespace, Name: ref.Name}
		if err := c.Get(ctx, key, secret); err != nil {
			return nil, "", fromKube(err, "chart credentials Secret "+key.String())
		}
		a, err := chartrepo.AuthFromSecret(secret.Data)
		if err != nil {
			return nil, "", newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "chart credentials Secret %s: %v", key, err)
		}
		auth = a
	}
	auth.PlainHTTP = spec.PlainHTTP
	archive, err := s.charts.Fetch(ctx, chartrepo.Request{RepoURL: spec.RepoURL, Chart: spec.Name, Version: spec.Version, Auth: auth})
	if err != nil {
		return nil, "", newError(http.StatusBadGateway, apiv1.CodeUnavailable, "fetch chart: %v", err)
	}
	ch, err := helm.LoadArchive(spec.RepoURL, archive.Data)
	if err != nil {
		return nil, "", newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "%v", err)
	}
	objs, err := s.renderChart(ctx, id, c, app, "", ch, nil)
	return objs, archive.Revision(), err
}

// renderChart renders a loaded chart as the user. Dependencies come from
// anonymous repositories only: the diff must not send the Application's
// credentials anywhere the sync would not.
func (s *Server) renderChart(ctx context.Context, id Identity, c client.Client, app *v1alpha1.Application, root string, ch *chart.Chart, files []string) ([]render.Object, error) {
	cfg := s.kube.configFor(id)
	cluster, err := s.capabilities.Get()
	if err != nil {
		return nil, newError(http.StatusBadGateway, apiv1.CodeUnavailable, "%v", err)
	}
	env := pipeline.ChartEnv{
		Reader: c, Cluster: cluster, Lookup: cfg,
		Dependencies: func(ctx context.Context, ch *chart.Chart) error {
			return s.charts.FetchDependencies(ctx, ch, nil)
		},
	}
	installed := app.Status.LastAppliedRevision != "" || len(app.Status.Inventory) > 0
	res, err := pipeline.RenderChart(ctx, app, root, ch, files, installed, env)
	if err != nil {
		return nil, newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "render chart %s: %v", ch.Name(), err)
	}
	return res.Objects, nil
}
