package controller

import (
	"context"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// outcomes turns the end of a reconcile into conditions, an event, a
// notification, a log line and the requeue, for every reconciler: it is
// the one place that decides what an error means.
//
// No error goes back to the workqueue: its backoff starts at 5 ms and
// knows nothing of an object's intervals. Failures are retried on the
// object's own schedule (see retry.go) instead.
type outcomes struct {
	recorder events.EventRecorder
	rand     func() float64 // in [0, 1), for jitter
	failures failureCounts
	// notices tells the Notifier (see notifying); none by default.
	notices notices
}

func newOutcomes(recorder events.EventRecorder) *outcomes {
	return &outcomes{recorder: recorder, rand: rand.Float64}
}

// subject is what outcomes needs of the object a reconcile was about.
type subject struct {
	obj        client.Object
	conditions *[]metav1.Condition
	// observedGeneration is the status field, set once a reconcile of the
	// object's generation has finished, in success or failure; not while
	// it only waits (for a dependency, a source).
	observedGeneration *int64
	// action names the work in events: "Sync", "Fetch", "Delete".
	action string
	// reason for errors that are not phase errors.
	fallbackReason string
	timing         retryTiming
}

// finish decides the outcome. next is when to come back after a success
// (0: only when something changes).
//
//   - success: the failure count is reset; requeue after next, jittered.
//   - waiting error: not a failure; Ready False with the reason,
//     Reconciling True; requeue after the error's delay, jittered.
//   - stalling or transient error: Ready False, Stalled True for stalling
//     ones; a Warning event and an error log; retried after the backoff
//     delay for this many failures in a row, jittered.
func (o *outcomes) finish(ctx context.Context, s subject, next time.Duration, err error) ctrl.Result {
	key := client.ObjectKeyFromObject(s.obj)
	gen := s.obj.GetGeneration()
	if err == nil {
		o.failures.reset(key)
		*s.observedGeneration = gen
		o.notices.succeeded(s)
		return ctrl.Result{RequeueAfter: jitter(next, o.rand)}
	}
	pe := asPhaseError(err, s.fallbackReason)
	markFailed(s.conditions, gen, pe)
	if pe.Waiting {
		log.FromContext(ctx).V(1).Info("waiting", "reason", pe.Reason, "message", pe.Error(), "requeueAfter", pe.RequeueAfter)
		return ctrl.Result{RequeueAfter: jitter(pe.RequeueAfter, o.rand)}
	}
	*s.observedGeneration = gen
	failures := o.failures.add(key)
	countFailure(o.recorder, s.obj, pe.Reason)
	after := jitter(s.timing.delay(failures), o.rand)
	o.recorder.Eventf(s.obj, nil, corev1.EventTypeWarning, pe.Reason, s.action, "%s", pe.Error())
	o.notices.failed(s, pe)
	log.FromContext(ctx).Error(pe.Err, s.action+" failed", "reason", pe.Reason, "stalled", pe.Stalling,
		"failures", failures, "retryAfter", after.Round(time.Millisecond))
	return ctrl.Result{RequeueAfter: after}
}

// forget drops what outcomes remembers of a deleted object.
func (o *outcomes) forget(key client.ObjectKey) {
	o.failures.reset(key)
	o.notices.forget(key)
}
