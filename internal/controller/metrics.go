package controller

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cruisegitops/cruise/internal/seal"
	gitsource "github.com/cruisegitops/cruise/internal/source"
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
	storageRemoved   *prometheus.CounterVec
	image            *imageMetrics
	sealingKeys      prometheus.Gauge
	sealingNewest    prometheus.Gauge
	unseals          *prometheus.CounterVec
	operator         *operatorMetrics

	// storage is the Fetcher whose cache the cruise_storage_* gauges
	// read at scrape time (Fetcher.Usage does no I/O); unset, they read 0.
	storage atomic.Pointer[gitsource.Fetcher]
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
		storageRemoved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_storage_removed_total",
			Help: "Directories the storage collector removed from the Git cache, by kind (checkout, clone).",
		}, []string{"kind"}),
		sealingKeys: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cruise_sealing_keys",
			Help: "Sealing keys the controller holds (every one unseals, the newest seals).",
		}),
		sealingNewest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cruise_sealing_newest_key_timestamp_seconds",
			Help: "Creation time of the newest sealing key, in Unix seconds: alert when it is older than the rotation interval.",
		}),
		unseals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_sealedsecret_unseal_total",
			Help: "SealedSecrets decrypted, by result (success: every value opened; failure: at least one did not).",
		}, []string{"result"}),
	}
	usage := func(name, help string, v func(gitsource.Usage) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			f := m.storage.Load()
			if f == nil {
				return 0
			}
			return v(f.Usage())
		})
	}
	for _, c := range []prometheus.Collector{
		m.fetchDuration, m.driftCorrections, m.driftDetected, m.changesSeen, m.objects, m.storageRemoved,
		m.sealingKeys, m.sealingNewest, m.unseals,
		usage("cruise_storage_bytes", "Disk used by the Git cache (clones and checkouts), in allocated bytes.",
			func(u gitsource.Usage) float64 { return float64(u.Bytes) }),
		usage("cruise_storage_limit_bytes", "The Git cache's storage limit (--storage-limit).",
			func(u gitsource.Usage) float64 { return float64(u.Limit) }),
		usage("cruise_storage_checkouts", "Checkouts in the Git cache.",
			func(u gitsource.Usage) float64 { return float64(u.Checkouts) }),
		usage("cruise_storage_clones", "Repository clones in the Git cache.",
			func(u gitsource.Usage) float64 { return float64(u.Clones) }),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	image, err := newImageMetrics(reg)
	if err != nil {
		return nil, err
	}
	m.image = image
	if m.operator, err = newOperatorMetrics(reg); err != nil {
		return nil, err
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

// watchStorage points the cruise_storage_* gauges at f's cache.
func (m *Metrics) watchStorage(f *gitsource.Fetcher) {
	if m != nil {
		m.storage.Store(f)
	}
}

func (m *Metrics) observeCollection(c gitsource.Collection) {
	if m == nil {
		return
	}
	m.storageRemoved.WithLabelValues("checkout").Add(float64(c.RemovedCheckouts))
	m.storageRemoved.WithLabelValues("clone").Add(float64(c.RemovedClones))
}

// observeKeys records the ring the controller holds.
func (m *Metrics) observeKeys(ring seal.Ring) {
	if m == nil {
		return
	}
	m.sealingKeys.Set(float64(ring.Len()))
	if newest, ok := ring.Newest(); ok {
		m.sealingNewest.Set(float64(newest.Created.Unix()))
	}
}

func (m *Metrics) countUnseal(err error) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "failure"
	}
	m.unseals.WithLabelValues(result).Inc()
}
