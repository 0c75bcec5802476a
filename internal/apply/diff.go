package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/internal/render"
)

// Diff compares objs (and, with Prune, the inventory) with the cluster
// without changing anything. Objects come back in apply order, then the
// ones that would be pruned. An object the API server would reject is an
// error, as it would be for Apply.
func (e *Engine) Diff(ctx context.Context, objs []render.Object, opts DiffOptions) ([]ObjectDiff, error) {
	if opts.Prune && opts.Inventory == nil {
		return nil, errors.New("prune needs an inventory")
	}
	items, err := e.prepare(ctx, objs, opts.Owner, opts.Namespaces)
	if err != nil {
		return nil, err
	}
	if err := e.fetchLive(ctx, items, opts.Owner); err != nil {
		return nil, err
	}
	now, later := splitByDefinition(items)
	// Immutable-field changes count as drift here: force decides only how
	// Apply resolves them.
	if err := e.plan(ctx, now, true); err != nil {
		return nil, err
	}
	for _, it := range later {
		it.action, it.dryRun = Created, it.obj
	}

	out := make([]ObjectDiff, 0, len(items))
	for _, it := range items {
		d := ObjectDiff{Ref: it.ref, Source: it.source, Action: it.action}
		switch it.action {
		case Created:
			d.Diff, err = unifiedDiff(it.ref, nil, it.dryRun, it.sensitive)
		case Configured, Recreated:
			d.Action = Configured
			d.Diff, err = unifiedDiff(it.ref, it.live, it.dryRun, it.sensitive)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if opts.Prune {
		recorded, err := opts.Inventory.Load(ctx)
		if err != nil {
			return nil, err
		}
		pruned, _, err := e.prune(ctx, recorded, items, opts.Owner, true, func(Event) {})
		if err != nil {
			return nil, err
		}
		for _, ch := range pruned {
			if ch.Action == Pruned {
				out = append(out, ObjectDiff{Ref: ch.Ref, Action: Pruned, Diff: "(would be deleted: no longer in Git)\n"})
			}
		}
	}
	return out, nil
}

// unifiedDiff renders live (nil when missing) and desired as YAML, with
// bookkeeping removed, Secret values masked and every value of a
// sensitive object (one holding values decrypted from SOPS) masked, and
// diffs them.
func unifiedDiff(ref ObjRef, live, desired *unstructured.Unstructured, sensitive bool) (string, error) {
	var liveObj, desiredObj map[string]any
	if live != nil {
		liveObj = forDisplay(live)
	}
	if desired != nil {
		desiredObj = forDisplay(desired)
	}
	switch {
	case sensitive:
		liveObj, desiredObj = maskSensitive(liveObj, desiredObj)
	case ref.Kind == "Secret" && ref.Group == "":
		maskSecret(liveObj, desiredObj)
	}
	a, err := toYAML(liveObj)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	b, err := toYAML(desiredObj)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(a),
		B:        difflib.SplitLines(b),
		FromFile: "live/" + ref.String(),
		ToFile:   "git/" + ref.String(),
		Context:  3,
	})
}

func toYAML(obj map[string]any) (string, error) {
	if obj == nil {
		return "", nil
	}
	data, err := yaml.Marshal(obj)
	return string(data), err
}

// forDisplay drops what the server keeps for itself, the status, and the
// client-side apply annotation (which holds a copy of the whole object,
// Secret values included).
func forDisplay(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration")
	if len(c.GetAnnotations()) == 0 {
		unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
	}
	unstructured.RemoveNestedField(c.Object, "status")
	return c.Object
}

// maskSecret replaces Secret values so that the diff shows which keys
// were added, removed or changed, never what they hold.
func maskSecret(live, desired map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		lv, _ := live[field].(map[string]any)
		dv, _ := desired[field].(map[string]any)
		for k, v := range lv {
			if other, ok := dv[k]; ok && fmt.Sprint(other) != fmt.Sprint(v) {
				lv[k], dv[k] = "*** (before)", "*** (after)"
				continue
			}
			lv[k] = "***"
		}
		for k := range dv {
			if s, _ := dv[k].(string); s != "*** (after)" {
				dv[k] = "***"
			}
		}
	}
}
