package controller_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/notify/notifytest"
)

// BenchmarkNotify1000Failing is the outage: 1,000 Applications of
// one repository, all Ready, are broken by one commit; an Alert of
// severity error sends to a webhook receiver. It reports the messages the
// receiver got for the 1,000 failures (the first ones one by one, the
// rest in digests), the time from the fetch of the breaking commit to the
// last of them, the same for the 1,000 recoveries after a fixing commit,
// the time until the controller had seen every failure (and recovery),
// the delivery latency (event to receiver) of the messages sent one by
// one, and the heap of this process (controller, control-plane clients
// and test) after the outage. Run it once: -benchtime 1x.
func BenchmarkNotify1000Failing(b *testing.B) {
	const apps = 1000
	for b.Loop() {
		runNotify1000Failing(b, apps)
	}
}

func runNotify1000Failing(b *testing.B, apps int) {
	b.StopTimer()
	f := newFixture(b)
	sink := notifytest.NewSink(b, nil)
	f.webhookProvider("p", sink.URL, nil)
	f.alert("errors", "p", "error", nil)
	f.waitAlert("errors", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")

	files := func(value string) map[string]string {
		out := map[string]string{}
		for a := range apps {
			out[fmt.Sprintf("app-%04d/cm.yaml", a)] = value
			if value == "" {
				out[fmt.Sprintf("app-%04d/cm.yaml", a)] = cmYAML(fmt.Sprintf("app-%04d", a), "v1")
			}
		}
		return out
	}
	good := f.commit("good", files(""))
	f.source()
	f.requestFetch(good)
	for a := range apps {
		app := &cruisev1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%04d", a), Namespace: f.ns},
			Spec: cruisev1.ApplicationSpec{
				SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"},
				Path:      fmt.Sprintf("app-%04d", a), Prune: true, Interval: metav1.Duration{Duration: time.Hour},
			},
		}
		if err := k8s.Create(b.Context(), app); err != nil {
			b.Fatal(err)
		}
	}
	allApps := func(what string, ok func(*cruisev1.Application) bool) {
		clustertest.Eventually(b, 15*time.Minute, func() (bool, error) {
			var list cruisev1.ApplicationList
			if err := k8s.List(b.Context(), &list, client.InNamespace(f.ns)); err != nil {
				return false, err
			}
			n := 0
			for i := range list.Items {
				if ok(&list.Items[i]) {
					n++
				}
			}
			return n == apps, fmt.Errorf("%s: %d of %d", what, n, apps)
		})
	}
	allApps("Ready", func(a *cruisev1.Application) bool { return ready(a.Status.Conditions, a.Generation) })

	// covered counts the events of typ the receiver got, alone or in
	// digests, and the messages that carried them.
	covered := func(typ notify.EventType) (events, messages int, last time.Time) {
		for _, r := range sink.Requests() {
			n := 0
			if r.Event.Type == typ {
				n = 1
			}
			for _, e := range r.Event.Events {
				if e.Type == typ {
					n++
				}
			}
			if n > 0 {
				events += n
				messages++
				last = r.Time
			}
		}
		return events, messages, last
	}
	// outage commits and fetches, then waits until every Application's
	// event of typ was delivered. It returns the time to the last
	// delivery, the messages, and the time to the last event (when the
	// controller had found every Application failing, or healed).
	outage := func(typ notify.EventType, commit string) (time.Duration, int, time.Duration) {
		start := time.Now()
		f.requestFetch(commit)
		var msgs int
		var last time.Time
		clustertest.Eventually(b, 15*time.Minute, func() (bool, error) {
			var n int
			n, msgs, last = covered(typ)
			return n >= apps, fmt.Errorf("%d of %d %s delivered in %d messages", n, apps, typ, msgs)
		})
		var lastEvent time.Time
		for _, r := range sink.Requests() {
			for _, e := range append([]notify.Event{r.Event}, r.Event.Events...) {
				if e.Type == typ && e.Time.After(lastEvent) {
					lastEvent = e.Time
				}
			}
		}
		return last.Sub(start), msgs, lastEvent.Sub(start)
	}

	b.StartTimer()
	failTime, failMsgs, failedAll := outage(notify.Failed, f.commit("break every app", files("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n")))
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var lat []time.Duration
	for _, r := range sink.Requests() {
		if r.Event.Type == notify.Failed {
			lat = append(lat, r.Time.Sub(r.Event.Time))
		}
	}
	b.StartTimer()
	healTime, healMsgs, healedAll := outage(notify.Recovered, f.commit("fix every app", files("")))
	b.StopTimer()

	digests := 0
	for _, r := range sink.Requests() {
		if r.Event.Type == notify.Digest {
			digests++
		}
	}
	b.ReportMetric(float64(failMsgs), "failure-messages")
	b.ReportMetric(failTime.Seconds(), "s-to-send-failures")
	b.ReportMetric(float64(healMsgs), "recovery-messages")
	b.ReportMetric(healTime.Seconds(), "s-to-send-recoveries")
	b.ReportMetric(float64(digests), "digests")
	b.ReportMetric(failedAll.Seconds(), "s-to-last-failure")
	b.ReportMetric(healedAll.Seconds(), "s-to-last-recovery")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "single-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "single-p99-ms")
	}
	b.StartTimer() // b.Loop expects the timer running between iterations
}
