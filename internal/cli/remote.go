package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apiclient"
	"github.com/cruisegitops/cruise/internal/oauthclient"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// This file holds the resource commands' way through a cruise server's
// API (see APIOptions.session for when they take it): get apps and
// sources, reconcile, suspend and resume of apps.

// apiDefaultNamespace is the namespace of the API commands without -n:
// there is no kubeconfig context to take one from.
const apiDefaultNamespace = "default"

// apiNamespace is -n, else "default".
func apiNamespace(k *KubeOptions) string {
	if k.Namespace != "" {
		return k.Namespace
	}
	return apiDefaultNamespace
}

// fail makes an API error the command's outcome, exit code 2; a refused
// token or an ended login says how to log in again.
func (s *apiSession) fail(err error) error {
	switch {
	case apiclient.HasCode(err, apiv1.CodeUnauthenticated):
		return fail(2, fmt.Errorf("%w: log in again with cruise login %s", err, s.server))
	case errors.Is(err, oauthclient.ErrLoginEnded):
		return fail(2, fmt.Errorf("%w (cruise login %s)", err, s.server))
	}
	return fail(2, err)
}

// runGetAPI is `cruise get apps|sources` through the API.
func runGetAPI(ctx context.Context, out, errOut io.Writer, o *GetOptions, s *apiSession, k kind, name string) error {
	if err := o.Kube.validate(); err != nil {
		return fail(2, err)
	}
	ns := apiNamespace(&o.Kube)
	if o.AllNamespaces {
		ns = ""
	}
	if k == kindGitRepository {
		return getSourcesAPI(ctx, out, errOut, o, s, ns, name)
	}
	if name != "" {
		app, err := s.client.GetApplication(ctx, ns, name)
		if err != nil {
			return s.fail(err)
		}
		if o.Output != formatTable {
			return printObject(out, app, o.Output)
		}
		return writeAPIAppTable(out, []apiv1.Application{*app}, false, time.Now())
	}
	list, err := listAllApplications(ctx, s.client, apiclient.ListOptions{Namespace: ns})
	if err != nil {
		return s.fail(err)
	}
	slices.SortFunc(list.Items, func(a, b apiv1.Application) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	if o.Output != formatTable {
		return printObject(out, list, o.Output)
	}
	if len(list.Items) == 0 {
		fmt.Fprintf(errOut, "no %ss found %s on %s\n", kindApplication, where(ns), s.server)
		return nil
	}
	return writeAPIAppTable(out, list.Items, o.AllNamespaces, time.Now())
}

// where is "in namespace NS", or "in any namespace" for "".
func where(ns string) string {
	if ns == "" {
		return "in any namespace"
	}
	return "in namespace " + ns
}

// listAllApplications follows the pages of the list to the end.
func listAllApplications(ctx context.Context, c *apiclient.Client, o apiclient.ListOptions) (*apiv1.ApplicationList, error) {
	all := &apiv1.ApplicationList{Items: []apiv1.Application{}}
	seen := map[string]bool{}
	for page := 0; ; page++ {
		l, err := c.ListApplications(ctx, o)
		if err != nil {
			return nil, err
		}
		all.Items = append(all.Items, l.Items...)
		if page == 0 {
			all.Total, all.Counts = l.Total, l.Counts
		}
		if l.Continue == "" {
			return all, nil
		}
		if seen[l.Continue] {
			return nil, fmt.Errorf("%s: list applications: the server returned the same continue token twice", c.Server())
		}
		seen[l.Continue] = true
		o.Continue = l.Continue
	}
}

// writeAPIAppTable prints applications as get's table. The API has no
// creation time, so AGE gives way to the sync and health columns and the
// time since the last sync.
func writeAPIAppTable(out io.Writer, apps []apiv1.Application, namespaces bool, now time.Time) error {
	header := "NAME\tREADY\tSYNC\tHEALTH\tREVISION\tSUSPENDED\tLAST SYNC\tMESSAGE"
	rows := make([][]string, len(apps))
	for i, a := range apps {
		last := "<never>"
		if a.LastSyncTime != nil {
			last = duration.HumanDuration(now.Sub(*a.LastSyncTime))
		}
		rows[i] = []string{a.Name, cmp.Or(a.Ready, "Unknown"), a.Sync, a.Health, shortRevision(a.Revision),
			strconv.FormatBool(a.Suspended), last, strings.Join(strings.Fields(a.Message), " ")}
		if namespaces {
			rows[i] = append([]string{a.Namespace}, rows[i]...)
		}
	}
	if namespaces {
		header = "NAMESPACE\t" + header
	}
	return writeTable(out, header, rows)
}

// getSourcesAPI is `cruise get sources [NAME]` through the API, which
// lists sources only: NAME is looked up in the list.
func getSourcesAPI(ctx context.Context, out, errOut io.Writer, o *GetOptions, s *apiSession, ns, name string) error {
	list, err := s.client.ListSources(ctx, ns)
	if err != nil {
		return s.fail(err)
	}
	if list.Items == nil {
		list.Items = []apiv1.Source{}
	}
	slices.SortFunc(list.Items, func(a, b apiv1.Source) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	if name != "" {
		i := slices.IndexFunc(list.Items, func(src apiv1.Source) bool { return src.Name == name && src.Namespace == ns })
		if i < 0 {
			return fail(2, fmt.Errorf("%s not found on %s", objectRef(kindGitRepository, ns, name), s.server))
		}
		if o.Output != formatTable {
			return printObject(out, list.Items[i], o.Output)
		}
		list.Items = list.Items[i : i+1]
	} else if o.Output != formatTable {
		return printObject(out, list, o.Output)
	}
	if len(list.Items) == 0 {
		fmt.Fprintf(errOut, "no %ss found %s on %s\n", kindGitRepository, where(ns), s.server)
		return nil
	}
	header := "NAME\tREADY\tREVISION\tSUSPENDED\tMESSAGE"
	if o.AllNamespaces {
		header = "NAMESPACE\t" + header
	}
	rows := make([][]string, len(list.Items))
	for i, src := range list.Items {
		rows[i] = []string{src.Name, cmp.Or(src.Ready, "Unknown"), shortRevision(src.Revision), strconv.FormatBool(src.Suspended),
			strings.Join(strings.Fields(src.Message), " ")}
		if o.AllNamespaces {
			rows[i] = append([]string{src.Namespace}, rows[i]...)
		}
	}
	return writeTable(out, header, rows)
}

// runReconcileAPI is `cruise reconcile app NAME` through the API.
func runReconcileAPI(ctx context.Context, out io.Writer, o *ReconcileOptions, s *apiSession, name string) error {
	if err := o.Kube.validate(); err != nil {
		return fail(2, err)
	}
	if o.WithSource {
		return fail(2, errors.New("--with-source is not available through the cruise server's API: use --kubeconfig or --context"))
	}
	ns := apiNamespace(&o.Kube)
	ref := objectRef(kindApplication, ns, name)
	before, err := s.client.GetApplication(ctx, ns, name)
	if err != nil {
		return s.fail(err)
	}
	if before.Suspended {
		return fail(2, fmt.Errorf("%s is suspended: resume it first (cruise resume app %s -n %s)", ref, name, ns))
	}
	res, err := s.client.Sync(ctx, ns, name)
	if err != nil {
		return s.fail(err)
	}
	fmt.Fprintf(out, "► %s: reconcile requested\n", ref)
	if !o.Wait {
		return nil
	}
	return waitAPIReady(ctx, out, s, before, res, o.Timeout, ref)
}

// runSuspendAPI is `cruise suspend|resume app NAME` through the API.
func runSuspendAPI(ctx context.Context, out io.Writer, o *SuspendOptions, s *apiSession, name string, suspend bool) error {
	if err := o.Kube.validate(); err != nil {
		return fail(2, err)
	}
	ns := apiNamespace(&o.Kube)
	ref := objectRef(kindApplication, ns, name)
	if suspend {
		if _, err := s.client.Suspend(ctx, ns, name); err != nil {
			return s.fail(err)
		}
		fmt.Fprintf(out, "✓ %s suspended\n", ref)
		return nil
	}
	var before *apiv1.Application
	if o.Wait {
		var err error
		if before, err = s.client.GetApplication(ctx, ns, name); err != nil {
			return s.fail(err)
		}
	}
	res, err := s.client.Resume(ctx, ns, name)
	if err != nil {
		return s.fail(err)
	}
	fmt.Fprintf(out, "✓ %s resumed\n", ref)
	if !o.Wait {
		return nil
	}
	return waitAPIReady(ctx, out, s, before, res, o.Timeout, ref)
}

// stalledReasons are the Ready reasons with which the controller stops
// retrying until something changes: waiting longer would not help.
var stalledReasons = []string{v1alpha1.ReasonRenderFailed, v1alpha1.ReasonValidationFailed,
	v1alpha1.ReasonSourceNotAllowed, v1alpha1.ReasonForbidden}

// waitAPIReady waits as waitAPIReconciled does and reports the outcome.
func waitAPIReady(ctx context.Context, out io.Writer, s *apiSession, before *apiv1.Application, res *apiv1.ActionResult, timeout time.Duration, ref string) error {
	done, err := waitAPIReconciled(ctx, s, before, res, timeout)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "✓ "+apiReadyLine(ref, done))
	return nil
}

// waitAPIReconciled polls the application until the controller has
// handled the sync request res (lastHandledReconcileAt equals it) and the
// application is Ready. A stalled Ready False and reaching timeout are
// exit code 1.
func waitAPIReconciled(ctx context.Context, s *apiSession, before *apiv1.Application, res *apiv1.ActionResult, timeout time.Duration) (*apiv1.Application, error) {
	ns, name := before.Namespace, before.Name
	ref := objectRef(kindApplication, ns, name)
	ticker := time.NewTicker(reconcilePollInterval)
	defer ticker.Stop()
	expired := time.NewTimer(timeout)
	defer expired.Stop()
	var (
		last    *apiv1.Application
		lastErr error
	)
	for {
		app, err := s.client.GetApplication(ctx, ns, name)
		switch {
		case apiclient.HasCode(err, apiv1.CodeNotFound):
			return nil, fail(1, fmt.Errorf("%s was deleted while waiting for it", ref))
		case err != nil:
			lastErr = err // transient, most likely: try again until the deadline
		default:
			lastErr = nil
			last = app
			settled := res.RequestedAt != "" && app.LastHandledReconcileAt == res.RequestedAt
			switch {
			case settled && app.Ready == string(metav1.ConditionTrue) && app.Reason != v1alpha1.ReasonProgressing:
				return app, nil
			case settled && app.Ready == string(metav1.ConditionFalse) && slices.Contains(stalledReasons, app.Reason):
				return nil, fail(1, fmt.Errorf("%s is stalled: %s", ref, apiConditionText(app)))
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-expired.C:
			if lastErr != nil {
				return nil, fail(1, fmt.Errorf("%s: not reconciled within %s: %w", ref, timeout, lastErr))
			}
			return nil, fail(1, fmt.Errorf("%s: not Ready within %s: %s", ref, timeout, apiConditionText(last)))
		case <-ticker.C:
		}
	}
}

// apiConditionText is "False, ApplyFailed: message".
func apiConditionText(app *apiv1.Application) string {
	if app == nil || app.Ready == "" {
		return "Unknown (no Ready condition yet)"
	}
	s := app.Ready
	if app.Reason != "" {
		s += ", " + app.Reason
	}
	if app.Message != "" {
		s += ": " + strings.Join(strings.Fields(app.Message), " ")
	}
	return s
}

// apiReadyLine reports a reconciled application.
func apiReadyLine(ref string, app *apiv1.Application) string {
	line := ref + " reconciled"
	if app.Revision != "" {
		line += ": revision " + shortRevision(app.Revision)
	}
	return line
}
