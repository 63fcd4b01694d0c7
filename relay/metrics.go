package relay

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the relay's Prometheus metrics.
type Metrics struct {
	Published prometheus.Counter
	Lag       prometheus.Histogram
	Batch     prometheus.Histogram
}

// NewMetrics creates the relay's metrics and registers them on reg (if non-nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wims_relay_published_total", Help: "Changes published to the bus.",
		}),
		Lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wims_relay_lag_seconds", Help: "Time from commit to publish of the newest change in a batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		Batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wims_relay_publish_seconds", Help: "Time to publish one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Published, m.Lag, m.Batch)
	}
	return m
}

func (m *Metrics) published(n int, committed, now time.Time, took time.Duration) {
	if m == nil {
		return
	}
	m.Published.Add(float64(n))
	m.Lag.Observe(now.Sub(committed).Seconds())
	m.Batch.Observe(took.Seconds())
}
