package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// reconcilePollInterval is how often --wait reads the object again.
const reconcilePollInterval = 500 * time.Millisecond

// ReconcileOptions configures `cruise reconcile app|source NAME`.
type ReconcileOptions struct {
	Kube KubeOptions
	// API, when logged in (or with --server), reconciles Applications
	// through a cruise server instead of the cluster.
	API APIOptions
	// WithSource asks the Application's GitRepository to fetch first (and,
	// with Wait, waits for it).
	WithSource bool
	// Wait waits until the controller handled the request and the object
	// is Ready.
	Wait bool
	// Timeout bounds Wait; default 5m.
	Timeout time.Duration
}

func newReconcileCommand() *cobra.Command {
	opts := &ReconcileOptions{Kube: defaultKubeOptions(), Timeout: 5 * time.Minute}
	cmd := verbCommand("reconcile (app|source|image KIND) NAME", "Ask the controller to reconcile an object now",
		`Ask the controller to reconcile an object now instead of at its next interval,
by setting the annotation `+v1alpha1.ReconcileRequestAnnotation+` to the current time.

With --with-source, the Application's GitRepository is asked to fetch first.
With --wait, the command waits until the controller has handled the request
(status.lastHandledReconcileAt) and the object is Ready.

A suspended object is not reconciled: resume it instead (cruise resume).

After cruise login (or with --server), Applications are reconciled through
the cruise server's API, unless --kubeconfig or --context is given; the
namespace without -n is then "default". The other kinds (source, image
repository|policy|update) always go to the cluster.

Exit codes:
  0  requested (with --wait: handled and Ready)
  1  with --wait: not Ready within --timeout, or stalled; the Ready
     condition's message says why
  2  error: bad flags, object not found, cluster unreachable`)
	opts.Kube.addFlags(cmd.PersistentFlags())
	opts.API.addFlags(cmd)
	cmd.PersistentFlags().BoolVar(&opts.Wait, "wait", opts.Wait, "wait until the controller has reconciled the object and it is Ready")
	cmd.PersistentFlags().DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long --wait waits")

	run := func(cmd *cobra.Command, k kind, name string) error {
		return runReconcile(cmd.Context(), cmd.OutOrStdout(), opts, k, name)
	}
	app := kindCommand(kindApplication, "Reconcile an Application", run)
	app.Flags().BoolVar(&opts.WithSource, "with-source", opts.WithSource, "have the GitRepository fetch first")
	cmd.AddCommand(app, kindCommand(kindGitRepository, "Fetch a GitRepository now", run),
		imageKindCommand("Reconcile an image automation object", map[kind]string{
			kindImageRepository:       "Scan an ImageRepository now",
			kindImagePolicy:           "Have an ImagePolicy choose again now",
			kindImageUpdateAutomation: "Run an ImageUpdateAutomation now",
		}, run))
	return cmd
}

func runReconcile(ctx context.Context, out io.Writer, o *ReconcileOptions, k kind, name string) error {
	if o.Wait && o.Timeout <= 0 {
		return fail(2, fmt.Errorf("invalid --timeout %s: must be positive", o.Timeout))
	}
	if k != kindApplication {
		if err := clusterOnly(&o.API, "reconcile", k); err != nil {
			return err
		}
	} else if s, err := o.API.session(ctx, &o.Kube); err != nil {
		return err
	} else if s != nil {
		return runReconcileAPI(ctx, out, o, s, name)
	}
	kc, err := o.Kube.connect()
	if err != nil {
		return err
	}
	obj := k.newObject()
	if err := kc.Get(ctx, client.ObjectKey{Namespace: kc.namespace, Name: name}, obj); err != nil {
		return apiError(err, k, kc.namespace, name)
	}
	// One deadline for the source and the app. Requests run on ctx (each
	// bounded by --request-timeout), so that none is cut short and
	// mistaken for a failure when the deadline passes.
	deadline := time.Now().Add(o.Timeout)
	if app, ok := obj.(*v1alpha1.Application); ok && o.WithSource {
		src := &v1alpha1.GitRepository{}
		key := client.ObjectKey{Namespace: app.SourceNamespace(), Name: app.Spec.SourceRef.Name}
		if err := kc.Get(ctx, key, src); err != nil {
			return apiError(err, kindGitRepository, key.Namespace, key.Name)
		}
		if err := reconcileOne(ctx, out, kc, src, o, deadline); err != nil {
			return err
		}
	}
	return reconcileOne(ctx, out, kc, obj, o, deadline)
}

// reconcileOne requests a reconcile of obj and, with o.Wait, waits for it
// until deadline.
func reconcileOne(ctx context.Context, out io.Writer, kc *kube, obj client.Object, o *ReconcileOptions, deadline time.Time) error {
	s := statusOf(obj)
	if s.Suspended {
		return fail(2, fmt.Errorf("%s is suspended: resume it first (cruise resume %s %s -n %s)", s.ref(), s.Kind.noun(), s.Name, s.Namespace))
	}
	at, err := requestReconcile(ctx, kc, obj, nil)
	if err != nil {
		return apiError(err, s.Kind, s.Namespace, s.Name)
	}
	fmt.Fprintf(out, "► %s: reconcile requested\n", s.ref())
	if !o.Wait {
		return nil
	}
	done, err := waitReconciled(ctx, kc, obj, at, deadline, o.Timeout)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "✓ "+readyLine(done))
	return nil
}

