package controller

import (
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// When a reconcile comes back. A failure is retried after the first retry
// interval, then after twice that, four times that, and so on up to the
// object's interval; the count is per object and a success resets it.
// Every requeue, success resyncs included, is lengthened by a random
// jitter, so that a thousand objects created, or failing, together do not
// come back in lockstep.

// jitterFraction is the most a requeue is lengthened, as a fraction of it.
// Jitter only ever lengthens: a resync woken before it is due would find
// nothing to do and have to be requeued again.
const jitterFraction = 0.1

// minRetry is the shortest default first retry.
const minRetry = 10 * time.Second

// retryTiming is one object's schedule.
type retryTiming struct {
	// Interval between resyncs; also the longest wait after a failure.
	Interval time.Duration
	// Retry is the wait after the first failure.
	Retry time.Duration
}

// newRetryTiming builds the schedule of an object: retry is its
// spec.retryInterval when set, else interval/5 but at least minRetry;
// never more than interval.
func newRetryTiming(interval time.Duration, retry *metav1.Duration) retryTiming {
	t := retryTiming{Interval: interval, Retry: max(interval/5, minRetry)}
	if retry != nil && retry.Duration > 0 {
		t.Retry = retry.Duration
	}
	t.Retry = min(t.Retry, interval)
	return t
}

// delay is the wait before retrying after the given number of consecutive
// failures (1 for the first): Retry doubled failures-1 times, at most
// Interval.
func (t retryTiming) delay(failures int) time.Duration {
	d := t.Retry
	for i := 1; i < failures && d < t.Interval; i++ {
		d *= 2
	}
	return min(d, t.Interval)
}

// jitter lengthens d by a random part of up to jitterFraction of it; rnd
// returns a number in [0, 1).
func jitter(d time.Duration, rnd func() float64) time.Duration {
	return d + time.Duration(float64(d)*jitterFraction*rnd())
}

// failureCounts counts each object's consecutive failed reconciles. It is
// safe for concurrent use; the zero value is ready.
type failureCounts struct {
	mu sync.Mutex
	n  map[types.NamespacedName]int // guarded by mu
}

// add records a failure and returns how many there were in a row.
func (f *failureCounts) add(key types.NamespacedName) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[types.NamespacedName]int{}
	}
	f.n[key]++
	return f.n[key]
}

// reset forgets the failures of an object that succeeded or is gone.
func (f *failureCounts) reset(key types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.n, key)
}
