package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"
)

// DefaultTimeout bounds one delivery attempt when the Provider sets none.
const DefaultTimeout = 15 * time.Second

// Options configure a Dispatcher; the zero value works.
type Options struct {
	// ServerURL is `cruise server`'s public URL; events about Applications
	// link to their page there. Empty: no links.
	ServerURL string
	// QueueSize bounds each Provider's queue; default 1000. When full,
	// the oldest message is dropped.
	QueueSize int
	// IntakeSize bounds the events waiting to be routed; default 16384.
	// Notify drops (and counts) events past it rather than block.
	IntakeSize int
	// DigestThreshold and DigestWindow: an Alert gets at most
	// DigestThreshold messages one by one per DigestWindow; the rest of
	// the window's events, and every event of the window after a window
	// that went over, are sent as one Digest at the window's end.
	// Defaults 20 and one minute.
	DigestThreshold int
	DigestWindow    time.Duration
	// RepeatWindow: the same drift reverted again on the same objects
	// within it is not sent again; default ten minutes.
	RepeatWindow time.Duration
	// MaxAttempts per message; default 6. MinBackoff doubles after each
	// failed attempt up to MaxBackoff (defaults 1s and 5m); a receiver's
	// Retry-After replaces it, up to MaxBackoff.
	MaxAttempts int
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
	// NewSender builds a Provider's Sender; default NewSender.
	NewSender func(ProviderConfig) (Sender, error)
	Metrics   *Metrics
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = 1000
	}
	if o.IntakeSize <= 0 {
		o.IntakeSize = 16384
	}
	if o.DigestThreshold <= 0 {
		o.DigestThreshold = 20
	}
	if o.DigestWindow <= 0 {
		o.DigestWindow = time.Minute
	}
	if o.RepeatWindow <= 0 {
		o.RepeatWindow = 10 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.NewSender == nil {
		o.NewSender = NewSender
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Dispatcher turns events into messages and delivers them. Notify never
// blocks: events wait in a bounded intake for one routing goroutine,
// which applies the once rules (router.go), matches Alerts, renders and
// pushes each message onto its Provider's queue (queue.go). Events that
// arrive before Run wait for it, so that the Alerts, the Providers and
// the failures already known (Seed) are in place when routing starts.
//
// Alerts and Providers are configured by the controller's reconcilers
// (SetAlert, SetProvider); the outcome of each delivery is kept per Alert
// (AlertState) and announced on Changed for their status.
type Dispatcher struct {
	opts   Options
	intake chan op

	mu        sync.Mutex
	alerts    map[Ref]*Alert      // guarded by mu
	providers map[Ref]*queue      // guarded by mu
	states    map[Ref]*AlertState // guarded by mu
	changed   map[Ref]struct{}    // guarded by mu
	runCtx    context.Context     // guarded by mu; nil until Run
	changedCh chan struct{}

	router *router
}

// op is an intake entry: an event, or an object to forget.
type op struct {
	ev     Event
	forget *ObjectRef
}

// NewDispatcher makes a Dispatcher; it routes once Run is called.
func NewDispatcher(o Options) *Dispatcher {
	o.defaults()
	d := &Dispatcher{
		opts:      o,
		intake:    make(chan op, o.IntakeSize),
		alerts:    map[Ref]*Alert{},
		providers: map[Ref]*queue{},
		states:    map[Ref]*AlertState{},
		changed:   map[Ref]struct{}{},
		changedCh: make(chan struct{}, 1),
	}
	d.router = newRouter(d)
	return d
}

// Notify hands an event over for routing. It never blocks; when the
// intake is full the event is dropped and counted.
func (d *Dispatcher) Notify(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = d.opts.Now()
	}
	select {
	case d.intake <- op{ev: ev}:
	default:
		d.opts.Metrics.drop("", dropIntake, 1)
	}
}

// Forget drops what the Dispatcher remembers of a deleted object: an open
// failure gets no Recovered.
func (d *Dispatcher) Forget(obj ObjectRef) {
	select {
	case d.intake <- op{forget: &obj}:
	default:
		d.opts.Metrics.drop("", dropIntake, 1)
	}
}

// Seed records failures that were already announced before this process
// started (read from the objects' status): the same failure is not sent
// again, and its end is sent as a Recovered to the Alerts that select the
// failure then. Call it before Run.
func (d *Dispatcher) Seed(failures ...Event) {
	d.router.seed(failures)
}

// Run routes events and delivers messages until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	d.runCtx = ctx
	for _, q := range d.providers {
		q.start(ctx)
	}
	d.mu.Unlock()
	tick := min(max(d.opts.DigestWindow/10, 10*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			d.mu.Lock()
			queues := make([]*queue, 0, len(d.providers))
			for _, q := range d.providers {
				queues = append(queues, q)
			}
			d.mu.Unlock()
			for _, q := range queues {
				q.stop()
			}
			return nil
		case o := <-d.intake:
			d.router.handle(o)
		case <-t.C:
			d.router.tick(d.opts.Now())
		}
	}
}

