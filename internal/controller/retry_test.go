package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestNewRetryTiming(t *testing.T) {
	d := func(v time.Duration) *metav1.Duration { return &metav1.Duration{Duration: v} }
	for _, tc := range []struct {
		name     string
		interval time.Duration
		retry    *metav1.Duration
		want     time.Duration
	}{
		{"default is interval/5", 10 * time.Minute, nil, 2 * time.Minute},
		{"default is at least 10s", 30 * time.Second, nil, 10 * time.Second},
		{"default never exceeds the interval", 5 * time.Second, nil, 5 * time.Second},
		{"spec.retryInterval wins", time.Hour, d(time.Second), time.Second},
		{"zero spec.retryInterval means the default", 10 * time.Minute, d(0), 2 * time.Minute},
		{"spec.retryInterval above the interval is cut to it", time.Minute, d(5 * time.Minute), time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newRetryTiming(tc.interval, tc.retry)
			if got.Retry != tc.want || got.Interval != tc.interval {
				t.Errorf("newRetryTiming(%s, %v) = %+v, want Retry %s", tc.interval, tc.retry, got, tc.want)
			}
		})
	}
}

func TestRetryDelayBacksOffToTheInterval(t *testing.T) {
	timing := retryTiming{Interval: time.Minute, Retry: 10 * time.Second}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{4, time.Minute},
		{5, time.Minute},
		{1000, time.Minute}, // no overflow
	} {
		if got := timing.delay(tc.failures); got != tc.want {
			t.Errorf("delay after %d failures = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

func TestJitterOnlyLengthens(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		rnd  float64
		want time.Duration
	}{
		{"no jitter", time.Minute, 0, time.Minute},
		{"half", time.Minute, 0.5, time.Minute + 3*time.Second},
		{"almost the most", 10 * time.Second, 0.999, 10*time.Second + 999*time.Millisecond},
		{"zero stays zero: no requeue", 0, 0.7, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jitter(tc.d, func() float64 { return tc.rnd }); got != tc.want {
				t.Errorf("jitter(%s) with rand %v = %s, want %s", tc.d, tc.rnd, got, tc.want)
			}
		})
	}
}

// TestJitterSpreadsRequeues: objects failing together come back spread
// over the jitter window, not in lockstep.
func TestJitterSpreadsRequeues(t *testing.T) {
	seq := 0.0
	rnd := func() float64 { seq += 0.001; return seq - 0.001 } // 0, 0.001, ..., 0.999
	seen := map[time.Duration]bool{}
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for range 1000 {
		d := jitter(100*time.Second, rnd)
		seen[d] = true
		lo, hi = min(lo, d), max(hi, d)
	}
	if len(seen) < 900 {
		t.Errorf("1000 requeues fell on %d distinct times", len(seen))
	}
	if lo < 100*time.Second || hi >= 110*time.Second {
		t.Errorf("requeues spread over [%s, %s], want within [100s, 110s)", lo, hi)
	}
}

func TestFailureCountsResetOnSuccess(t *testing.T) {
	var f failureCounts
	a := types.NamespacedName{Namespace: "ns", Name: "a"}
	b := types.NamespacedName{Namespace: "ns", Name: "b"}
	if f.add(a) != 1 || f.add(a) != 2 || f.add(b) != 1 {
		t.Fatal("failures are not counted per object")
	}
	f.reset(a)
	if n := f.add(a); n != 1 {
		t.Errorf("after a success the next failure is number %d, want 1", n)
	}
}
