package notify_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/notify/notifytest"
)

func app(name string) string { return "Application/team-a/" + name }

func recovered(name string) notify.Event {
	return notify.Event{Type: notify.Recovered, Object: notify.ObjectRef{Kind: "Application", Namespace: "team-a", Name: name},
		Reason: "Succeeded", Revision: "main@sha1:" + sha, Labels: map[string]string{"tier": "prod"}}
}

// waitCount waits until sink accepted want events of typ about obj, then
// checks it stays at want while the dispatcher drains what it was given.
func waitCount(t *testing.T, sink *notifytest.Sink, typ notify.EventType, obj string, want int) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("%d %s of %s", want, typ, obj), func() (bool, string) {
		n := sink.Count(typ, obj)
		return n == want, fmt.Sprintf("%d", n)
	})
}

// TestOnceNotAFlood: retries of one failure (their messages differing in
// volatile text) reach each Alert once; the Recovered goes to every Alert
// that got the failure, the severity-error one included, once; a new
// cause is sent again; a Recovered without a failure is not sent.
func TestOnceNotAFlood(t *testing.T) {
	r := newRig(t, notify.Options{}).start()
	infoSink, errSink := notifytest.NewSink(t, nil), notifytest.NewSink(t, nil)
	r.provider("info", infoSink.URL, time.Second)
	r.provider("errors", errSink.URL, time.Second)
	r.alert("all", "info", notify.SeverityInfo, nil)
	r.alert("errors-only", "errors", notify.SeverityError, nil)

	r.d.Notify(recovered("web")) // nothing failed: nothing to say
	synced := failedEvent("web")
	synced.Type, synced.Reason = notify.Synced, "Succeeded"
	r.d.Notify(synced)
	for i := range 5 {
		ev := failedEvent("web")
		ev.Message = fmt.Sprintf("render app at main@sha1:%040d: render: app/a.yaml:%d: bad, after %ds", i, 3, i*10)
		r.d.Notify(ev)
	}
	waitCount(t, infoSink, notify.Failed, app("web"), 1)
	waitCount(t, errSink, notify.Failed, app("web"), 1)
	if n := errSink.Count(notify.Synced); n != 0 {
		t.Errorf("the severity error Alert got %d Synced", n)
	}
	waitCount(t, infoSink, notify.Synced, app("web"), 1)

	other := failedEvent("web")
	other.Reason, other.Message = "ValidationFailed", "apply: ConfigMap/team-a/a (app/a.yaml): invalid"
	r.d.Notify(other)
	waitCount(t, infoSink, notify.Failed, app("web"), 2)

	r.d.Notify(recovered("web"))
	r.d.Notify(recovered("web"))
	waitCount(t, infoSink, notify.Recovered, app("web"), 1)
	waitCount(t, errSink, notify.Recovered, app("web"), 1)

	// Everything handed over has been routed once a later event arrives
	// (one routing goroutine): the counts above are final.
	marker := failedEvent("marker")
	r.d.Notify(marker)
	waitCount(t, infoSink, notify.Failed, app("marker"), 1)
	if n := infoSink.Count(notify.Recovered); n != 1 {
		t.Errorf("%d Recovered at the info receiver, want 1", n)
	}
	if n := errSink.Count(notify.Failed, app("web")); n != 2 {
		t.Errorf("%d Failed at the error receiver, want 2 (two causes)", n)
	}
	if got := r.metric("cruise_notifications_suppressed_total", "reason", "duplicate"); got != 4 {
		t.Errorf("suppressed duplicates %v, want 4", got)
	}
	// Ids are unique per event.
	seen := map[string]bool{}
	for _, e := range infoSink.Delivered() {
		if seen[e.ID] || len(e.ID) != 32 {
			t.Errorf("id %q repeated or malformed", e.ID)
		}
		seen[e.ID] = true
	}
}

// TestNewAlertGetsOngoingFailure: an Alert added while a failure goes on
// gets it at the next retry, once; the first Alert does not get it again.
func TestNewAlertGetsOngoingFailure(t *testing.T) {
	r := newRig(t, notify.Options{}).start()
	a, b := notifytest.NewSink(t, nil), notifytest.NewSink(t, nil)
	r.provider("a", a.URL, time.Second)
	r.provider("b", b.URL, time.Second)
	r.alert("a", "a", notify.SeverityError, nil)
	r.d.Notify(failedEvent("web"))
	waitCount(t, a, notify.Failed, app("web"), 1)
	r.alert("b", "b", notify.SeverityError, nil)
	r.d.Notify(failedEvent("web"))
	r.d.Notify(failedEvent("web"))
	waitCount(t, b, notify.Failed, app("web"), 1)
	r.d.Notify(recovered("web"))
	waitCount(t, a, notify.Recovered, app("web"), 1)
	waitCount(t, b, notify.Recovered, app("web"), 1)
	if n := a.Count(notify.Failed); n != 1 {
		t.Errorf("the first Alert got %d Failed, want 1", n)
	}
}

