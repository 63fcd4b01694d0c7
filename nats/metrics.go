package nats

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bus's Prometheus counters. They always exist, registered
// or not, so the hot paths never test for nil.
type metrics struct {
	handled *prometheus.CounterVec // consumer, result = ack|retry|deadletter
	publish *prometheus.CounterVec // result = ok|duplicate|error
	repairs *prometheus.CounterVec // consumer
	batches *prometheus.CounterVec // result = stored|rejected
	stalls  *prometheus.CounterVec // consumer
}

// Handling results, the values of the result label of
// wims_bus_messages_handled_total.
const (
	resultAck        = "ack"
	resultRetry      = "retry"
	resultDeadLetter = "deadletter"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_bus_messages_handled_total",
			Help: "Messages handled by bus consumers, by consumer and result (ack, retry, deadletter).",
		}, []string{"consumer", "result"}),
		publish: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_bus_publish_total",
			Help: "Messages published to the bus, by result (ok, duplicate, error).",
		}, []string{"result"}),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_bus_consumer_repairs_total",
			Help: "Consumers rebuilt because the embedded server could not open their damaged state; alert on any increase.",
		}, []string{"consumer"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_bus_atomic_batches_total",
			Help: "Atomic batches sent to the bus, by result: stored (one fsync for the batch) or rejected (then published one by one, e.g. for a duplicate id after a relay restart).",
		}, []string{"result"}),
		stalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_bus_consumer_stalls_total",
			Help: "Times a consumer's pull request was lost by the server while messages waited, and its iterator was restarted (nats/stallwatch.go).",
		}, []string{"consumer"}),
	}
	if reg != nil {
		m.handled = register(reg, m.handled)
		m.publish = register(reg, m.publish)
		m.repairs = register(reg, m.repairs)
		m.batches = register(reg, m.batches)
		m.stalls = register(reg, m.stalls)
	}
	return m
}

// register registers c, or returns the collector already registered under
// the same name, so that reopening a Bus on the same registry (a restart in
// tests, two buses in one process) shares the counters instead of failing.
func register(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		// A conflicting descriptor is a programming error in wiring; count
		// anyway, just without exposing.
	}
	return c
}
