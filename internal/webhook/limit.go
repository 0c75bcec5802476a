package webhook

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedReceivers bounds the failure limiter's memory: receivers come
// and go with Kubernetes objects, and the map is only keyed by names that
// exist, but a long-lived process should not grow without limit.
const maxTrackedReceivers = 4096

// failureLimiter throttles failed verifications per receiver: each failure
// spends a token, and a receiver with no token left is answered 429 without
// its signature being checked. Successful requests spend nothing, so a
// correctly configured sender is only refused while someone is hammering
// the same receiver with bad signatures; the operator's poll interval still
// picks the change up then.
type failureLimiter struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu       sync.Mutex
	limiters map[string]*rate.Limiter // guarded by mu
}

// newFailureLimiter returns nil (no limit) when burst is negative.
func newFailureLimiter(burst int, every time.Duration, now func() time.Time) *failureLimiter {
	if burst < 0 {
		return nil
	}
	return &failureLimiter{every: every, burst: burst, now: now, limiters: map[string]*rate.Limiter{}}
}

func (f *failureLimiter) limiter(name string) *rate.Limiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.limiters[name]
	if !ok {
		if len(f.limiters) >= maxTrackedReceivers {
			clear(f.limiters)
		}
		l = rate.NewLimiter(rate.Every(f.every), f.burst)
		f.limiters[name] = l
	}
	return l
}

// allow reports whether receiver name may attempt a verification now and,
// if not, how long until it may.
func (f *failureLimiter) allow(name string) (bool, time.Duration) {
	if f == nil {
		return true, 0
	}
	tokens := f.limiter(name).TokensAt(f.now())
	if tokens >= 1 {
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - tokens) * float64(f.every)))
	return false, wait
}

// fail records a failed verification for receiver name.
func (f *failureLimiter) fail(name string) {
	if f == nil {
		return
	}
	f.limiter(name).AllowN(f.now(), 1)
}
