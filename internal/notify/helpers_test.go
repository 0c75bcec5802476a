package notify_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/notify/notifytest"
)

// rig is a running Dispatcher with its own metrics.
type rig struct {
	t   testing.TB
	d   *notify.Dispatcher
	reg *prometheus.Registry

	markers     *notifytest.Sink
	markerCount int
}

// newRig starts a Dispatcher (short backoffs unless o says otherwise);
// Run is called unless seed is given, in which case the test calls
// start after seeding.
func newRig(t testing.TB, o notify.Options) *rig {
	t.Helper()
	r := &rig{t: t, reg: prometheus.NewRegistry()}
	m, err := notify.NewMetrics(r.reg)
	if err != nil {
		t.Fatal(err)
	}
	o.Metrics = m
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 20 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	r.d = notify.NewDispatcher(o)
	return r
}

// routed returns once every event handed over before it has been routed:
// events are routed in order, so a marker event in a namespace of its
// own, delivered to its own receiver, comes after them.
func (r *rig) routed() {
	r.t.Helper()
	ref := notify.Ref{Namespace: "zz-markers", Name: "markers"}
	if r.markers == nil {
		r.markers = notifytest.NewSink(r.t, nil)
		if err := r.d.SetProvider(ref, notify.ProviderConfig{Type: notify.TypeWebhook, Address: r.markers.URL}, false); err != nil {
			r.t.Fatal(err)
		}
		a, err := notify.CompileAlert(notify.AlertSpec{Ref: ref, Provider: ref.Name, Sources: []notify.Source{{Kind: "Marker"}}})
		if err != nil {
			r.t.Fatal(err)
		}
		r.d.SetAlert(a)
	}
	r.markerCount++
	want := r.markerCount
	r.d.Notify(notify.Event{Type: notify.Synced, Object: notify.ObjectRef{Kind: "Marker", Namespace: ref.Namespace, Name: "m"}})
	eventually(r.t, 10*time.Second, "marker routed", func() (bool, string) {
		return len(r.markers.Delivered()) == want, ""
	})
}

func (r *rig) start() *rig {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.d.Run(ctx)
	}()
	r.t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

// provider configures a webhook Provider "name" in team-a.
func (r *rig) provider(name, address string, timeout time.Duration) {
	r.t.Helper()
	cfg := notify.ProviderConfig{Type: notify.TypeWebhook, Address: address, Timeout: timeout}
	if err := r.d.SetProvider(notify.Ref{Namespace: "team-a", Name: name}, cfg, false); err != nil {
		r.t.Fatal(err)
	}
}

// alert configures an Alert of team-a for every Application.
func (r *rig) alert(name, provider string, sev notify.Severity, mutate func(*notify.AlertSpec)) {
	r.t.Helper()
	spec := notify.AlertSpec{
		Ref: notify.Ref{Namespace: "team-a", Name: name}, Provider: provider, Severity: sev,
		Sources: []notify.Source{{Kind: "Application"}},
	}
	if mutate != nil {
		mutate(&spec)
	}
	a, err := notify.CompileAlert(spec)
	if err != nil {
		r.t.Fatal(err)
	}
	r.d.SetAlert(a)
}

// metric sums a counter or gauge of the rig's metrics with the given
// label values (name=value pairs must all match).
func (r *rig) metric(name string, labels ...string) float64 {
	r.t.Helper()
	families, err := r.reg.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			if hasLabels(have, labels) {
				total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return total
}

func hasLabels(have map[string]string, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, ok := have[pairs[i]]; !ok || v != pairs[i+1] {
			return false
		}
	}
	return true
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, note := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s: %s", timeout, what, note)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}
