package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// EventsOptions configures `cruise events app|source NAME`.
type EventsOptions struct {
	Kube KubeOptions
}

func newEventsCommand() *cobra.Command {
	opts := &EventsOptions{Kube: defaultKubeOptions()}
	cmd := verbCommand("events (app|source|image KIND) NAME", "Show the events of an object",
		`Show the Kubernetes Events the controller recorded about an Application, a
GitRepository or an image automation object, oldest first: LAST SEEN, TYPE (Normal, Warning), REASON and
MESSAGE. The API server keeps events for about an hour.`)
	opts.Kube.addFlags(cmd.PersistentFlags())
	run := func(cmd *cobra.Command, k kind, name string) error {
		return runEvents(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), opts, k, name)
	}
	cmd.AddCommand(kindCommand(kindApplication, "Show the events of an Application", run),
		kindCommand(kindGitRepository, "Show the events of a GitRepository", run),
		imageKindCommand("Show the events of an image automation object", map[kind]string{
			kindImageRepository:       "Show the events of an ImageRepository",
			kindImagePolicy:           "Show the events of an ImagePolicy",
			kindImageUpdateAutomation: "Show the events of an ImageUpdateAutomation",
		}, run))
	return cmd
}

func runEvents(ctx context.Context, out, errOut io.Writer, o *EventsOptions, k kind, name string) error {
	kc, err := o.Kube.connect()
	if err != nil {
		return err
	}
	if err := kc.Get(ctx, client.ObjectKey{Namespace: kc.namespace, Name: name}, k.newObject()); err != nil {
		return apiError(err, k, kc.namespace, name)
	}
	list := &corev1.EventList{}
	err = kc.List(ctx, list, client.InNamespace(kc.namespace), client.MatchingFields{
		"involvedObject.kind": string(k),
		"involvedObject.name": name,
	})
	if err != nil {
		return fail(2, fmt.Errorf("list events of %s: %w", objectRef(k, kc.namespace, name), err))
	}
	var events []corev1.Event
	for _, e := range list.Items {
		// Argo CD's Application has the same kind name: keep cruise's.
		if gv, err := schema.ParseGroupVersion(e.InvolvedObject.APIVersion); err == nil && gv.Group != "" && gv.Group != v1alpha1.GroupVersion.Group {
			continue
		}
		events = append(events, e)
	}
	if len(events) == 0 {
		fmt.Fprintf(errOut, "no events found for %s\n", objectRef(k, kc.namespace, name))
		return nil
	}
	return writeEvents(out, events, time.Now())
}

// writeEvents prints events oldest first as a table; now is the reference
// of LAST SEEN.
func writeEvents(out io.Writer, events []corev1.Event, now time.Time) error {
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b corev1.Event) int { return lastSeen(a).Compare(lastSeen(b)) })
	rows := make([][]string, 0, len(events))
	for _, e := range events {
		seen := "<unknown>"
		if t := lastSeen(e); !t.IsZero() {
			seen = duration.HumanDuration(now.Sub(t))
			if n := eventCount(e); n > 1 {
				seen += fmt.Sprintf(" (x%d over %s)", n, duration.HumanDuration(now.Sub(firstSeen(e))))
			}
		}
		msg := strings.Join(strings.Fields(e.Message), " ")
		rows = append(rows, []string{seen, e.Type, e.Reason, msg})
	}
	return writeTable(out, "LAST SEEN\tTYPE\tREASON\tMESSAGE", rows)
}

// lastSeen is when the event last happened, whichever of the core/v1 and
// events.k8s.io/v1 fields the recorder filled in.
func lastSeen(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// firstSeen is when the event first happened.
func firstSeen(e corev1.Event) time.Time {
	switch {
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// eventCount is how often the event happened.
func eventCount(e corev1.Event) int32 {
	if e.Series != nil && e.Series.Count > 0 {
		return e.Series.Count
	}
	return e.Count
}
