package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
)

// hookReport is one hook run in `cruise apply -o json`.
type hookReport struct {
	Ref       apply.ObjRef `json:"ref"`
	Event     string       `json:"event"`
	Source    string       `json:"source,omitempty"`
	Succeeded bool         `json:"succeeded"`
	Deleted   bool         `json:"deleted,omitempty"`
	Message   string       `json:"message,omitempty"`
}

// chartReport names the chart of `cruise apply -o json` and `diff -o json`.
type chartReport struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion,omitempty"`
	Release     string `json:"release"`
	Namespace   string `json:"namespace"`
	Upgrade     bool   `json:"upgrade"`
	KubeVersion string `json:"kubeVersion,omitempty"`
}

func reportChart(r *chartRelease) *chartReport {
	if r == nil {
		return nil
	}
	return &chartReport{
		Name: r.Name, Version: r.Version, AppVersion: r.AppVersion,
		Release: r.ReleaseName, Namespace: r.Namespace, Upgrade: r.Env.Upgrade, KubeVersion: r.Env.KubeVersion,
	}
}

// applyRelease applies a rendered chart as phases around the engine's
// apply: the CRD check, the pre-install or pre-upgrade hooks, the release's
// objects (CRDs first), then, once applied (and healthy with --wait), the
// post hooks. The generated values are kept just before the first change.
// A dry run runs no hook and keeps nothing.
func (o *ApplyOptions) applyRelease(ctx context.Context, c *cluster, src *rendered, opts apply.ApplyOptions, p *applyPrinter) (*apply.Result, error) {
	rel := src.Chart
	if err := helm.CheckStoredVersions(ctx, c.engine.Client(), rel.CRDs); err != nil {
		return nil, err
	}
	if o.DryRun {
		return c.engine.Apply(ctx, src.Objects, opts)
	}
	keep := c.newKeepGenerated(rel)
	if opts.Inventory != nil {
		opts.Inventory = keepingInventory{Inventory: opts.Inventory, keep: keep}
	}
	pre, post := helm.PreUpgrade, helm.PostUpgrade
	if !rel.Env.Upgrade {
		pre, post = helm.PreInstall, helm.PostInstall
	}
	runner := &hookrun.Runner{
		Client:    c.engine.Client(),
		Namespace: rel.Namespace,
		Release:   rel.ReleaseName,
		Timeout:   o.Timeout,
		Progress:  p.hookStep,
	}
	if hasHooks(rel.Hooks, pre) {
		// A pre-hook changes the cluster: validate the release first, so
		// that a release the API server refuses runs no hook.
		check := opts
		check.DryRun, check.Progress, check.Prune = true, nil, false
		if _, err := c.engine.Apply(ctx, src.Objects, check); err != nil {
			return nil, err
		}
		if err := keep.keep(ctx); err != nil {
			return nil, err
		}
		if err := p.runHooks(ctx, runner, pre, rel.Hooks); err != nil {
			return nil, fmt.Errorf("nothing of release %s was applied: %w", rel.ReleaseName, err)
		}
	}
	res, err := c.engine.Apply(ctx, src.Objects, opts)
	if err != nil {
		return res, err
	}
	if err := keep.keep(ctx); err != nil {
		return res, err
	}
	if hasHooks(rel.Hooks, post) {
		if err := p.runHooks(ctx, runner, post, rel.Hooks); err != nil {
			return res, fmt.Errorf("release %s was applied, but: %w", rel.ReleaseName, err)
		}
	}
	return res, nil
}

func hasHooks(hooks []helm.Hook, event string) bool {
	for _, h := range hooks {
		if h.Has(event) {
			return true
		}
	}
	return false
}

// runHooks runs the hooks of event and records them for the report.
func (p *applyPrinter) runHooks(ctx context.Context, r *hookrun.Runner, event string, hooks []helm.Hook) error {
	results, err := r.Run(ctx, event, hooks)
	for _, h := range results {
		p.hooks = append(p.hooks, hookReport{Ref: h.Ref, Event: h.Event, Source: h.Source, Succeeded: h.Succeeded, Deleted: h.Deleted, Message: h.Message})
	}
	var he *hookrun.HookError
	if err != nil && !errors.As(err, &he) {
		return fmt.Errorf("%s hooks: %w", event, err)
	}
	return err
}

// hookStep prints a hook's progress in text output:
// "Job/ns/web-migrate pre-install hook succeeded (1 of 1 completions)".
func (p *applyPrinter) hookStep(s hookrun.Step) {
	if p.opts.Output != outputText {
		return
	}
	line := fmt.Sprintf("%s %s hook %s", s.Ref, s.Event, s.Action)
	if s.Message != "" {
		line += " (" + s.Message + ")"
	}
	p.line(line)
}
