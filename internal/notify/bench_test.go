package notify_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/notify/notifytest"
)

// BenchmarkDispatchLatency measures the time from an event handed to the
// Dispatcher to its arrival at a webhook receiver on loopback (routing,
// rendering, the queue, the signed HTTP POST), p50 and p99 over 1,000
// events sent 1 ms apart, while a second Provider of the same Alerts'
// namespace never answers. Digests are off (threshold above the count).
func BenchmarkDispatchLatency(b *testing.B) {
	const events = 1000
	r := newRig(b, notify.Options{DigestThreshold: 10 * events}).start()
	sink := notifytest.NewSink(b, []byte("key"))
	if err := r.d.SetProvider(notify.Ref{Namespace: "team-a", Name: "live"},
		notify.ProviderConfig{Type: notify.TypeWebhook, Address: sink.URL, HMACKey: []byte("key"), Timeout: time.Second}, false); err != nil {
		b.Fatal(err)
	}
	r.provider("dead", notifytest.Dead(b), time.Minute)
	r.alert("live", "live", notify.SeverityInfo, nil)
	r.alert("dead", "dead", notify.SeverityInfo, nil)

	var lat []time.Duration
	for b.Loop() {
		before := len(sink.Requests())
		for i := range events {
			ev := failedEvent(fmt.Sprintf("app-%04d", i))
			ev.Type, ev.Time = notify.Synced, time.Time{} // not deduplicated; stamped on hand-over
			r.d.Notify(ev)
			time.Sleep(time.Millisecond) // pacing the load, not synchronising
		}
		eventually(b, time.Minute, "all delivered", func() (bool, string) {
			return len(sink.Requests())-before == events, fmt.Sprint(len(sink.Requests()) - before)
		})
		for _, q := range sink.Requests()[before:] {
			lat = append(lat, q.Time.Sub(q.Event.Time))
		}
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}