// TestSeededFailure: a failure known from status when the process starts
// is not sent again; its end is sent to the Alerts that select it.
func TestSeededFailure(t *testing.T) {
	r := newRig(t, notify.Options{})
	sink := notifytest.NewSink(t, nil)
	r.provider("p", sink.URL, time.Second)
	r.alert("errors", "p", notify.SeverityError, nil)
	seeded := failedEvent("web")
	seeded.Message = seeded.Message[:60] // as a condition may have kept it
	r.d.Seed(seeded)
	r.d.Notify(failedEvent("web"))
	r.start()
	retry := failedEvent("web")
	retry.Message = seeded.Message
	r.d.Notify(retry)
	r.d.Notify(recovered("web"))
	waitCount(t, sink, notify.Recovered, app("web"), 1)
	// The full message is another cause than the seeded truncation here;
	// the seeded one itself was not re-sent.
	if n := sink.Count(notify.Failed); n != 1 {
		t.Errorf("%d Failed sent, want 1 (the unseeded cause)", n)
	}
}

// TestDigest: a burst past the threshold becomes one Digest at the end of
// the window; the window after a burst digests too; a quiet one ends it,
// and a single failure is then sent on its own at once.
func TestDigest(t *testing.T) {
	const window = time.Minute
	clock := &fakeClock{}
	clock.set(time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC))
	r := newRig(t, notify.Options{DigestThreshold: 5, DigestWindow: window, Now: clock.now}).start()
	sink := notifytest.NewSink(t, nil)
	r.provider("p", sink.URL, time.Second)
	r.alert("errors", "p", notify.SeverityError, nil)
	for i := range 30 {
		r.d.Notify(failedEvent(fmt.Sprintf("app-%02d", i)))
	}
	eventually(t, 10*time.Second, "5 Failed at once", func() (bool, string) {
		return sink.Count(notify.Failed) == 5, fmt.Sprint(sink.Count(notify.Failed))
	})
	r.routed()
	if n := len(sink.Requests()); n != 5 {
		t.Errorf("%d messages sent before the window ended, want 5", n)
	}
	clock.add(window)
	eventually(t, 10*time.Second, "one Digest when the window ends", func() (bool, string) {
		return sink.Count(notify.Digest) == 1, fmt.Sprint(sink.Count(notify.Digest))
	})
	var dg notify.Event
	for _, e := range sink.Delivered() {
		if e.Type == notify.Digest {
			dg = e
		}
	}
	if len(dg.Events) != 25 || dg.Severity != notify.SeverityError || dg.Object.String() != "Alert/team-a/errors" {
		t.Errorf("digest of %d events, severity %s, object %s; want 25, error, Alert/team-a/errors", len(dg.Events), dg.Severity, dg.Object)
	}
	if !strings.Contains(dg.Message, "25 events in team-a: 25 Failed") {
		t.Errorf("digest message %q", dg.Message)
	}
	// Recoveries in the window after the burst are digested too.
	for i := range 3 {
		r.d.Notify(recovered(fmt.Sprintf("app-%02d", i)))
	}
	r.d.Notify(recovered("app-01")) // already recovered: nothing
	r.routed()
	clock.add(window)
	eventually(t, 10*time.Second, "a second Digest of 3 Recovered", func() (bool, string) {
		return sink.Count(notify.Digest) == 2, fmt.Sprintf("%d Digest, %d Recovered", sink.Count(notify.Digest), sink.Count(notify.Recovered))
	})
	if n := sink.Count(notify.Recovered); n != 0 {
		t.Errorf("%d Recovered sent one by one while digesting", n)
	}
	// That window was quiet: the next failure is its own message, at
	// once, with the clock standing still.
	r.d.Notify(failedEvent("single"))
	waitCount(t, sink, notify.Failed, app("single"), 1)
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) add(d time.Duration) { c.set(c.now().Add(d)) }

