package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// imageMetrics are the ImageRepository scans' metrics.
type imageMetrics struct {
	scans        *prometheus.CounterVec
	scanDuration *prometheus.HistogramVec
	tags         *prometheus.GaugeVec
}

func newImageMetrics(reg prometheus.Registerer) (*imageMetrics, error) {
	m := &imageMetrics{
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cruise_image_scans_total",
			Help: "ImageRepository scans by result: success, or the Ready reason of the failure (RegistryUnreachable, AuthenticationFailed, ImageNotFound, ScanFailed, SecretNotFound).",
		}, []string{"result"}),
		scanDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cruise_image_scan_duration_seconds",
			Help:    "Duration of ImageRepository scans (listing the tags) by result: success or error.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"result"}),
		tags: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cruise_image_tags",
			Help: "Tags an ImageRepository's last successful scan kept (after exclusion), by namespace and name.",
		}, []string{"namespace", "name"}),
	}
	for _, c := range []prometheus.Collector{m.scans, m.scanDuration, m.tags} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observeImageScan counts a scan; a scan that failed before reaching the
// registry (a bad spec, a missing Secret) has no duration.
func (m *Metrics) observeImageScan(d time.Duration, result string) {
	if m == nil || m.image == nil {
		return
	}
	m.image.scans.WithLabelValues(result).Inc()
	if d > 0 {
		label := "success"
		if result != "success" {
			label = "error"
		}
		m.image.scanDuration.WithLabelValues(label).Observe(d.Seconds())
	}
}

func (m *Metrics) setImageTags(key types.NamespacedName, n int) {
	if m != nil && m.image != nil {
		m.image.tags.WithLabelValues(key.Namespace, key.Name).Set(float64(n))
	}
}

func (m *Metrics) deleteImageTags(key types.NamespacedName) {
	if m != nil && m.image != nil {
		m.image.tags.DeleteLabelValues(key.Namespace, key.Name)
	}
}
