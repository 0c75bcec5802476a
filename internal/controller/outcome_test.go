package controller

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// recordedEvents keeps the reasons of the events it is given.
type recordedEvents struct{ reasons []string }

func (r *recordedEvents) Eventf(_ runtime.Object, _ runtime.Object, _, reason, _, _ string, _ ...any) {
	r.reasons = append(r.reasons, reason)
}

func TestOutcomeRequeues(t *testing.T) {
	timing := retryTiming{Interval: time.Hour, Retry: time.Second}
	boom := errors.New("boom")
	type step struct {
		err       error
		next      time.Duration
		requeue   time.Duration
		ready     metav1.ConditionStatus
		stalled   bool
		observed  bool // status.observedGeneration set to the generation
		wantEvent string
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"success resyncs after next", []step{
			{next: 10 * time.Minute, requeue: 10 * time.Minute, observed: true},
		}},
		{"transient failures back off from retryInterval and a success resets", []step{
			{err: transient(cruisev1.ReasonApplyFailed, boom), requeue: time.Second, ready: metav1.ConditionFalse, observed: true, wantEvent: cruisev1.ReasonApplyFailed},
			{err: transient(cruisev1.ReasonApplyFailed, boom), requeue: 2 * time.Second, ready: metav1.ConditionFalse, observed: true, wantEvent: cruisev1.ReasonApplyFailed},
			{err: boom, requeue: 4 * time.Second, ready: metav1.ConditionFalse, observed: true, wantEvent: "Fallback"},
			{next: time.Hour, requeue: time.Hour, observed: true},
			{err: transient(cruisev1.ReasonApplyFailed, boom), requeue: time.Second, ready: metav1.ConditionFalse, observed: true, wantEvent: cruisev1.ReasonApplyFailed},
		}},
		{"stalled failures back off too", []step{
			{err: stalling(cruisev1.ReasonRenderFailed, boom), requeue: time.Second, ready: metav1.ConditionFalse, stalled: true, observed: true, wantEvent: cruisev1.ReasonRenderFailed},
			{err: stalling(cruisev1.ReasonRenderFailed, boom), requeue: 2 * time.Second, ready: metav1.ConditionFalse, stalled: true, observed: true, wantEvent: cruisev1.ReasonRenderFailed},
		}},
		{"waiting is no failure: its own delay, no event, generation not observed", []step{
			{err: waiting(cruisev1.ReasonDependencyNotReady, time.Minute, "later"), requeue: time.Minute, ready: metav1.ConditionFalse},
			{err: transient(cruisev1.ReasonApplyFailed, boom), requeue: time.Second, ready: metav1.ConditionFalse, observed: true, wantEvent: cruisev1.ReasonApplyFailed},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordedEvents{}
			o := &outcomes{recorder: rec, rand: func() float64 { return 0 }}
			for i, st := range tc.steps {
				app := &cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", Generation: 3}}
				events := len(rec.reasons)
				res := o.finish(t.Context(), subject{
					obj: app, conditions: &app.Status.Conditions, observedGeneration: &app.Status.ObservedGeneration,
					action: "Sync", fallbackReason: "Fallback", timing: timing,
				}, st.next, st.err)
				where := fmt.Sprintf("step %d (%v)", i, st.err)
				if res.RequeueAfter != st.requeue {
					t.Errorf("%s: requeue after %s, want %s", where, res.RequeueAfter, st.requeue)
				}
				if st.ready != "" {
					if c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReady); c == nil || c.Status != st.ready {
						t.Errorf("%s: Ready = %+v, want %s", where, c, st.ready)
					}
				}
				if got := meta.IsStatusConditionTrue(app.Status.Conditions, cruisev1.ConditionStalled); got != st.stalled {
					t.Errorf("%s: Stalled = %v, want %v", where, got, st.stalled)
				}
				if got := app.Status.ObservedGeneration == 3; got != st.observed {
					t.Errorf("%s: observedGeneration = %d, want it set: %v", where, app.Status.ObservedGeneration, st.observed)
				}
				var got string
				if len(rec.reasons) > events {
					got = rec.reasons[len(rec.reasons)-1]
				}
				if got != st.wantEvent || len(rec.reasons) > events+1 {
					t.Errorf("%s: events %v, want one %q", where, rec.reasons[events:], st.wantEvent)
				}
			}
		})
	}
}
