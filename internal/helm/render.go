package helm

import (
	"context"
	"errors"
	"fmt"
	"path"

	"strings"

	"k8s.io/client-go/rest"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"

	"github.com/cruisegitops/cruise/internal/render"
)

// DefaultKubeVersion is the Kubernetes version a render without a cluster
// (cruise build) assumes, as `helm template --kube-version`.
const DefaultKubeVersion = "1.37"

// ErrRender: the chart's templates, values schema or kubeVersion refused
// the values, or rendered something that is not a manifest.
var ErrRender = errors.New("render failed")

// Options say how to render a chart.
type Options struct {
	// ReleaseName is .Release.Name; required.
	ReleaseName string
	// Namespace is .Release.Namespace; required.
	Namespace string
	// Values are the user's values (see Values); the chart's values.yaml
	// is coalesced under them.
	Values map[string]any
	// Upgrade makes .Release.IsUpgrade true (and IsInstall false): the
	// release was applied before under this name.
	Upgrade bool
	// Revision is .Release.Revision; zero means 1.
	Revision int
	// KubeVersion is .Capabilities.KubeVersion ("1.37", "v1.37.2"); empty
	// means DefaultKubeVersion.
	KubeVersion string
	// APIVersions, when not nil, is .Capabilities.APIVersions as the
	// cluster's discovery lists them ("apps/v1", "apps/v1/Deployment");
	// nil means Helm's built-in list, as `helm template` has.
	APIVersions []string
	// Lookup is the identity lookup reads the cluster as; nil makes lookup
	// find nothing, as in `helm template`.
	Lookup *rest.Config
	// Generated keeps generated values from one render to the next; nil
	// generates afresh.
	Generated *Generated
}

// Release is a rendered chart.
type Release struct {
	// Name, Version and AppVersion are the chart's.
	Name, Version, AppVersion string
	// CRDs are the objects of the chart's crds/ directories (subcharts'
	// too), in Helm's order, each with Source "<chart>/crds/<file>".
	CRDs []render.Object
	// Objects are the rendered templates that are not hooks, in Helm's
	// install order, each with Source "<chart>/templates/<file>".
	Objects []render.Object
	// Hooks are the objects marked helm.sh/hook, in Helm's order.
	Hooks []Hook
	// Notes is the rendered NOTES.txt of the chart itself.
	Notes string
}

// Render renders ch with opts. ch is changed (Helm drops disabled
// dependencies from it): load it afresh for each render.
func Render(ctx context.Context, ch *chart.Chart, opts Options) (*Release, error) {
	if opts.ReleaseName == "" || opts.Namespace == "" {
		return nil, errors.New("helm render: release name and namespace are required")
	}
	caps, err := capabilities(opts)
	if err != nil {
		return nil, err
	}
	name := ch.Name()
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s requires kubeVersion %s, which Kubernetes %s is not: %w", name, ch.Metadata.KubeVersion, caps.KubeVersion.Version, ErrRender)
	}
	vals := opts.Values
	if vals == nil {
		vals = map[string]any{}
	}
	if err := checkSchemas(ch); err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %w: %w", name, ErrRender, err)
	}
	revision := opts.Revision
	if revision == 0 {
		revision = 1
	}
	top, err := util.ToRenderValuesWithSchemaValidation(ch, vals, common.ReleaseOptions{
		Name: opts.ReleaseName, Namespace: opts.Namespace, Revision: revision,
		IsInstall: !opts.Upgrade, IsUpgrade: opts.Upgrade,
	}, caps, false)
	if err != nil {
		return nil, fmt.Errorf("chart %s: values: %w: %s", name, ErrRender, oneLine(err))
	}

	var eng engine.Engine
	if opts.Lookup != nil {
		eng = engine.New(opts.Lookup)
	}
	gen := opts.Generated
	if gen == nil {
		gen = NewGenerated(nil)
	}
	if eng.CustomTemplateFuncs, err = gen.funcs(); err != nil {
		return nil, err
	}
	files, err := eng.RenderWithContext(ctx, ch, top)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrRender, oneLine(err))
	}
	rel := &Release{Name: name, Version: ch.Metadata.Version, AppVersion: ch.Metadata.AppVersion}
	for file, content := range files {
		if strings.HasSuffix(file, "NOTES.txt") {
			if file == path.Join(name, "templates", "NOTES.txt") {
				rel.Notes = content
			}
			delete(files, file)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w: %s", name, ErrRender, oneLine(err))
	}
	for _, crd := range ch.CRDObjects() {
		objs, err := render.Decode(crd.Filename, crd.File.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRender, err)
		}
		rel.CRDs = append(rel.CRDs, objs...)
	}
	for _, m := range manifests {
		// Helm's sorter trims each document; `helm template` prints it
		// with a newline after, which a block scalar at its end keeps.
		objs, err := render.Decode(m.Name, []byte(m.Content+"\n"))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRender, err)
		}
		rel.Objects = append(rel.Objects, objs...)
	}
	for _, h := range hooks {
		objs, err := render.Decode(h.Path, []byte(h.Manifest+"\n"))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRender, err)
		}
		for _, o := range objs {
			hook := Hook{Object: o, Weight: h.Weight}
			for _, e := range h.Events {
				hook.Events = append(hook.Events, string(e))
			}
			for _, p := range h.DeletePolicies {
				hook.DeletePolicies = append(hook.DeletePolicies, string(p))
			}
			rel.Hooks = append(rel.Hooks, hook)
		}
	}
	return rel, nil
}

func capabilities(opts Options) (*common.Capabilities, error) {
	caps := common.DefaultCapabilities.Copy()
	kv := opts.KubeVersion
	if kv == "" {
		kv = DefaultKubeVersion
	}
	v, err := common.ParseKubeVersion(kv)
	if err != nil {
		return nil, fmt.Errorf("kube version %q: %w", kv, err)
	}
	caps.KubeVersion = *v
	if opts.APIVersions != nil {
		caps.APIVersions = common.VersionSet(opts.APIVersions)
	}
	return caps, nil
}

// oneLine keeps a multi-line error from Helm on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// AllObjects returns every object of the release cruise applies as ordinary
// objects: the CRDs first, then the templates.
func (r *Release) AllObjects() []render.Object {
	out := make([]render.Object, 0, len(r.CRDs)+len(r.Objects))
	out = append(out, r.CRDs...)
	return append(out, r.Objects...)
}

// BuildObjects is everything `helm template --include-crds` prints, in
// its order: the CRDs, the templates, then the hooks (which keep their
// helm.sh/hook annotations).
func (r *Release) BuildObjects() []render.Object {
	out := r.AllObjects()
	for _, h := range r.Hooks {
		out = append(out, h.Object)
	}
	return out
}
