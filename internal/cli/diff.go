package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
)

// DiffOptions configures `cruise diff`.
type DiffOptions struct {
	// Source says what to render.
	Source SourceOptions
	// Cluster says what to compare with and under which inventory name.
	Cluster ClusterOptions
	// Decryption holds the keys that decrypt SOPS-encrypted manifests.
	Decryption DecryptionOptions
	// Prune also reports the objects `cruise apply --prune` would delete.
	Prune bool
	// Output is text (default) or json.
	Output outputFormat
}

func newDiffCommand() *cobra.Command {
	opts := &DiffOptions{Source: defaultSourceOptions(), Cluster: defaultClusterOptions(), Output: outputText}
	cmd := &cobra.Command{
		Use:   "diff (--source SRC [--ref REF] [--path P] | --chart CHART [--repo URL] [--version V]) --name NAME [flags]",
		Short: "Show how a cluster differs from a source",
		Long: `Render a source (see ` + "`cruise build --help`" + `) and compare every object with the
cluster, using a server-side dry run of the apply, so that fields the API
server defaults never count as drift. Nothing is changed.

For each object that differs, a header and a unified diff of the live object
(---) and the object as the source wants it (+++) are printed, in YAML; Secret
values are masked. Missing objects show as "would be created"; with --prune,
objects recorded under --name that left the source show as "would be pruned".
A summary line ends the output. -o json prints one JSON document instead:
{"revision", "inSync", "objects": [{"ref", "action", "diff"}, ...], "error"}.

The flags --name, --namespace, --target-namespace and --inventory-namespace
mean what they mean for ` + "`cruise apply`" + `; use the same values.

A Helm chart (see ` + "`cruise build --help`" + ` and ` + "`cruise apply --help`" + `) is rendered as
apply renders it: for the cluster's version and API versions, with lookup,
the generated values apply kept and .Release.IsUpgrade once applied. Its
hooks are not compared. A values or version change shows as the change of
the rendered objects; unchanged inputs are in sync.

SOPS-encrypted files (what the sops CLI writes with age recipients, as Flux
uses them) are decrypted with the keys of --age-identity FILE (repeatable)
and --decryption-secret NAME or NAMESPACE/NAME (a Secret whose *.agekey data
keys hold age identities, as an Application's spec.decryption names; NAME is
in the -n namespace); without keys such a file is an error, never applied as
ciphertext. Every value of an object that holds decrypted values is masked,
whatever its kind, as Secret values are.

Exit codes:
  0  in sync: the cluster matches the source
  1  drifted: at least one object differs, is missing or would be pruned
  2  error: bad flags, source, manifests, chart or values, or an
     unreachable cluster or chart repository`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDiff(cmd.Context(), cmd.OutOrStdout(), opts) },
	}
	cmd.SetFlagErrorFunc(flagError)
	fs := cmd.Flags()
	opts.Source.addFlags(fs)
	opts.Cluster.addFlags(fs)
	opts.Decryption.addFlags(fs)
	fs.BoolVar(&opts.Prune, "prune", opts.Prune, "also report objects recorded under --name that are no longer in the source")
	fs.VarP(&opts.Output, "output", "o", "output format: text or json")
	return cmd
}

// diffReport is the JSON document of `cruise diff -o json`.
type diffReport struct {
	Source   string             `json:"source"`
	Revision string             `json:"revision,omitempty"`
	InSync   bool               `json:"inSync"`
	Objects  []apply.ObjectDiff `json:"objects"`
	Error    string             `json:"error,omitempty"`
}

func runDiff(ctx context.Context, out io.Writer, o *DiffOptions) error {
	if err := o.Cluster.validate(); err != nil {
		return fail(2, err)
	}
	if err := o.Decryption.validate(); err != nil {
		return fail(2, err)
	}
	revision, diffs, err := o.run(ctx)
	drifted := false
	for _, d := range diffs {
		drifted = drifted || d.Drifted()
	}
	var perr error
	if o.Output == outputJSON {
		if diffs == nil {
			diffs = []apply.ObjectDiff{}
		}
		perr = writeJSON(out, diffReport{
			Source:   o.Source.display(),
			Revision: revision,
			InSync:   err == nil && !drifted,
			Objects:  diffs,
			Error:    errorText(err),
		})
	} else if err == nil {
		perr = writeDiffText(out, describeSource(revision, o.Source.display()), diffs)
	}
	switch {
	case err != nil:
		return fail(2, err)
	case perr != nil:
		return fail(2, perr)
	case drifted:
		return &ExitError{Code: 1}
	}
	return nil
}

func (o *DiffOptions) run(ctx context.Context) (string, []apply.ObjectDiff, error) {
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
	if src.Chart != nil {
		if err := helm.CheckStoredVersions(ctx, c.engine.Client(), src.Chart.CRDs); err != nil {
			return src.Revision, nil, err
		}
	}
	// What cruise apply with the same flags compares with: force and wait
	// change how an apply gets there, not where.
	t := c.target()
	t.Prune = o.Prune
	diffs, err := c.engine.Diff(ctx, src.Objects, t.DiffOptions(c.inventory))
	return src.Revision, diffs, err
}

// diffVerbs are the actions as the diff summary and headers say them.
var diffVerbs = map[apply.Action]string{
	apply.Created:    "to create",
	apply.Configured: "to configure",
	apply.Pruned:     "to prune",
}

func writeDiffText(w io.Writer, what string, diffs []apply.ObjectDiff) error {
	actions := make([]apply.Action, len(diffs))
	drifted := 0
	for i, d := range diffs {
		actions[i] = d.Action
		if !d.Drifted() {
			continue
		}
		drifted++
		header := fmt.Sprintf("=== %s: %s", d.Ref, diffHeader(d.Action))
		if d.Source != "" {
			header += " (" + d.Source + ")"
		}
		fmt.Fprintln(w, header)
		if d.Diff != "" {
			fmt.Fprint(w, d.Diff)
			if d.Diff[len(d.Diff)-1] != '\n' {
				fmt.Fprintln(w)
			}
		}
	}
	state := "in sync"
	if drifted > 0 {
		state = fmt.Sprintf("%d of %d objects drifted", drifted, len(diffs))
	}
	_, err := fmt.Fprintf(w, "diff against %s: %s (%s)\n", what, state, countActions(actions, diffVerbs))
	return err
}

func diffHeader(a apply.Action) string {
	switch a {
	case apply.Created:
		return "missing from the cluster, would be created"
	case apply.Configured:
		return "drifted, would be configured"
	case apply.Pruned:
		return "no longer in the source, would be pruned"
	}
	return string(a)
}
