package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/helm"
)

// DefaultValuesKey is the key of a valuesFrom ConfigMap or Secret read
// when the reference names none.
const DefaultValuesKey = "values.yaml"

// IsChart says whether app deploys a Helm chart: from a repository
// (spec.chart), or from a directory of its GitRepository that holds
// Chart.yaml (dir is the checkout; empty when not checked out).
func IsChart(app *v1alpha1.Application, dir string) bool {
	if app.Spec.Chart != nil {
		return true
	}
	return dir != "" && helm.IsChartDir(filepath.Join(dir, filepath.FromSlash(app.Spec.Path)))
}

// ReleaseName is the Helm release name of app: spec.helm.releaseName, by
// default the Application's name.
func ReleaseName(app *v1alpha1.Application) string {
	if app.Spec.Helm != nil && app.Spec.Helm.ReleaseName != "" {
		return app.Spec.Helm.ReleaseName
	}
	return app.Name
}

// ReleaseNamespace is the release namespace of app: spec.targetNamespace,
// by default the Application's namespace.
func ReleaseNamespace(app *v1alpha1.Application) string {
	if app.Spec.TargetNamespace != "" {
		return app.Spec.TargetNamespace
	}
	return app.Namespace
}

// ValuesData is one spec.helm.valuesFrom entry as read from the cluster:
// Data is the key's content, nil when the object or key does not exist.
type ValuesData struct {
	Ref  v1alpha1.ValuesReference
	Data []byte
}

// ChartValues layers app's values in the pinned order: spec.helm.valuesFiles
// (read from chartDir, the chart's directory in the checkout root; none for
// a repository chart), then valuesFrom (from), then spec.helm.values. The
// chart's own values.yaml goes under all of them at render. It returns the
// repository-relative paths of the values files read.
func ChartValues(app *v1alpha1.Application, root, chartDir string, from []ValuesData) (*helm.Values, []string, error) {
	vals := &helm.Values{}
	hs := app.Spec.Helm
	if hs == nil {
		return vals, nil, nil
	}
	var files []string
	for _, f := range hs.ValuesFiles {
		if app.Spec.Chart != nil {
			return nil, nil, fmt.Errorf("spec.helm.valuesFiles %s: a chart from a repository has no files of its own to read; use valuesFrom or values", f)
		}
		rel, data, err := readValuesFile(root, chartDir, f)
		if err != nil {
			return nil, nil, err
		}
		if err := vals.AddFile(rel, data); err != nil {
			return nil, nil, err
		}
		files = append(files, rel)
	}
	for _, v := range from {
		name := fmt.Sprintf("%s %s key %s", v.Ref.Kind, v.Ref.Name, valuesKey(v.Ref))
		if v.Data == nil {
			if v.Ref.Optional {
				continue
			}
			return nil, nil, fmt.Errorf("spec.helm.valuesFrom: %s: not found", name)
		}
		if err := vals.AddFile(name, v.Data); err != nil {
			return nil, nil, err
		}
	}
	if hs.Values != nil && len(hs.Values.Raw) > 0 {
		if err := vals.AddFile("spec.helm.values", hs.Values.Raw); err != nil {
			return nil, nil, err
		}
	}
	return vals, files, nil
}

func valuesKey(r v1alpha1.ValuesReference) string {
	if r.Key == "" {
		return DefaultValuesKey
	}
	return r.Key
}

// ValuesKey is the key a valuesFrom reference reads.
func ValuesKey(r v1alpha1.ValuesReference) string { return valuesKey(r) }

// readValuesFile reads the values file f relative to chartDir, refusing
// any path, or symlink, that leaves the chart directory.
func readValuesFile(root, chartDir, f string) (string, []byte, error) {
	clean := path.Clean(filepath.ToSlash(f))
	if f == "" || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", nil, fmt.Errorf("spec.helm.valuesFiles %q: %w", f, errEscape)
	}
	rel := path.Join(chartDir, clean)
	base, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(chartDir)))
	if err != nil {
		return "", nil, fmt.Errorf("chart directory %s: %w", chartDir, err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", nil, fmt.Errorf("values file %s: %w", rel, unwrapPath(err))
	}
	if real != base && !strings.HasPrefix(real, base+string(filepath.Separator)) {
		return "", nil, fmt.Errorf("values file %s: %w", rel, errEscape)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", nil, fmt.Errorf("values file %s: %w", rel, unwrapPath(err))
	}
	if !st.Mode().IsRegular() {
		return "", nil, fmt.Errorf("values file %s: not a regular file", rel)
	}
	if st.Size() > helm.DefaultMaxFileBytes {
		return "", nil, fmt.Errorf("values file %s: %w: larger than %d bytes", rel, helm.ErrTooLarge, helm.DefaultMaxFileBytes)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return "", nil, fmt.Errorf("values file %s: %w", rel, unwrapPath(err))
	}
	return rel, data, nil
}

var errEscape = fmt.Errorf("leaves the chart directory: %w", helm.ErrPathEscape)

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
