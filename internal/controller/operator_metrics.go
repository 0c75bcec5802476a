package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// operatorMetrics are what the alerts and the dashboard in
// config/monitoring read besides controller-runtime's metrics: the
// per-object status (status_metrics.go), failed reconciles, and the key
// rotation interval to compare the newest key's age with.
type operatorMetrics struct {
	status           *statusMetrics
	failures         *prometheus.CounterVec
	rotationInterval prometheus.Gauge
}

func newOperatorMetrics(reg prometheus.Registerer) (*operatorMetrics, error) {
	m := &operatorMetrics{
		status: newStatusMetrics(),
		// controller_runtime_reconcile_errors_total does not count these:
		// cruise's reconcilers retry failures on each object's own
		// schedule and return no error to the workqueue (outcome.go).
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_reconcile_failures_total",
			Help: "Reconciles that failed (not those that only wait for a source or a dependency), by kind and Ready reason.",
		}, []string{"kind", "reason"}),
		rotationInterval: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cruise_sealing_key_rotation_interval_seconds",
			Help: "The sealing key rotation interval (--key-rotation-interval), 0 when keys are never rotated.",
		}),
	}
	for _, c := range []prometheus.Collector{m.status, m.failures, m.rotationInterval} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// failureCounter counts failed reconciles. outcomes.finish reports each
// failure to its event recorder when the recorder is one: Setup hands the
// reconcilers a recorder wrapped by Metrics.countingFailures.
type failureCounter interface {
	countFailure(obj client.Object, reason string)
}

// countFailure counts a failed reconcile of obj if rec counts them.
func countFailure(rec events.EventRecorder, obj client.Object, reason string) {
	if c, ok := rec.(failureCounter); ok {
		c.countFailure(obj, reason)
	}
}

// failureRecorder passes events through and counts failures.
type failureRecorder struct {
	events.EventRecorder
	scheme   *runtime.Scheme
	failures *prometheus.CounterVec
}

func (r *failureRecorder) countFailure(obj client.Object, reason string) {
	kind := "Unknown"
	if gvk, err := apiutil.GVKForObject(obj, r.scheme); err == nil {
		kind = gvk.Kind
	}
	r.failures.WithLabelValues(kind, reason).Inc()
}

// countingFailures wraps rec so that the failures outcomes.finish reports
// through it are counted in cruise_reconcile_failures_total; scheme names
// the objects' kinds.
func (m *Metrics) countingFailures(rec events.EventRecorder, scheme *runtime.Scheme) events.EventRecorder {
	if m == nil || m.operator == nil {
		return rec
	}
	return &failureRecorder{EventRecorder: rec, scheme: scheme, failures: m.operator.failures}
}

// setRotationInterval records the sealing key rotation interval.
func (m *Metrics) setRotationInterval(d time.Duration) {
	if m != nil && m.operator != nil {
		m.operator.rotationInterval.Set(d.Seconds())
	}
}
