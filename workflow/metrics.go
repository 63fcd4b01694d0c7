package workflow

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims"
)

// Metrics are the workflow's Prometheus metrics.
type Metrics struct {
	Executions *prometheus.CounterVec
	Duration   prometheus.Histogram
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
	}
	if reg != nil {
		reg.MustRegister(m.Executions, m.Duration)
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