// requestReconcile sets the reconcile-request annotation of obj to the
// current time, together with the spec fields in spec (may be nil), in
// one merge patch, and returns the value. obj receives the result.
func requestReconcile(ctx context.Context, kc *kube, obj client.Object, spec map[string]any) (string, error) {
	metadata, at := v1alpha1.ReconcileRequest(time.Now())
	patch := map[string]any{"metadata": metadata}
	if spec != nil {
		patch["spec"] = spec
	}
	if err := mergePatch(ctx, kc, obj, patch); err != nil {
		return "", err
	}
	return at, nil
}

// mergePatch sends patch as a JSON merge patch of obj, which receives the
// result. A merge patch takes no ownership of the fields it sets, so a
// later server-side apply from Git does not fight over them.
func mergePatch(ctx context.Context, kc *kube, obj client.Object, patch map[string]any) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	return kc.Patch(ctx, obj, client.RawPatch(types.MergePatchType, b), client.FieldOwner(cliFieldManager))
}

// waitReconciled polls obj until the controller has handled the reconcile
// request at (status.lastHandledReconcileAt) and Ready is True. Ready
// False with Stalled True, and reaching deadline, are exit code 1; timeout
// is the flag's value, for the message.
func waitReconciled(ctx context.Context, kc *kube, obj client.Object, at string, deadline time.Time, timeout time.Duration) (objectStatus, error) {
	key := client.ObjectKeyFromObject(obj)
	s := statusOf(obj)
	ticker := time.NewTicker(reconcilePollInterval)
	defer ticker.Stop()
	expired := time.NewTimer(time.Until(deadline))
	defer expired.Stop()
	var lastErr error
	for {
		err := kc.Get(ctx, key, obj)
		switch {
		case apierrors.IsNotFound(err):
			return s, fail(1, fmt.Errorf("%s was deleted while waiting for it", s.ref()))
		case err != nil:
			lastErr = err // transient, most likely: try again until the deadline
		default:
			lastErr = nil
			s = statusOf(obj)
			if done, err := reconcileOutcome(s, at); done {
				return s, err
			}
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-expired.C:
			return s, fail(1, notReconciledError(s, at, timeout, lastErr))
		case <-ticker.C:
		}
	}
}

// reconcileOutcome says whether waiting for the reconcile request at is
// over: the controller handled it and Ready is True for the current
// generation (nil error), or Ready is False and Stalled True, so that
// waiting longer would not help (exit code 1).
func reconcileOutcome(s objectStatus, at string) (done bool, err error) {
	if s.LastHandledReconcileAt != at || s.Ready == nil {
		return false, nil
	}
	current := s.Ready.ObservedGeneration == 0 || s.Ready.ObservedGeneration >= s.Generation
	switch {
	case s.Ready.Status == metav1.ConditionTrue && current:
		return true, nil
	case s.Ready.Status == metav1.ConditionFalse && s.Stalled != nil && s.Stalled.Status == metav1.ConditionTrue:
		return true, fail(1, fmt.Errorf("%s is stalled: %s", s.ref(), conditionText(s.Ready)))
	}
	return false, nil
}

// notReconciledError says why waiting for the request at timed out.
func notReconciledError(s objectStatus, at string, timeout time.Duration, lastErr error) error {
	switch {
	case lastErr != nil:
		return fmt.Errorf("%s: not reconciled within %s: %w", s.ref(), timeout, lastErr)
	case s.LastHandledReconcileAt != at:
		last := s.LastHandledReconcileAt
		if last == "" {
			last = "none"
		}
		return fmt.Errorf("%s: the reconcile request was not handled within %s (last handled request: %s; Ready: %s); is the cruise controller running?",
			s.ref(), timeout, last, conditionText(s.Ready))
	}
	return fmt.Errorf("%s: not Ready within %s: %s", s.ref(), timeout, conditionText(s.Ready))
}

// conditionText is "False, ApplyFailed: message" or "Unknown" when c is
// nil.
func conditionText(c *metav1.Condition) string {
	if c == nil {
		return "Unknown (no Ready condition yet)"
	}
	s := string(c.Status)
	if c.Reason != "" {
		s += ", " + c.Reason
	}
	if c.Message != "" {
		s += ": " + oneLineError{errors.New(c.Message)}.Error()
	}
	return s
}

// readyLine reports a reconciled object: "Application/apps/web reconciled:
// revision main@sha1:0123456789ab".
func readyLine(s objectStatus) string {
	line := s.ref() + " reconciled"
	if s.Revision != "" {
		line += ": revision " + shortRevision(s.Revision)
	}
	return line
}
