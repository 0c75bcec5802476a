package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// queue is one Provider's bounded FIFO of messages and the goroutine that
// delivers them, one at a time and in order (a Recovered never overtakes
// its Failed). A message is retried in place while its errors are
// retryable, so a dead receiver holds up its own queue only: every other
// Provider has a goroutine of its own, and pushing never blocks. When the
// queue is full the oldest message is dropped (and counted): the newest
// say how things are now.
type queue struct {
	ref Ref
	d   *Dispatcher

	mu        sync.Mutex
	cfg       ProviderConfig // guarded by mu
	sender    Sender         // guarded by mu
	suspended bool           // guarded by mu
	items     []item         // guarded by mu
	cancel    context.CancelFunc
	done      chan struct{} // closed when the worker ends; nil before start

	wake chan struct{}
}

type item struct {
	alert Ref
	msg   Message
}

func newQueue(d *Dispatcher, ref Ref, cfg ProviderConfig, s Sender) *queue {
	return &queue{ref: ref, d: d, cfg: cfg, sender: s, wake: make(chan struct{}, 1)}
}

// start runs the worker until ctx ends or stop is called.
func (q *queue) start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	q.mu.Lock()
	q.cancel = cancel
	q.done = make(chan struct{})
	q.mu.Unlock()
	go q.work(ctx)
}

// stop ends the worker, waits for it, and drops what is left.
func (q *queue) stop() {
	q.mu.Lock()
	cancel, done := q.cancel, q.done
	q.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	q.mu.Lock()
	left := q.items
	q.items = nil
	typ := q.cfg.Type
	q.mu.Unlock()
	q.d.opts.Metrics.queued(typ, -len(left))
	q.d.opts.Metrics.drop(typ, dropRemoved, len(left))
	for _, it := range left {
		q.d.recordDelivery(it.alert, it.msg.Event, 0, fmt.Errorf("not delivered: Provider %s was removed or changed", q.ref), true)
	}
}

// push appends a message, dropping the oldest when full. It never blocks.
func (q *queue) push(it item) {
	q.mu.Lock()
	var dropped *item
	if len(q.items) >= q.d.opts.QueueSize {
		dropped = &q.items[0]
		q.items = q.items[1:]
	}
	q.items = append(q.items, it)
	typ := q.cfg.Type
	q.mu.Unlock()
	if dropped != nil {
		q.d.opts.Metrics.drop(typ, dropQueueFull, 1)
		q.d.recordDelivery(dropped.alert, dropped.msg.Event, 0,
			fmt.Errorf("dropped: the queue of Provider %s is full (%d messages)", q.ref, q.d.opts.QueueSize), true)
	} else {
		q.d.opts.Metrics.queued(typ, 1)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take removes and returns the first message, waiting for one. It stays
// counted in the depth gauge until done.
func (q *queue) take(ctx context.Context) (item, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return it, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return item{}, false
		case <-q.wake:
		}
	}
}

// current is the sender, type and attempt timeout to use now; a changed
// Provider (a new token) takes effect at the next attempt.
func (q *queue) current() (Sender, string, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := q.cfg.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	return q.sender, q.cfg.Type, t
}

func (q *queue) work(ctx context.Context) {
	defer close(q.done)
	for {
		it, ok := q.take(ctx)
		if !ok {
			return
		}
		q.deliver(ctx, it)
		_, typ, _ := q.current()
		q.d.opts.Metrics.queued(typ, -1)
	}
}

// deliver makes attempts until one succeeds, an error is final, the
// attempts run out, or ctx ends. Each attempt's outcome reaches the
// Alert's status.
func (q *queue) deliver(ctx context.Context, it item) {
	o := q.d.opts
	for attempt := 1; ; attempt++ {
		sender, typ, timeout := q.current()
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := sender.Send(actx, it.msg)
		cancel()
		if ctx.Err() != nil {
			return // shutting down, or the Provider was removed
		}
		if err == nil {
			o.Metrics.delivered(typ, o.Now().Sub(it.msg.Event.Time))
			q.d.recordDelivery(it.alert, it.msg.Event, attempt, nil, true)
			return
		}
		if !errors.Is(err, ErrRetryable) || attempt >= o.MaxAttempts {
			o.Metrics.gaveUp(typ)
			if errors.Is(err, ErrRetryable) {
				err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			q.d.recordDelivery(it.alert, it.msg.Event, attempt, err, true)
			return
		}
		delay := backoff(o.MinBackoff, o.MaxBackoff, attempt, err)
		q.d.recordDelivery(it.alert, it.msg.Event, attempt, fmt.Errorf("%w; retrying in %s", err, delay.Round(time.Millisecond)), false)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff is the wait after the given failed attempt: what a
// RetryAfterError asks for, else min doubled per attempt; at most max.
func backoff(min, max time.Duration, attempt int, err error) time.Duration {
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > 0 {
		return minDuration(ra.After, max)
	}
	d := min
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return minDuration(d, max)
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}