// TestRetriesAndIDs: the queue retries 429 (honouring Retry-After) and
// 500 with the same event id and body; 400 is not retried; the Alert's
// state tells.
func TestRetriesAndIDs(t *testing.T) {
	r := newRig(t, notify.Options{MinBackoff: 10 * time.Millisecond}).start()
	sink := notifytest.NewSink(t, nil)
	r.provider("p", sink.URL, time.Second)
	r.alert("a", "p", notify.SeverityInfo, nil)
	alert := notify.Ref{Namespace: "team-a", Name: "a"}

	sink.Respond(notifytest.Response{Status: 429, RetryAfter: "1"}, notifytest.Response{Status: 500}, notifytest.Response{Status: 503})
	r.d.Notify(failedEvent("web"))
	waitCount(t, sink, notify.Failed, app("web"), 1)
	reqs := sink.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4 (429, 500, 503, 200)", len(reqs))
	}
	for _, q := range reqs[1:] {
		if q.Event.ID != reqs[0].Event.ID || string(q.Body) != string(reqs[0].Body) || q.Header.Get(notify.HeaderDelivery) != reqs[0].Event.ID {
			t.Errorf("a retry changed the id or body: %s vs %s", q.Body, reqs[0].Body)
		}
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 900*time.Millisecond {
		t.Errorf("retried %s after a 429 with Retry-After: 1", gap)
	}
	eventually(t, 5*time.Second, "delivery state", func() (bool, string) {
		ld := r.d.AlertState(alert).LastDelivery
		return ld != nil && ld.Attempts == 4 && ld.Error == "", fmt.Sprintf("%+v", ld)
	})

	sink.Respond(notifytest.Response{Status: 400, Body: "no such channel"})
	r.d.Notify(failedEvent("api"))
	eventually(t, 5*time.Second, "a final error", func() (bool, string) {
		ld := r.d.AlertState(alert).LastDelivery
		return ld != nil && ld.Object == app("api") && strings.Contains(ld.Error, "HTTP 400: no such channel"), fmt.Sprintf("%+v", ld)
	})
	r.d.Notify(failedEvent("marker"))
	waitCount(t, sink, notify.Failed, app("marker"), 1)
	n := 0
	for _, q := range sink.Requests() {
		if q.Event.Object.Name == "api" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("a 400 was attempted %d times, want 1", n)
	}
	if got := r.metric("cruise_notifications_failed_total", "type", "webhook"); got != 1 {
		t.Errorf("failed_total %v, want 1", got)
	}
	if got := r.metric("cruise_notifications_sent_total", "type", "webhook"); got != 2 {
		t.Errorf("sent_total %v, want 2", got)
	}
}

// TestDeadProviderBlocksNothing: a Provider whose port accepts and never
// answers holds up only its own queue: Notify returns at once, another
// Provider receives promptly, and the dead one's Alert says it failed.
func TestDeadProviderBlocksNothing(t *testing.T) {
	r := newRig(t, notify.Options{MaxAttempts: 2}).start()
	sink := notifytest.NewSink(t, nil)
	r.provider("dead", notifytest.Dead(t), 3*time.Second)
	r.provider("live", sink.URL, time.Second)
	r.alert("to-dead", "dead", notify.SeverityInfo, nil)
	r.alert("to-live", "live", notify.SeverityInfo, nil)

	start := time.Now()
	for i := range 10 {
		r.d.Notify(failedEvent(fmt.Sprintf("app-%d", i)))
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Notify of 10 events took %s", d)
	}
	eventually(t, 5*time.Second, "10 messages at the live receiver", func() (bool, string) {
		return sink.Count(notify.Failed) == 10, fmt.Sprint(sink.Count(notify.Failed))
	})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the live receiver got everything after %s, while the dead one's attempt timeout is 3s", d)
	}
	// The live queue's gauge drops just after its receiver has the last
	// message; the dead one's stays at 10 for its 3 s attempt timeout.
	eventually(t, 2*time.Second, "queue depth 10 (the dead Provider's)", func() (bool, string) {
		got := r.metric("cruise_notification_queue_depth", "type", "webhook")
		return got == 10, fmt.Sprint(got)
	})
	eventually(t, 20*time.Second, "the dead Provider's Alert reports the failure", func() (bool, string) {
		ld := r.d.AlertState(notify.Ref{Namespace: "team-a", Name: "to-dead"}).LastDelivery
		return ld != nil && ld.Error != "" && ld.Attempts == 2, fmt.Sprintf("%+v", ld)
	})
}