// SetProvider configures (or reconfigures) a Provider. Its queue is kept
// across changes of address or credentials; a new type starts a new one.
// An error from the sender's constructor removes the Provider: it
// cannot deliver.
func (d *Dispatcher) SetProvider(ref Ref, cfg ProviderConfig, suspend bool) error {
	d.mu.Lock()
	q := d.providers[ref]
	if q != nil {
		q.mu.Lock()
		same := reflect.DeepEqual(q.cfg, cfg)
		q.suspended = suspend
		q.mu.Unlock()
		if same {
			d.mu.Unlock()
			return nil
		}
	}
	d.mu.Unlock()
	s, err := d.opts.NewSender(cfg)
	if err != nil {
		d.RemoveProvider(ref)
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if q := d.providers[ref]; q != nil {
		q.mu.Lock()
		sameType := q.cfg.Type == cfg.Type
		if sameType {
			q.cfg, q.sender, q.suspended = cfg, s, suspend
		}
		q.mu.Unlock()
		if sameType {
			return nil
		}
		delete(d.providers, ref)
		go q.stop()
	}
	q = newQueue(d, ref, cfg, s)
	q.suspended = suspend
	d.providers[ref] = q
	if d.runCtx != nil {
		q.start(d.runCtx)
	}
	return nil
}

// RemoveProvider stops a Provider's deliveries and drops its queue.
func (d *Dispatcher) RemoveProvider(ref Ref) {
	d.mu.Lock()
	q := d.providers[ref]
	delete(d.providers, ref)
	d.mu.Unlock()
	if q != nil {
		q.stop()
	}
}

// SetAlert adds or replaces an Alert.
func (d *Dispatcher) SetAlert(a *Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts[a.Ref()] = a
}

// RemoveAlert forgets an Alert and its delivery state.
func (d *Dispatcher) RemoveAlert(ref Ref) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.alerts, ref)
	delete(d.states, ref)
	delete(d.changed, ref)
}

// Delivery is the outcome of a delivery attempt for an Alert.
type Delivery struct {
	Time     time.Time
	Type     EventType
	Object   string
	Attempts int
	// Error of the attempt; "" when delivered. While retrying it says so.
	Error string
}

// AlertState is what an Alert's status reports of its deliveries.
type AlertState struct {
	// LastDelivery is the latest attempt's outcome; nil before any.
	LastDelivery *Delivery
	// TemplateError is the last render error of the Alert's templates;
	// "" once a render succeeds.
	TemplateError string
}

// AlertState returns a copy of an Alert's delivery state.
func (d *Dispatcher) AlertState(ref Ref) AlertState {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.states[ref]
	if s == nil {
		return AlertState{}
	}
	out := *s
	if s.LastDelivery != nil {
		ld := *s.LastDelivery
		out.LastDelivery = &ld
	}
	return out
}

// Changed signals (coalesced) that some Alert's state changed; TakeChanged
// says which.
func (d *Dispatcher) Changed() <-chan struct{} { return d.changedCh }

// TakeChanged returns the Alerts whose state changed since the last call,
// sorted.
func (d *Dispatcher) TakeChanged() []Ref {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Ref, 0, len(d.changed))
	for r := range d.changed {
		out = append(out, r)
	}
	clear(d.changed)
	slices.SortFunc(out, func(a, b Ref) int {
		if a.Namespace != b.Namespace {
			return compareStrings(a.Namespace, b.Namespace)
		}
		return compareStrings(a.Name, b.Name)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// markChangedLocked notes a state change; d.mu is held.
func (d *Dispatcher) markChangedLocked(ref Ref) {
	d.changed[ref] = struct{}{}
	select {
	case d.changedCh <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) stateLocked(ref Ref) *AlertState {
	s := d.states[ref]
	if s == nil {
		s = &AlertState{}
		d.states[ref] = s
	}
	return s
}

// recordDelivery keeps an attempt's outcome for the Alert's status.
func (d *Dispatcher) recordDelivery(alert Ref, ev Event, attempts int, err error, final bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.alerts[alert]; !ok {
		return // removed meanwhile
	}
	del := &Delivery{Time: d.opts.Now(), Type: ev.Type, Object: ev.Object.String(), Attempts: attempts}
	if err != nil {
		del.Error = err.Error()
		level := slog.LevelWarn
		if !final {
			level = slog.LevelInfo
		}
		d.opts.Logger.Log(context.Background(), level, "notification not delivered", "alert", alert.String(),
			"event", ev.ID, "type", string(ev.Type), "object", del.Object, "attempts", attempts, "error", del.Error)
	}
	d.stateLocked(alert).LastDelivery = del
	d.markChangedLocked(alert)
}

// recordTemplate keeps the outcome of a render for the Alert's status.
func (d *Dispatcher) recordTemplate(alert Ref, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stateLocked(alert)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if s.TemplateError != msg {
		s.TemplateError = msg
		d.markChangedLocked(alert)
	}
}

// newID is a random 128-bit hex identifier.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// matching lists, sorted, the Alerts that select ev and whose Provider
// can deliver.
func (d *Dispatcher) matching(ev Event) []*Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*Alert
	for _, a := range d.alerts {
		if a.Selects(ev) && d.deliversLocked(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *Alert) int { return compareStrings(a.Ref().String(), b.Ref().String()) })
	return out
}

// deliversLocked reports whether a's Provider is configured and not
// suspended; d.mu is held.
func (d *Dispatcher) deliversLocked(a *Alert) bool {
	q := d.providers[a.ProviderRef()]
	if q == nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.suspended
}

// alert returns a configured Alert, or nil.
func (d *Dispatcher) alert(ref Ref) *Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.alerts[ref]
}

// usableAlert returns an Alert that is not suspended and whose Provider
// delivers, or nil.
func (d *Dispatcher) usableAlert(ref Ref) *Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.alerts[ref]
	if a == nil || a.spec.Suspend || !d.deliversLocked(a) {
		return nil
	}
	return a
}

// queueOf is a's Provider's queue, or nil.
func (d *Dispatcher) queueOf(a *Alert) *queue {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.providers[a.ProviderRef()]
}
