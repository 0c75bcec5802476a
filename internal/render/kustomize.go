package render

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
)

// kustomizeOptions returns the krusty options render uses; see the package
// documentation for why each restriction is there.
func kustomizeOptions() *krusty.Options {
	o := krusty.MakeDefaultOptions()
	// Same order as `kustomize build`: legacy kind order unless the
	// kustomization sets sortOptions.
	o.Reorder = krusty.ReorderOptionUnspecified
	// kustomize's own RootOnly restriction confines file loads to each
	// kustomization's directory, which forbids the common
	// "patches: [../../common/patch.yaml]" while doing nothing for symlinks
	// or for bases. confinedFS draws the line at the repository instead.
	o.LoadRestrictions = types.LoadRestrictionsNone
	// Builtins only, statically linked: no exec or Go plugins, no KRM
	// functions in containers or as executables, no Helm.
	o.PluginConfig = types.MakePluginConfig(types.PluginRestrictionsBuiltinsOnly, types.BploUseStaticallyLinked)
	o.PluginConfig.FnpLoadingOptions = types.FnPluginLoadingOptions{}
	o.PluginConfig.HelmConfig = types.HelmConfig{Enabled: false}
	return o
}

// renderKustomize builds the kustomization file kfile (absolute) in the
// resolved directory dir.
func renderKustomize(c *confiner, dir, kfile string, allowRemote bool) ([]Object, error) {
	fsys := confinedFS{c: c}
	source := c.rel(kfile)
	if !allowRemote {
		if err := checkRemote(fsys, dir); err != nil {
			return nil, err
		}
	}

	m, err := runKrusty(fsys, dir)
	if v := c.firstViolation(); v != nil {
		return nil, v
	}
	if err != nil {
		return nil, kustomizeError(c, source, err)
	}

	var objs []Object
	for _, r := range m.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			return nil, &Error{File: source, Err: fmt.Errorf("%s: %w", r.CurId(), err)}
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			return nil, &Error{File: source, Kind: ErrInvalidManifest, Err: fmt.Errorf("%s: %w", r.CurId(), err)}
		}
		if err := checkName(u); err != nil {
			return nil, &Error{File: source, Kind: ErrInvalidManifest, Err: fmt.Errorf("%s %w", u.GetKind(), err)}
		}
		objs = append(objs, Object{Unstructured: u, Source: source})
	}
	c.sops.markSensitive(objs)
	return objs, nil
}

// runKrusty runs kustomize. kustomize is large and fed untrusted input; a
// panic in it must fail this render, not the controller.
func runKrusty(fsys confinedFS, dir string) (m resmap.ResMap, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return krusty.MakeKustomizer(kustomizeOptions()).Run(fsys, dir)
}

// kustomizeError makes a kustomize error fit the package's conventions:
// one line, paths relative to the root, and a sentinel where one applies.
func kustomizeError(c *confiner, source string, err error) error {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, c.root+string(filepath.Separator), "")
	msg = strings.ReplaceAll(msg, c.root, ".")
	msg = oneLine(msg)
	var kind error
	// kustomize flattens some errors with %v, so the message is checked
	// too. Helm counts as a plugin: it runs the helm binary and fetches
	// charts.
	if types.IsErrOnlyBuiltinPluginsAllowed(err) ||
		strings.Contains(msg, "external plugins disabled") ||
		strings.Contains(msg, "--enable-helm") {
		kind = ErrPluginRefused
	}
	return &Error{File: source, Kind: kind, Err: &cleanedError{msg: "kustomize build: " + msg, err: err}}
}
