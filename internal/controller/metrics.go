package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are cruise's own Prometheus metrics; controller-runtime adds the
// reconcile count and duration by controller and result. A nil *Metrics
// records nothing.
type Metrics struct {
	fetchDuration    *prometheus.HistogramVec
	driftCorrections prometheus.Counter
	driftDetected    prometheus.Counter
	changesSeen      prometheus.Counter
	objects          *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		fetchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cruise_git_fetch_duration_seconds",
			Help:    "Duration of Git fetches by result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"result"}),
		driftCorrections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cruise_drift_corrections_total",
			Help: "Syncs that reverted changes made in the cluster outside Git.",
		}),
		driftDetected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cruise_drift_detected_total",
			Help: "Drift found and only reported, because selfHeal is off.",
		}),
		changesSeen: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cruise_managed_object_changes_total",
			Help: "Changes of managed objects made outside cruise that triggered a sync (status-only updates are not counted: they trigger nothing).",
		}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_objects_total",
			Help: "Objects written by syncs, by action (created, configured, recreated, pruned).",
		}, []string{"action"}),
	}
	for _, c := range []prometheus.Collector{m.fetchDuration, m.driftCorrections, m.driftDetected, m.changesSeen, m.objects} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observeFetch(d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "error"
	}
	m.fetchDuration.WithLabelValues(result).Observe(d.Seconds())
}

func (m *Metrics) countObject(action string) {
	if m != nil {
		m.objects.WithLabelValues(action).Inc()
	}
}

func (m *Metrics) countDrift(corrected bool) {
	if m == nil {
		return
	}
	if corrected {
		m.driftCorrections.Inc()
	} else {
		m.driftDetected.Inc()
	}
}

func (m *Metrics) countChangeSeen() {
	if m != nil {
		m.changesSeen.Inc()
	}
}