// TestQueueFullDropsOldest: past QueueSize the oldest waiting message is
// dropped, counted, and reported on its Alert.
func TestQueueFullDropsOldest(t *testing.T) {
	r := newRig(t, notify.Options{QueueSize: 3}).start()
	r.provider("dead", notifytest.Dead(t), 10*time.Second)
	r.alert("a", "dead", notify.SeverityInfo, nil)
	r.d.Notify(failedEvent("first"))
	eventually(t, 5*time.Second, "the first message in flight", func() (bool, string) {
		return r.metric("cruise_notification_queue_depth") == 1, ""
	})
	for i := range 6 {
		r.d.Notify(failedEvent(fmt.Sprintf("app-%d", i)))
	}
	eventually(t, 5*time.Second, "3 dropped", func() (bool, string) {
		got := r.metric("cruise_notifications_dropped_total", "type", "webhook", "reason", "queue_full")
		return got == 3, fmt.Sprint(got)
	})
	ld := r.d.AlertState(notify.Ref{Namespace: "team-a", Name: "a"}).LastDelivery
	if ld == nil || !strings.Contains(ld.Error, "queue of Provider team-a/dead is full") {
		t.Errorf("last delivery %+v, want the drop", ld)
	}
	if got := r.metric("cruise_notification_queue_depth"); got != 4 {
		t.Errorf("queue depth %v, want 4 (one in flight, three waiting)", got)
	}
}

// TestTemplateErrorState: a template failing on an event sends the
// default and records the error until a render succeeds.
func TestTemplateErrorState(t *testing.T) {
	r := newRig(t, notify.Options{}).start()
	sink := notifytest.NewSink(t, nil)
	r.provider("p", sink.URL, time.Second)
	r.alert("a", "p", notify.SeverityInfo, func(s *notify.AlertSpec) { s.Subject = "{{.Commit.Subject}}" })
	ref := notify.Ref{Namespace: "team-a", Name: "a"}
	ev := failedEvent("web")
	ev.Commit = nil
	r.d.Notify(ev)
	waitCount(t, sink, notify.Failed, app("web"), 1)
	if st := r.d.AlertState(ref); !strings.Contains(st.TemplateError, "template.subject") {
		t.Errorf("template error %q", st.TemplateError)
	}
	if len(r.d.TakeChanged()) == 0 {
		t.Error("no change announced")
	}
	r.d.Notify(failedEvent("api"))
	waitCount(t, sink, notify.Failed, app("api"), 1)
	if st := r.d.AlertState(ref); st.TemplateError != "" {
		t.Errorf("template error %q after a good render", st.TemplateError)
	}
}

// TestProviderChanges: a changed address takes effect with the queue
// kept; a removed or suspended Provider delivers nothing.
func TestProviderChanges(t *testing.T) {
	r := newRig(t, notify.Options{}).start()
	a, b := notifytest.NewSink(t, nil), notifytest.NewSink(t, nil)
	r.provider("p", a.URL, time.Second)
	r.alert("x", "p", notify.SeverityInfo, nil)
	r.d.Notify(failedEvent("one"))
	waitCount(t, a, notify.Failed, app("one"), 1)
	r.provider("p", b.URL, time.Second)
	r.d.Notify(failedEvent("two"))
	waitCount(t, b, notify.Failed, app("two"), 1)
	ref := notify.Ref{Namespace: "team-a", Name: "p"}
	if err := r.d.SetProvider(ref, notify.ProviderConfig{Type: notify.TypeWebhook, Address: b.URL}, true); err != nil {
		t.Fatal(err)
	}
	r.d.Notify(failedEvent("three"))
	r.routed()
	if err := r.d.SetProvider(ref, notify.ProviderConfig{Type: notify.TypeWebhook, Address: b.URL}, false); err != nil {
		t.Fatal(err)
	}
	r.d.Notify(failedEvent("four"))
	waitCount(t, b, notify.Failed, app("four"), 1)
	if n := b.Count(notify.Failed, app("three")); n != 0 {
		t.Errorf("a suspended Provider delivered %d", n)
	}
	if err := r.d.SetProvider(ref, notify.ProviderConfig{Type: notify.TypeWebhook, Address: "ftp://x"}, false); err == nil {
		t.Error("an invalid address was accepted")
	}
	r.d.Notify(failedEvent("five"))
	r.routed()
	r.provider("p", b.URL, time.Second)
	r.d.Notify(failedEvent("six"))
	waitCount(t, b, notify.Failed, app("six"), 1)
	if n := b.Count(notify.Failed, app("five")); n != 0 {
		t.Errorf("a removed Provider delivered %d", n)
	}
}
