// Package pipeline is the one mapping from an Application to the steps that
// deploy it: what to fetch (source), how to render the checkout (render)
// and how to apply or diff the objects (apply). The controller's sync, the
// server's diff and rollback, and the push commands (cruise apply and diff)
// build their options here, so that a diff shows what a sync would do and
// the Application's fields mean one thing everywhere.
//
// Data flows one way, source → render → apply: this package imports those
// three, helm and the API types, and nothing that runs them (controller,
// server, cli); it talks to no Git server, and to a cluster only through
// the reader a caller gives RenderChart (for a chart's valuesFrom and its
// kept generated values).
//
// A chart (a directory holding Chart.yaml, or spec.chart's archive) is
// rendered by [RenderChart] instead of [Render]: [LoadGitChart] says
// whether spec.path holds one, [ChartValues] layers the values in the
// pinned order, and [ReleaseName] and [ReleaseNamespace] name the release.
//
// For an Application app of GitRepository repo:
//
//	req := pipeline.SourceRequest(repo, auth)      // what to fetch
//	dec, err := pipeline.DecryptionKeys(secret)    // if DecryptionSecret(app) names one
//	res, err := pipeline.Render(ctx, app, repo, art.Dir, dec)
//	t := pipeline.TargetOf(app)                    // where and how to apply
//	ctx, cancel := context.WithTimeout(ctx, t.Timeout+time.Minute)
//	result, err := engine.Apply(ctx, res.Objects, t.ApplyOptions(inventory))
//	diffs, err := engine.Diff(ctx, res.Objects, t.DiffOptions(inventory))
//
// The inventory is the caller's: the controller records it in the
// Application's status, the server's diff reads it from there without
// writing, and the push commands keep it in a ConfigMap. The push commands,
// which have no Application, fill a [Target] from their flags.
//
// [Paths] and [Affected] say which files of the repository an Application
// is made of: what a rollback restores and which commits can change a sync.
package pipeline
