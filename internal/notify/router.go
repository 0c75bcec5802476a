package notify

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// router applies the rules that make notifications come once, not as a
// flood. It runs on the Dispatcher's routing goroutine (its mutex only
// guards against Seed).
//
//   - Failure episodes. A Failed or HealthDegraded opens an episode for
//     its object; within it, each cause (Key: type, object, reason and the
//     message stripped of volatile text) reaches each Alert once, however
//     often the controller retries. A Recovered closes the episode and
//     goes to every Alert that got one of its failures, whatever the
//     Alert's severity; a Recovered with no open episode is dropped.
//   - Repeats. The same drift reverted on the same objects within
//     RepeatWindow is sent once.
//   - Digests. Each Alert gets at most DigestThreshold messages one by one
//     per DigestWindow; past that, the window's further events, and all
//     events of the next window, are collected and sent as one Digest
//     when the window ends (a digest of one event is sent as that event).
//     A quiet window ends digest mode.
type router struct {
	d *Dispatcher

	mu       sync.Mutex
	episodes map[ObjectRef]*episode // guarded by mu; keyed without UID
	repeats  map[string]time.Time   // guarded by mu; drift key → last sent
	windows  map[Ref]*window        // guarded by mu; per Alert
}

// maxCauses bounds an episode's distinct causes; past it, further ones
// are treated as repeats (a message that normalisation cannot tame must
// not flood).
const maxCauses = 64

// maxDigestMessage bounds each event's message inside a digest.
const maxDigestMessage = 512

type episode struct {
	causes map[string]*cause
}

// cause is one distinct failure of an episode and the Alerts it reached.
type cause struct {
	got map[Ref]bool
	// seeded: announced before this process started, to unknown Alerts;
	// every Alert selecting ev is taken to have got it.
	seeded bool
	ev     Event
}

type window struct {
	end       time.Time
	count     int
	digesting bool
	pending   []Event
}

func newRouter(d *Dispatcher) *router {
	return &router{d: d, episodes: map[ObjectRef]*episode{}, repeats: map[string]time.Time{}, windows: map[Ref]*window{}}
}

