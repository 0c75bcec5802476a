package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SuspendOptions configures `cruise suspend` and `cruise resume`.
type SuspendOptions struct {
	Kube KubeOptions
	// API, when logged in (or with --server), acts on Applications
	// through a cruise server instead of the cluster.
	API APIOptions
	// Wait (resume only) waits until the requested reconcile is done and
	// the object is Ready.
	Wait bool
	// Timeout bounds Wait; default 5m.
	Timeout time.Duration
}

func newSuspendCommand() *cobra.Command {
	opts := &SuspendOptions{Kube: defaultKubeOptions()}
	cmd := verbCommand("suspend (app|source|image repository|image update) NAME", "Stop reconciling an object",
		`Set spec.suspend of an Application (no more changes to the cluster, drift is
left alone), a GitRepository (no more fetches), an ImageRepository (no more
scans) or an ImageUpdateAutomation (no more commits). cruise resume undoes
it. ImagePolicies have no spec.suspend: suspend the repository they read or
the automation that writes their choice.

spec.suspend is set with a merge patch, which takes no ownership of the field:
when the object itself is deployed from Git, the next apply of a manifest
that sets spec.suspend wins.

After cruise login (or with --server), Applications are suspended through
the cruise server's API, unless --kubeconfig or --context is given; the
namespace without -n is then "default". The other kinds always go to the
cluster.`)
	opts.Kube.addFlags(cmd.PersistentFlags())
	opts.API.addFlags(cmd)
	run := func(cmd *cobra.Command, k kind, name string) error {
		return runSuspend(cmd.Context(), cmd.OutOrStdout(), opts, k, name, true)
	}
	cmd.AddCommand(kindCommand(kindApplication, "Suspend an Application", run),
		kindCommand(kindGitRepository, "Suspend a GitRepository", run),
		imageKindCommand("Suspend an ImageRepository or ImageUpdateAutomation", map[kind]string{
			kindImageRepository:       "Suspend an ImageRepository: no more scans",
			kindImagePolicy:           "ImagePolicies cannot be suspended: suspend their repository or automation",
			kindImageUpdateAutomation: "Suspend an ImageUpdateAutomation: no more commits",
		}, run))
	return cmd
}

func newResumeCommand() *cobra.Command {
	opts := &SuspendOptions{Kube: defaultKubeOptions(), Timeout: 5 * time.Minute}
	cmd := verbCommand("resume (app|source|image repository|image update) NAME", "Resume reconciling an object",
		`Clear spec.suspend of an Application, GitRepository, ImageRepository or
ImageUpdateAutomation and ask for a reconcile right away (see cruise
reconcile). With --wait, wait until it is done and the object is Ready; exit
code 1 when it is not within --timeout.

Resuming an ImageUpdateAutomation also lifts its holds: the versions it
holds back after a rollback (cruise get images shows them) are written at
its next run, which the same request asks for (annotation
`+v1alpha1.ReleaseHoldsAnnotation+`). This works whether or not it was suspended.

After cruise login (or with --server), Applications are resumed through the
cruise server's API, unless --kubeconfig or --context is given; the
namespace without -n is then "default". The other kinds always go to the
cluster.`)
	opts.Kube.addFlags(cmd.PersistentFlags())
	opts.API.addFlags(cmd)
	cmd.PersistentFlags().BoolVar(&opts.Wait, "wait", opts.Wait, "wait until the object is reconciled and Ready")
	cmd.PersistentFlags().DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long --wait waits")
	run := func(cmd *cobra.Command, k kind, name string) error {
		return runSuspend(cmd.Context(), cmd.OutOrStdout(), opts, k, name, false)
	}
	cmd.AddCommand(kindCommand(kindApplication, "Resume an Application", run),
		kindCommand(kindGitRepository, "Resume a GitRepository", run),
		imageKindCommand("Resume an ImageRepository or ImageUpdateAutomation (lifting its holds)", map[kind]string{
			kindImageRepository:       "Resume an ImageRepository",
			kindImagePolicy:           "ImagePolicies are never suspended: resume their repository or automation",
			kindImageUpdateAutomation: "Resume an ImageUpdateAutomation and lift its holds",
		}, run))
	return cmd
}

// runSuspend sets spec.suspend to suspend; resuming also requests a
// reconcile.
func runSuspend(ctx context.Context, out io.Writer, o *SuspendOptions, k kind, name string, suspend bool) error {
	if o.Wait && o.Timeout <= 0 {
		return fail(2, fmt.Errorf("invalid --timeout %s: must be positive", o.Timeout))
	}
	verb := "resume"
	if suspend {
		verb = "suspend"
	}
	if k == kindImagePolicy {
		return fail(2, policySuspendError(verb))
	}
	if k != kindApplication {
		if err := clusterOnly(&o.API, verb, k); err != nil {
			return err
		}
	} else if s, err := o.API.session(ctx, &o.Kube); err != nil {
		return err
	} else if s != nil {
		return runSuspendAPI(ctx, out, o, s, name, suspend)
	}
	kc, err := o.Kube.connect()
	if err != nil {
		return err
	}
	obj := k.newObject()
	if err := kc.Get(ctx, client.ObjectKey{Namespace: kc.namespace, Name: name}, obj); err != nil {
		return apiError(err, k, kc.namespace, name)
	}
	ref := objectRef(k, kc.namespace, name)
	if suspend {
		if err := mergePatch(ctx, kc, obj, map[string]any{"spec": map[string]any{"suspend": true}}); err != nil {
			return apiError(err, k, kc.namespace, name)
		}
		fmt.Fprintf(out, "✓ %s suspended\n", ref)
		return nil
	}
	var at string
	if auto, ok := obj.(*v1alpha1.ImageUpdateAutomation); ok {
		held := auto.Status.Held
		if at, err = releaseHolds(ctx, kc, auto); err != nil {
			return apiError(err, k, kc.namespace, name)
		}
		fmt.Fprintf(out, "✓ %s resumed, holds released, reconcile requested\n", ref)
		for _, h := range held {
			fmt.Fprintf(out, "  hold of %s on %s released\n", h.Policy, h.Ref.String())
		}
	} else {
		if at, err = requestReconcile(ctx, kc, obj, map[string]any{"suspend": false}); err != nil {
			return apiError(err, k, kc.namespace, name)
		}
		fmt.Fprintf(out, "✓ %s resumed, reconcile requested\n", ref)
	}
	if !o.Wait {
		return nil
	}
	s, err := waitReconciled(ctx, kc, obj, at, time.Now().Add(o.Timeout), o.Timeout)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "✓ "+readyLine(s))
	return nil
}
