package controller

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
	notification "github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/render"
)

// recordedNotices keeps what outcomes told the Notifier.
type recordedNotices struct {
	events    []notification.Event
	forgotten []notification.ObjectRef
}

func (r *recordedNotices) Notify(ev notification.Event)    { r.events = append(r.events, ev) }
func (r *recordedNotices) Forget(o notification.ObjectRef) { r.forgotten = append(r.forgotten, o) }
func (r *recordedNotices) take() (types []notification.EventType) {
	for _, e := range r.events {
		types = append(types, e.Type)
	}
	r.events = nil
	return types
}

// TestOutcomeNotices: failures (not waits) are announced with their
// reason and message, health failures as HealthDegraded; a success is
// announced as a possible Recovered after a failure and the first time an
// object is seen (it may end a failure announced before a restart).
func TestOutcomeNotices(t *testing.T) {
	rec := &recordedNotices{}
	o := (&outcomes{recorder: &recordedEvents{}, rand: func() float64 { return 0 }}).notifying(rec, cruisev1.ApplicationKind)
	app := &cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", Generation: 1, UID: "u1",
		Labels: map[string]string{"tier": "prod"}}}
	app.Status.LastAttemptedRevision = "main@sha1:" + fmt.Sprintf("%040d", 1)
	app.Status.History = []cruisev1.SyncResult{{Revision: app.Status.LastAttemptedRevision, Message: "Break it", Author: "Ann"}}
	finish := func(err error) []notification.EventType {
		o.finish(t.Context(), subject{
			obj: app, conditions: &app.Status.Conditions, observedGeneration: &app.Status.ObservedGeneration,
			action: "Sync", fallbackReason: "Fallback", timing: retryTiming{Interval: time.Hour, Retry: time.Second},
		}, time.Hour, err)
		return rec.take()
	}
	renderErr := stalling(cruisev1.ReasonRenderFailed, fmt.Errorf("render app: %w", &render.Error{File: "app/a.yaml", Line: 3, Err: errors.New("bad")}))
	for i, st := range []struct {
		err  error
		want []notification.EventType
	}{
		{nil, []notification.EventType{notification.Recovered}}, // first seen
		{nil, nil},
		{renderErr, []notification.EventType{notification.Failed}},
		{renderErr, []notification.EventType{notification.Failed}}, // the Dispatcher drops the repeat
		{waiting(cruisev1.ReasonSourceNotReady, time.Minute, "no revision yet"), nil},
		{transient(cruisev1.ReasonHealthCheckFailed, apply.ErrUnhealthy), []notification.EventType{notification.HealthDegraded}},
		{nil, []notification.EventType{notification.Recovered}},
		{nil, nil},
	} {
		if got := finish(st.err); !slices.Equal(got, st.want) {
			t.Errorf("step %d (%v): told %v, want %v", i, st.err, got, st.want)
		}
	}
	o.finish(t.Context(), subject{obj: app, conditions: &app.Status.Conditions, observedGeneration: &app.Status.ObservedGeneration,
		timing: retryTiming{Interval: time.Hour, Retry: time.Second}}, 0, renderErr)
	got := rec.events[0]
	if got.Object != (notification.ObjectRef{Kind: "Application", Namespace: "ns", Name: "web", UID: "u1"}) || got.Labels["tier"] != "prod" ||
		got.Reason != cruisev1.ReasonRenderFailed || got.Message != renderErr.Error() || !slices.Equal(got.Objects, []string{"app/a.yaml:3"}) ||
		got.Revision != app.Status.LastAttemptedRevision || got.Commit == nil || got.Commit.Subject != "Break it" {
		t.Errorf("Failed event %+v", got)
	}
	o.forget(client.ObjectKeyFromObject(app))
	if len(rec.forgotten) != 1 || rec.forgotten[0].Name != "web" || rec.forgotten[0].Kind != "Application" {
		t.Errorf("forgotten %v", rec.forgotten)
	}
}

func TestFailedObjects(t *testing.T) {
	cm := apply.ObjRef{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a"}
	dep := apply.ObjRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "web"}
	err := fmt.Errorf("apply: %w", errors.Join(
		&apply.ObjectError{Ref: cm, Source: "app/a.yaml", Err: apply.ErrInvalid},
		&apply.ObjectError{Ref: dep, Err: apply.ErrForbidden},
		&apply.ObjectError{Ref: cm, Source: "app/a.yaml", Err: apply.ErrInvalid},
	))
	if got, want := failedObjects(err), []string{"ConfigMap/ns/a (app/a.yaml)", "Deployment/ns/web"}; !slices.Equal(got, want) {
		t.Errorf("failedObjects = %v, want %v", got, want)
	}
	if got := failedObjects(errors.New("plain")); got != nil {
		t.Errorf("failedObjects of a plain error = %v", got)
	}
}

func TestIsRollbackOf(t *testing.T) {
	app := &cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}}
	for subject, want := range map[string]bool{
		"Roll back team-a/web to 0123abc":                                  true,
		"Roll back team-a/web to 0123456789abcdef0123456789abcdef01234567": true,
		"Roll back team-a/api to 0123abc":                                  false,
		"Roll back team-b/web to 0123abc":                                  false,
		"Roll back team-a/web to main":                                     false,
		"Revert \"Roll back team-a/web to 0123abc\"":                       false,
	} {
		if got := isRollbackOf(subject, app); got != want {
			t.Errorf("isRollbackOf(%q) = %v, want %v", subject, got, want)
		}
	}
}

// TestSeedOf: the failures a restart takes as already announced are those
// Ready False shows, not waits, progress or suspension.
func TestSeedOf(t *testing.T) {
	app := &cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "m"}
	}
	for _, tc := range []struct {
		name  string
		conds []metav1.Condition
		want  notification.EventType // "" : not seeded
	}{
		{"render failure", []metav1.Condition{cond("Ready", "False", cruisev1.ReasonRenderFailed), cond("Stalled", "True", cruisev1.ReasonRenderFailed)}, notification.Failed},
		{"health", []metav1.Condition{cond("Ready", "False", cruisev1.ReasonHealthCheckFailed)}, notification.HealthDegraded},
		{"ready", []metav1.Condition{cond("Ready", "True", cruisev1.ReasonSucceeded)}, ""},
		{"progressing", []metav1.Condition{cond("Ready", "Unknown", cruisev1.ReasonProgressing)}, ""},
		{"waiting", []metav1.Condition{cond("Ready", "False", cruisev1.ReasonDependencyNotReady), cond("Reconciling", "True", cruisev1.ReasonDependencyNotReady)}, ""},
		{"source not ready", []metav1.Condition{cond("Ready", "False", cruisev1.ReasonSourceNotReady)}, ""},
		{"suspended", []metav1.Condition{cond("Ready", "False", cruisev1.ReasonSuspended)}, ""},
		{"none", nil, ""},
	} {
		ev, ok := seedOf(app, cruisev1.ApplicationKind, tc.conds)
		if ok != (tc.want != "") || ev.Type != tc.want {
			t.Errorf("%s: seeded %v %s, want %q", tc.name, ok, ev.Type, tc.want)
		}
	}
}