func objKey(o ObjectRef) ObjectRef {
	return ObjectRef{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// complete fills what the controller leaves to the Dispatcher: a new
// id, the version, the severity, the link.
func (r *router) complete(ev Event) Event {
	ev.Version = PayloadVersion
	ev.ID = newID()
	if ev.Time.IsZero() {
		ev.Time = r.d.opts.Now()
	}
	ev.Severity = severityOf(ev.Type)
	if ev.URL == "" && ev.Object.Kind == "Application" {
		ev.URL = ApplicationURL(r.d.opts.ServerURL, ev.Object.Namespace, ev.Object.Name)
	}
	return ev
}

func (r *router) seed(failures []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range failures {
		if !f.Type.IsFailure() {
			continue
		}
		f = r.complete(f)
		ep := r.episode(f.Object)
		if len(ep.causes) < maxCauses {
			ep.causes[Key(f)] = &cause{got: map[Ref]bool{}, seeded: true, ev: f}
		}
	}
}

func (r *router) episode(o ObjectRef) *episode {
	k := objKey(o)
	ep := r.episodes[k]
	if ep == nil {
		ep = &episode{causes: map[string]*cause{}}
		r.episodes[k] = ep
	}
	return ep
}

func (r *router) handle(o op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.forget != nil {
		delete(r.episodes, objKey(*o.forget))
		return
	}
	ev := r.complete(o.ev)
	now := r.d.opts.Now()
	switch {
	case ev.Type.IsFailure():
		r.failure(ev, now)
	case ev.Type == Recovered:
		r.recovered(ev, now)
	case ev.Type == DriftReverted && r.repeated(ev, now):
		r.d.opts.Metrics.suppress("repeat")
	default:
		for _, a := range r.d.matching(ev) {
			r.send(a, ev, now)
		}
	}
}

func (r *router) failure(ev Event, now time.Time) {
	ep := r.episode(ev.Object)
	key := Key(ev)
	c := ep.causes[key]
	if c == nil {
		if len(ep.causes) >= maxCauses {
			r.d.opts.Metrics.suppress("duplicate")
			return
		}
		c = &cause{got: map[Ref]bool{}, ev: ev}
		ep.causes[key] = c
	}
	sent := false
	for _, a := range r.d.matching(ev) {
		if c.seeded || c.got[a.Ref()] {
			continue
		}
		c.got[a.Ref()] = true
		r.send(a, ev, now)
		sent = true
	}
	if !sent {
		r.d.opts.Metrics.suppress("duplicate")
	}
}

func (r *router) recovered(ev Event, now time.Time) {
	k := objKey(ev.Object)
	ep := r.episodes[k]
	if ep == nil {
		return
	}
	delete(r.episodes, k)
	to := map[Ref]bool{}
	for _, c := range ep.causes {
		for a := range c.got {
			to[a] = true
		}
		if c.seeded {
			for _, a := range r.d.matching(c.ev) {
				to[a.Ref()] = true
			}
		}
	}
	refs := make([]Ref, 0, len(to))
	for a := range to {
		refs = append(refs, a)
	}
	slices.SortFunc(refs, func(a, b Ref) int { return compareStrings(a.String(), b.String()) })
	for _, ref := range refs {
		if a := r.d.usableAlert(ref); a != nil {
			r.send(a, ev, now)
		}
	}
}

func (r *router) repeated(ev Event, now time.Time) bool {
	key := Key(ev) + fmt.Sprint(ev.Objects)
	if last, ok := r.repeats[key]; ok && now.Sub(last) < r.d.opts.RepeatWindow {
		return true
	}
	r.repeats[key] = now
	return false
}

// send delivers ev to a now, or keeps it for the window's digest.
func (r *router) send(a *Alert, ev Event, now time.Time) {
	ref := a.Ref()
	w := r.windows[ref]
	if w != nil && !now.Before(w.end) {
		w = r.closeWindow(ref, w, now)
	}
	if w == nil {
		w = &window{end: now.Add(r.d.opts.DigestWindow)}
		r.windows[ref] = w
	}
	w.count++
	if !w.digesting && w.count <= r.d.opts.DigestThreshold {
		r.deliver(a, ev)
		return
	}
	w.pending = append(w.pending, ev)
}

// tick closes the windows that ended and forgets old repeats.
func (r *router) tick(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ref, w := range r.windows {
		if !now.Before(w.end) {
			r.closeWindow(ref, w, now)
		}
	}
	for k, t := range r.repeats {
		if now.Sub(t) >= r.d.opts.RepeatWindow {
			delete(r.repeats, k)
		}
	}
}

// closeWindow sends the window's digest and returns the window that
// follows: one in digest mode if this one went over the threshold and it
// has not ended yet, else nil.
func (r *router) closeWindow(ref Ref, w *window, now time.Time) *window {
	delete(r.windows, ref)
	if a := r.d.alert(ref); a != nil {
		r.flush(a, w.pending, now)
	}
	if w.count <= r.d.opts.DigestThreshold {
		return nil
	}
	next := &window{end: w.end.Add(r.d.opts.DigestWindow), digesting: true}
	if !now.Before(next.end) {
		return nil
	}
	r.windows[ref] = next
	return next
}

func (r *router) flush(a *Alert, pending []Event, now time.Time) {
	switch len(pending) {
	case 0:
		return
	case 1:
		r.deliver(a, pending[0])
		return
	}
	ref := a.Ref()
	dg := Event{
		Version: PayloadVersion, ID: newID(), Time: now, Type: Digest, Severity: SeverityInfo,
		Object: ObjectRef{Kind: "Alert", Namespace: ref.Namespace, Name: ref.Name},
		Events: make([]Event, len(pending)),
	}
	for i, e := range pending {
		if e.Severity == SeverityError {
			dg.Severity = SeverityError
		}
		e.Message = truncate(maxDigestMessage, e.Message)
		if len(e.Objects) > 10 {
			e.Objects = e.Objects[:10]
		}
		e.Labels, e.Events = nil, nil
		dg.Events[i] = e
	}
	dg.Message = fmt.Sprintf("%d events in %s: %s", len(pending), ref.Namespace, countTypes(pending))
	r.d.opts.Metrics.digest()
	r.deliver(a, dg)
}

// deliver renders ev for a and queues it on a's Provider.
func (r *router) deliver(a *Alert, ev Event) {
	msg, err := a.Render(ev)
	r.d.recordTemplate(a.Ref(), err)
	q := r.d.queueOf(a)
	if q == nil {
		r.d.opts.Metrics.drop("", dropNoSender, 1)
		return
	}
	q.push(item{alert: a.Ref(), msg: msg})
}
