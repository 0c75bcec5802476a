package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/internal/apply"
)

// ApplyOptions configures `cruise apply`.
type ApplyOptions struct {
	// Source says what to render.
	Source SourceOptions
	// Cluster says where it goes and under which inventory name.
	Cluster ClusterOptions
	// Decryption holds the keys that decrypt SOPS-encrypted manifests.
	Decryption DecryptionOptions
	// Prune deletes objects of the previous apply that left the source.
	Prune bool
	// Wait waits up to Timeout for every object to become Current.
	Wait bool
	// Timeout bounds Wait; default 5m.
	Timeout time.Duration
	// DryRun sends everything with dryRun=All: nothing changes.
	DryRun bool
	// Force recreates objects whose immutable fields changed.
	Force bool
	// Output is text (default) or json.
	Output outputFormat
}

func newApplyCommand() *cobra.Command {
	opts := &ApplyOptions{
		Source:  defaultSourceOptions(),
		Cluster: defaultClusterOptions(),
		Timeout: 5 * time.Minute,
		Output:  outputText,
	}
	cmd := &cobra.Command{
		Use:   "apply (--source SRC [--ref REF] [--path P] | --chart CHART [--repo URL] [--version V]) --name NAME [flags]",
		Short: "Make a cluster match a source (server-side apply, prune, wait)",
		Long: `Render a source (see ` + "`cruise build --help`" + `) and make the cluster match it
with server-side apply. Every object is first validated by the API server in a
dry run; if one is invalid or its kind unknown, nothing is changed.

What was applied is recorded under --name in the ConfigMap
cruise-inventory-NAME in --inventory-namespace. With --prune, objects recorded
by an earlier apply that are no longer in the source are deleted.

--namespace is the namespace of namespaced objects that name none (as kubectl
-n); --target-namespace moves every namespaced object into one namespace.

SOPS-encrypted files (what the sops CLI writes with age recipients, as Flux
uses them) are decrypted with the keys of --age-identity FILE (repeatable)
and --decryption-secret NAME or NAMESPACE/NAME (a Secret whose *.agekey data
keys hold age identities, as an Application's spec.decryption names; NAME is
in the -n namespace); without keys such a file is an error, never applied as
ciphertext. Decrypted values never appear in the output.

Helm charts (from Git with --path, or --chart from a repository; see
` + "`cruise build --help`" + ` for the chart, values and credential flags) go through
the same engine. The release is named --release-name (default --name) in
--target-namespace if set, else --namespace; templates see the cluster's
Kubernetes version and API versions, .Release.Service "Helm", and
.Release.IsInstall on the first apply under --name (no inventory yet),
.Release.IsUpgrade after; lookup reads the cluster as this command's
identity. Values that functions such as randAlphaNum and genCA generate are
kept in the Secret cruise-helm-NAME beside the inventory, so unchanged inputs
change nothing. The chart's crds/ are applied first and updated, except a
change that drops a version the live CRD lists in status.storedVersions,
which is refused (exit 2) before anything changes. Hooks are never ordinary
objects (not recorded, diffed or pruned): pre-install hooks (first apply) or
pre-upgrade hooks run before anything of the release is applied, after the
release validated; post-install or post-upgrade hooks after it is applied
(and, with --wait, healthy); test hooks never. Jobs are waited for, in
hook-weight order, with their delete policies; --timeout bounds each hook.
A failed pre-hook leaves the release unapplied. Render errors (template,
required value, values.schema.json, values file) exit 2 naming the template
file and line, the value or the file; nothing is applied or pruned.

Output: one line per object ("Deployment/ns/web created", "configured",
"unchanged", "pruned") and a summary. With --wait, the objects' health is
shown while waiting: redrawn in place on a terminal, one line per change
otherwise. -o json prints one JSON document at the end instead:
{"source", "revision", "chart", "dryRun", "changes": [...], "hooks": [...],
"health": [...], "error"}. For a chart from a repository "revision" is
"<chart version>@sha256:<archive digest>", for a chart in Git the Git
revision; "chart" names the chart, its version, the release and namespace.

Exit codes:
  0  applied (and, with --wait, every object Current)
  1  applied, but not every object became Current within --timeout;
     the objects that did not are listed with their status and reason
  2  error: bad flags, source, manifests, chart or values, rejected or
     unknown objects, a failed hook, or an unreachable cluster or chart
     repository (on validation and render errors nothing was changed)`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runApply(cmd.Context(), cmd.OutOrStdout(), opts) },
	}
	cmd.SetFlagErrorFunc(flagError)
	fs := cmd.Flags()
	opts.Source.addFlags(fs)
	opts.Cluster.addFlags(fs)
	opts.Decryption.addFlags(fs)
	fs.BoolVar(&opts.Prune, "prune", opts.Prune, "delete objects of the previous apply under --name that are no longer in the source")
	fs.BoolVar(&opts.Wait, "wait", opts.Wait, "wait for every applied object to become healthy (Current)")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long --wait waits, and how long each chart hook may take")
	fs.BoolVar(&opts.DryRun, "dry-run", opts.DryRun, "show what would change without changing anything")
	fs.BoolVar(&opts.Force, "force", opts.Force, "delete and recreate objects whose immutable fields changed")
	fs.VarP(&opts.Output, "output", "o", "output format: text or json")
	return cmd
}

func (o *ApplyOptions) validate() error {
	if err := o.Cluster.validate(); err != nil {
		return err
	}
	if err := o.Decryption.validate(); err != nil {
		return err
	}
	if o.Wait && o.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %s: must be positive", o.Timeout)
	}
	return nil
}

