package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/chartrepo"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// sourceOf finds what app deploys from: its GitRepository and checkout,
// or for spec.chart the repository chart's archive (repo nil) with the
// artifact that stands for it.
func (r *ApplicationReconciler) sourceOf(ctx context.Context, app *cruisev1.Application) (*cruisev1.GitRepository, *gitsource.Artifact, *chartrepo.Archive, error) {
	if app.Spec.Chart != nil {
		art, archive, err := r.chartSource(ctx, app)
		return nil, art, archive, err
	}
	repo, art, err := r.source(ctx, app)
	return repo, art, nil, err
}

// chartSource resolves spec.chart's version in its repository and fetches
// the archive. The artifact it returns stands for the chart where the
// sync expects a checkout: its revision is "<version>@sha256:<digest>",
// which is also what sameRevision compares (see revisionKey).
func (r *ApplicationReconciler) chartSource(ctx context.Context, app *cruisev1.Application) (*gitsource.Artifact, *chartrepo.Archive, error) {
	spec := app.Spec.Chart
	auth, err := r.chartAuth(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	auth.PlainHTTP = spec.PlainHTTP
	archive, err := r.Charts.Fetch(ctx, chartrepo.Request{RepoURL: spec.RepoURL, Chart: spec.Name, Version: spec.Version, Auth: auth})
	switch {
	case errors.Is(err, chartrepo.ErrNotFound), errors.Is(err, chartrepo.ErrInvalid):
		// Retried on the backoff: the version may be published later.
		return nil, nil, transient(cruisev1.ReasonSourceNotFound, err)
	case err != nil:
		return nil, nil, transient(cruisev1.ReasonSourceNotReady, err)
	}
	art := &gitsource.Artifact{
		URL:      spec.RepoURL,
		Revision: archive.Revision(),
		Commit:   archive.Revision(),
		Message:  fmt.Sprintf("chart %s %s", archive.Name, archive.Version),
	}
	return art, archive, nil
}

// chartAuth reads spec.chart.secretRef.
func (r *ApplicationReconciler) chartAuth(ctx context.Context, app *cruisev1.Application) (chartrepo.Auth, error) {
	ref := app.Spec.Chart.SecretRef
	if ref == nil {
		return chartrepo.Auth{}, nil
	}
	key := client.ObjectKey{Namespace: app.Namespace, Name: ref.Name}
	var s corev1.Secret
	if err := r.APIReader.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return chartrepo.Auth{}, stalling(cruisev1.ReasonSourceNotReady, fmt.Errorf("spec.chart.secretRef: Secret %s not found", key))
		}
		return chartrepo.Auth{}, transient(cruisev1.ReasonSourceNotReady, fmt.Errorf("read Secret %s: %w", key, err))
	}
	auth, err := chartrepo.AuthFromSecret(s.Data)
	if err != nil {
		return chartrepo.Auth{}, stalling(cruisev1.ReasonSourceNotReady, fmt.Errorf("spec.chart.secretRef: Secret %s: %w", key, err))
	}
	return auth, nil
}

// chartCredentials gives the credentials for a dependency's repository:
// spec.chart's Secret for a repository on the same host as spec.chart's
// (a dependency in the same registry), none for any other, so that
// credentials never reach a host the Application did not name.
func (r *ApplicationReconciler) chartCredentials(ctx context.Context, app *cruisev1.Application) func(string) (chartrepo.Auth, error) {
	return func(repoURL string) (chartrepo.Auth, error) {
		spec := app.Spec.Chart
		if spec == nil || spec.SecretRef == nil || host(repoURL) != host(spec.RepoURL) {
			return chartrepo.Auth{}, nil
		}
		auth, err := r.chartAuth(ctx, app)
		auth.PlainHTTP = spec.PlainHTTP
		return auth, err
	}
}

func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// revisionKey is what identifies a revision for sameRevision: a Git
// commit, or a chart's whole "<version>@sha256:<digest>".
func revisionKey(revision string) string {
	if c := gitsource.RevisionCommit(revision); c != "" {
		return c
	}
	return revision
}
