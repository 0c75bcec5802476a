package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/render"
)

// ChartEnv is what rendering an Application's chart needs beyond the
// chart itself.
type ChartEnv struct {
	// Reader reads spec.helm.valuesFrom and the kept generated values, in
	// the Application's namespace.
	Reader client.Reader
	// Cluster gives .Capabilities.
	Cluster helm.Cluster
	// Lookup is the identity the chart's lookup calls read as: the
	// Application's ServiceAccount, impersonated.
	Lookup *rest.Config
	// Dependencies fetches the dependencies the chart names and does not
	// carry in charts/; nil fetches none (a missing one fails the render).
	Dependencies func(ctx context.Context, ch *chart.Chart) error
}

// ChartResult is an Application's rendered chart.
type ChartResult struct {
	// Result holds the objects cruise applies (the CRDs of crds/ first,
	// then the templates; hooks are not among them) and, for a chart in
	// Git, the repository files read.
	render.Result
	Release *helm.Release
	// Generated holds the generated values to keep (see helm.Generated);
	// store them when Generated.Changed().
	Generated *helm.Generated
}

// LoadGitChart loads the chart at app's spec.path of the checkout root,
// when there is one there (ok false otherwise).
func LoadGitChart(app *v1alpha1.Application, root string) (ch *chart.Chart, files []string, ok bool, err error) {
	if !helm.IsChartDir(filepath.Join(root, filepath.FromSlash(app.Spec.Path))) {
		return nil, nil, false, nil
	}
	ch, files, err = helm.LoadDir(root, app.Spec.Path, helm.Limits{})
	return ch, files, true, err
}

// RenderChart renders app's chart ch: loaded from the checkout root (a
// chart in Git, whose files files lists) or from a repository archive
// (root empty). upgrade says the release was applied before.
func RenderChart(ctx context.Context, app *v1alpha1.Application, root string, ch *chart.Chart, files []string, upgrade bool, env ChartEnv) (*ChartResult, error) {
	from, err := readValuesFrom(ctx, env.Reader, app)
	if err != nil {
		return nil, err
	}
	vals, valueFiles, err := ChartValues(app, root, app.Spec.Path, from)
	if err != nil {
		return nil, err
	}
	if env.Dependencies != nil {
		if err := env.Dependencies(ctx, ch); err != nil {
			return nil, err
		}
	}
	kept, err := helm.LoadGenerated(ctx, env.Reader, app.Namespace, helm.GeneratedSecretName(app.Name))
	if apierrors.IsForbidden(err) {
		// A reader who may not read Secrets (a user's diff) renders with
		// fresh generated values: they show as changes, masked like every
		// Secret value, rather than failing the whole diff.
		kept, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	gen := helm.NewGenerated(kept)
	rel, err := helm.Render(ctx, ch, helm.Options{
		ReleaseName: ReleaseName(app), Namespace: ReleaseNamespace(app),
		Values: vals.Map(), Upgrade: upgrade,
		KubeVersion: env.Cluster.KubeVersion, APIVersions: env.Cluster.APIVersions,
		Lookup: env.Lookup, Generated: gen,
	})
	if err != nil {
		return nil, err
	}
	all := append(append([]string{}, files...), valueFiles...)
	sort.Strings(all)
	return &ChartResult{
		Result:    render.Result{Objects: rel.AllObjects(), Files: dedupe(all)},
		Release:   rel,
		Generated: gen,
	}, nil
}

// readValuesFrom reads spec.helm.valuesFrom; a missing object or key
// gives nil Data (ChartValues decides whether that is an error).
func readValuesFrom(ctx context.Context, c client.Reader, app *v1alpha1.Application) ([]ValuesData, error) {
	if app.Spec.Helm == nil {
		return nil, nil
	}
	var out []ValuesData
	for _, ref := range app.Spec.Helm.ValuesFrom {
		key := client.ObjectKey{Namespace: app.Namespace, Name: ref.Name}
		var data []byte
		switch ref.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			err := c.Get(ctx, key, &cm)
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("read valuesFrom ConfigMap %s: %w", key, err)
			}
			if v, ok := cm.Data[ValuesKey(ref)]; ok {
				data = []byte(v)
			} else if b, ok := cm.BinaryData[ValuesKey(ref)]; ok {
				data = b
			}
		case "Secret":
			var s corev1.Secret
			err := c.Get(ctx, key, &s)
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("read valuesFrom Secret %s: %w", key, err)
			}
			data = s.Data[ValuesKey(ref)]
		default:
			return nil, fmt.Errorf("spec.helm.valuesFrom %s: kind %q is neither ConfigMap nor Secret", ref.Name, ref.Kind)
		}
		out = append(out, ValuesData{Ref: ref, Data: data})
	}
	return out, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
