package workflow

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims"
)

// Metrics are the workflow's Prometheus metrics.
type Metrics struct {
	Executions *prometheus.CounterVec
	Duration   prometheus.Histogram
	// Reserved is the time from an order's acceptance to its reservation,
	// observed by the execution that reserved it (the console's overview).
	Reserved prometheus.Histogram
}

// NewMetrics creates the workflow's metrics and registers them on reg (if non-nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Executions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_workflow_executions_total", Help: "Order workflow executions by status.",
		}, []string{"status"}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wims_workflow_execution_seconds", Help: "Order workflow execution time.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		Reserved: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wims_order_reserved_seconds", Help: "Time from an order's acceptance to RESERVED.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18), // 0.5 ms .. 1 min
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Executions, m.Duration, m.Reserved)
	}
	return m
}

func (m *Metrics) observe(e wims.Execution) {
	if m == nil {
		return
	}
	m.Executions.WithLabelValues(e.Status).Inc()
	m.Duration.Observe(e.FinishedAt.Sub(e.StartedAt).Seconds())
}

// reserved observes o's time to RESERVED if this execution, started at
// started, is the one that reserved it: a redelivery finds it reserved
// before it started and must not count it again. The store keeps
// microseconds, hence the truncation.
func (m *Metrics) reserved(o wims.Order, started time.Time) {
	if m == nil || o.Status != wims.OrderReserved || o.UpdatedAt.Before(started.Truncate(time.Microsecond)) {
		return
	}
	m.Reserved.Observe(o.UpdatedAt.Sub(o.CreatedAt).Seconds())
}
