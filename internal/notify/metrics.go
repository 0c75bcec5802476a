package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the notification metrics, by provider type. A nil *Metrics
// records nothing.
type Metrics struct {
	sent       *prometheus.CounterVec
	failed     *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	suppressed *prometheus.CounterVec
	digests    prometheus.Counter
	depth      *prometheus.GaugeVec
	latency    *prometheus.HistogramVec
}

// Reasons a message is dropped (cruise_notifications_dropped_total).
const (
	dropQueueFull = "queue_full"     // drop-oldest when a Provider's queue is full
	dropRemoved   = "provider_gone"  // the Provider was deleted, changed to invalid or suspended with messages queued
	dropIntake    = "intake_full"    // the dispatcher's intake was full (type "")
	dropNoSender  = "provider_unset" // the Alert's Provider has no queue (not Ready)
)

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_notifications_sent_total",
			Help: "Messages delivered, by provider type.",
		}, []string{"type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_notifications_failed_total",
			Help: "Messages given up on after their last attempt (a permanent error, or retries exhausted), by provider type.",
		}, []string{"type"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_notifications_dropped_total",
			Help: "Messages dropped before delivery, by provider type and reason (queue_full: the oldest of a full queue; provider_gone; provider_unset; intake_full).",
		}, []string{"type", "reason"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_notifications_suppressed_total",
			Help: "Events not sent because they repeat one already sent, by reason (duplicate: a retry of a known failure; repeat: the same drift reverted again).",
		}, []string{"reason"}),
		digests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cruise_notifications_digests_total",
			Help: "Digest messages sent in place of single ones during bursts.",
		}),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cruise_notification_queue_depth",
			Help: "Messages waiting in the Providers' queues (including the one being attempted), by provider type.",
		}, []string{"type"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cruise_notification_delivery_seconds",
			Help:    "Time from an event to its delivery, retries included, by provider type.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"type"}),
	}
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.dropped, m.suppressed, m.digests, m.depth, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) delivered(typ string, since time.Duration) {
	if m != nil {
		m.sent.WithLabelValues(typ).Inc()
		m.latency.WithLabelValues(typ).Observe(since.Seconds())
	}
}

func (m *Metrics) gaveUp(typ string) {
	if m != nil {
		m.failed.WithLabelValues(typ).Inc()
	}
}

func (m *Metrics) drop(typ, reason string, n int) {
	if m != nil && n > 0 {
		m.dropped.WithLabelValues(typ, reason).Add(float64(n))
	}
}

func (m *Metrics) suppress(reason string) {
	if m != nil {
		m.suppressed.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) digest() {
	if m != nil {
		m.digests.Inc()
	}
}

func (m *Metrics) queued(typ string, delta int) {
	if m != nil {
		m.depth.WithLabelValues(typ).Add(float64(delta))
	}
}