// applyReport is the JSON document of `cruise apply -o json`.
type applyReport struct {
	Source   string         `json:"source"`
	Revision string         `json:"revision,omitempty"`
	Chart    *chartReport   `json:"chart,omitempty"`
	DryRun   bool           `json:"dryRun,omitempty"`
	Changes  []apply.Change `json:"changes"`
	Hooks    []hookReport   `json:"hooks,omitempty"`
	Health   []apply.Health `json:"health,omitempty"`
	Error    string         `json:"error,omitempty"`
}

func runApply(ctx context.Context, out io.Writer, o *ApplyOptions) error {
	if err := o.validate(); err != nil {
		return fail(2, err)
	}
	p := newApplyPrinter(out, o)
	revision, res, err := o.run(ctx, p)
	code := 0
	switch {
	case errors.Is(err, apply.ErrUnhealthy):
		code = 1
	case err != nil:
		code = 2
	}
	if perr := p.finish(revision, res, err, code); perr != nil && err == nil {
		return fail(2, perr)
	}
	if err != nil {
		return fail(code, err)
	}
	return nil
}

// run renders the source and applies it; the revision is set once the
// source is fetched.
func (o *ApplyOptions) run(ctx context.Context, p *applyPrinter) (string, *apply.Result, error) {
	c, err := o.Cluster.connect()
	if err != nil {
		return "", nil, err
	}
	dec, err := o.Decryption.load(ctx, c)
	if err != nil {
		return "", nil, err
	}
	src, err := o.Source.load(ctx, dec, c.chartEnv())
	if err != nil {
		return "", nil, decryptionHint(err, dec, "use --age-identity or --decryption-secret")
	}
	p.chart = reportChart(src.Chart)
	t := c.target()
	// A dry run creates nothing that could become healthy.
	t.Prune, t.Force, t.Wait, t.Timeout = o.Prune, o.Force, o.Wait && !o.DryRun, o.Timeout
	opts := t.ApplyOptions(c.inventory)
	opts.DryRun = o.DryRun
	if o.Output == outputText {
		opts.Progress = p.progress
	}
	if src.Chart != nil {
		res, err := o.applyRelease(ctx, c, src, opts, p)
		return src.Revision, res, err
	}
	res, err := c.engine.Apply(ctx, src.Objects, opts)
	return src.Revision, res, err
}

// applyPrinter shows the progress and the outcome of an apply.
type applyPrinter struct {
	w    io.Writer
	opts *ApplyOptions
	// live redraws the health while waiting; nil when w is no terminal.
	live *liveStatus
	// printed holds the changes already shown by progress events.
	printed map[string]bool
	// chart and hooks are the chart applied and its hooks run, if any.
	chart *chartReport
	hooks []hookReport
}

func newApplyPrinter(w io.Writer, o *ApplyOptions) *applyPrinter {
	p := &applyPrinter{w: w, opts: o, printed: map[string]bool{}}
	if width, ok := terminalWidth(w); ok && o.Output == outputText {
		p.live = newLiveStatus(w, width)
	}
	return p
}

func changeKey(c apply.Change) string { return c.Ref.Key() + " " + string(c.Action) }

// progress is the apply.ApplyOptions.Progress callback of text output.
func (p *applyPrinter) progress(e apply.Event) {
	switch e.Type {
	case apply.EventApplied, apply.EventPruned:
		p.printed[changeKey(e.Change)] = true
		p.line(changeLine(e.Change, p.opts.DryRun))
		if p.live != nil && e.Type == apply.EventApplied {
			p.live.track(e.Change.Ref)
		}
	case apply.EventHealth:
		if p.live != nil {
			p.live.update(e.Health)
		} else {
			p.line(healthLine(e.Health))
		}
	}
}

func (p *applyPrinter) line(s string) {
	if p.live != nil {
		p.live.println(s)
		return
	}
	fmt.Fprintln(p.w, s)
}

// finish prints the outcome: in text, the changes not shown yet, the
// unhealthy objects and a summary; in JSON, the whole report.
func (p *applyPrinter) finish(revision string, res *apply.Result, err error, code int) error {
	if res == nil {
		res = &apply.Result{}
	}
	if p.opts.Output == outputJSON {
		rep := applyReport{
			Source:   p.opts.Source.display(),
			Revision: revision,
			Chart:    p.chart,
			DryRun:   p.opts.DryRun,
			Hooks:    p.hooks,
			Changes:  res.Changes,
			Health:   res.Health,
			Error:    errorText(err),
		}
		if rep.Changes == nil {
			rep.Changes = []apply.Change{}
		}
		return writeJSON(p.w, rep)
	}
	if p.live != nil {
		p.live.clear()
	}
	for _, c := range res.Changes {
		if !p.printed[changeKey(c)] {
			fmt.Fprintln(p.w, changeLine(c, p.opts.DryRun))
		}
	}
	if code == 2 {
		return nil // the error says it all
	}
	var notReady []apply.Health
	for _, h := range res.Health {
		if h.Status != apply.Current {
			notReady = append(notReady, h)
		}
	}
	if len(notReady) > 0 {
		fmt.Fprintf(p.w, "Not healthy (waited up to %s):\n", p.opts.Timeout)
		for _, h := range notReady {
			fmt.Fprintln(p.w, "  "+healthLine(h))
		}
	}
	actions := make([]apply.Action, len(res.Changes))
	for i, c := range res.Changes {
		actions[i] = c.Action
	}
	verb := "applied"
	if p.opts.DryRun {
		verb = "dry run (nothing changed) of"
	}
	summary := fmt.Sprintf("%s %s: %s", verb, describeSource(revision, p.opts.Source.display()), countActions(actions, nil))
	if len(res.Health) > 0 && len(notReady) == 0 {
		summary += fmt.Sprintf("; all %d objects Current", len(res.Health))
	}
	_, werr := fmt.Fprintln(p.w, summary)
	return werr
}
