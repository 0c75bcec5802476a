package oauth

import (
	"math"
	"sync"
	"time"
)

// throttle counts authentication failures per key and refuses further
// attempts for a growing lockout once a key has failed too often
// (draft-ietf-oauth-v2-1 section 7.4.3, brute force). Keys hold the source
// address (see ThrottleOptions for which), so that nobody can lock out a
// party at another address. State is per process: each replica throttles
// on its own.
type throttle struct {
	opts ThrottleOptions
	now  func() time.Time

	mu      sync.Mutex // guards entries
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures    int
	lockedUntil time.Time
	last        time.Time
}

func newThrottle(opts ThrottleOptions, now func() time.Time) *throttle {
	return &throttle{opts: opts, now: now, entries: map[string]*throttleEntry{}}
}

// wait returns how long key must wait before its next attempt; 0 means go.
func (t *throttle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e == nil {
		return 0
	}
	if d := e.lockedUntil.Sub(t.now()); d > 0 {
		return d
	}
	return 0
}

// fail records a failure of key.
func (t *throttle) fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.entries) > 100_000 {
		t.prune(now)
	}
	e := t.entries[key]
	if e == nil {
		e = &throttleEntry{}
		t.entries[key] = e
	}
	// Failures older than the longest lockout are forgotten.
	if now.Sub(e.last) > t.opts.MaxLockout {
		e.failures = 0
	}
	e.failures++
	e.last = now
	if over := e.failures - t.opts.MaxFailures; over >= 0 {
		d := time.Duration(float64(t.opts.Lockout) * math.Pow(2, float64(min(over, 30))))
		e.lockedUntil = now.Add(min(d, t.opts.MaxLockout))
	}
}

// succeed forgets the failures of key.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	delete(t.entries, key)
	t.mu.Unlock()
}

func (t *throttle) prune(now time.Time) {
	for k, e := range t.entries {
		if now.Sub(e.last) > t.opts.MaxLockout {
			delete(t.entries, k)
		}
	}
}

// rateLimiter is a token bucket per key.
type rateLimiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex // guards buckets
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: 2 * rate, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket, or reports how long to wait.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 100_000 {
			clear(l.buckets)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}
