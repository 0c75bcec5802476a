// Package hookrun runs a Helm chart's hooks as phases around cruise's
// apply, with Helm's semantics (helm.sh/helm/v4 pkg/action/hooks.go).
//
// A Runner runs the hooks of one event (pre-install, post-upgrade, ...)
// of one release:
//
//   - The hooks of the event run one at a time, ordered by weight, then
//     name, then Helm's kind install order, then their order in the input
//     (which is how Helm's stable sorts leave them).
//   - Each hook's delete policies default to before-hook-creation. With
//     it, an existing object of that name is deleted first and waited for
//     until gone; a Job is deleted in the foreground of its Pods, so a hook
//     never runs beside the Pods of its previous run.
//   - The hook object is created with server-side apply, labelled with
//     LabelHookOf and LabelHookOfNamespace so cruise can find it. Hooks are
//     never in cruise's inventory, so they are never diffed or pruned.
//   - A Job is waited for until Complete or Failed, a Pod until Succeeded
//     or Failed; any other kind is done once created (as in Helm, where a
//     ConfigMap or ServiceAccount hook only has to exist).
//   - Every wait (delete, completion) is bounded by Runner.Timeout, per
//     hook, as Helm's --timeout bounds each hook; a hook not done in time
//     fails naming the object, the event and the chart file.
//   - The first hook that fails stops the phase: later hooks do not run.
//     The failed hook is deleted if it has hook-failed, the hooks that
//     succeeded before it if they have hook-succeeded. When every hook
//     succeeds, those with hook-succeeded are deleted, last first.
//   - CustomResourceDefinition hooks are never deleted (as in Helm: that
//     would cascade to every custom resource).
//
// Where cruise is stricter than Helm, on purpose:
//
//   - an existing object of a hook's name that is not a hook (no
//     helm.sh/hook annotation) or is a hook of another release is never
//     deleted or overwritten: the run fails naming it, nothing changed;
//   - an unknown delete policy (a typo Helm silently ignores) is refused
//     before anything runs;
//   - "test" hooks are refused: they never run on apply.
//
// The Runner uses the client it is given, which the caller makes the
// applying identity (impersonation); it has no credentials of its own.
package hookrun
