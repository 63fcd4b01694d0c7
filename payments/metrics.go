package payments

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims"
)

// metrics are the dispatcher's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec // by outcome
	duration prometheus.Histogram
	wait     prometheus.Histogram
	// paid is the time from an order's acceptance to PAID (the console's
	// overview).
	paid prometheus.Histogram
	// capped counts Retry-After values above MaxBackoff that were capped.
	capped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_payments_requests_total",
			Help: "Calls to the payments API, by outcome (paid, declined, throttled, error).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wims_payments_request_duration_seconds",
			Help:    "Duration of calls to the payments API.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15), // 1 ms .. 16 s
		}),
		capped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wims_payments_retry_after_capped_total",
			Help: "Retry-After values from the payments API above --payments-max-backoff, capped at it.",
		}),
		paid: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wims_order_paid_seconds",
			Help:    "Time from an order's acceptance to PAID.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18), // 1 ms .. 2 min
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wims_payments_rate_limit_wait_seconds",
			Help:    "Time a payment waited for the dispatcher's rate limit (and throttling pauses) before it was sent.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18), // 1 ms .. 2 min
		}),
	}
	// Show every outcome from the start, so a rate() over them works
	// before the first failure.
	for _, o := range []wims.PaymentOutcome{wims.PaymentPaid, wims.PaymentDeclined, wims.PaymentThrottled, wims.PaymentError} {
		m.requests.WithLabelValues(string(o))
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.requests, err = register(reg, m.requests)
	if err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.wait, err = register(reg, m.wait); err != nil {
		return nil, err
	}
	if m.capped, err = register(reg, m.capped); err != nil {
		return nil, err
	}
	if m.paid, err = register(reg, m.paid); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name, so that several dispatchers (tests, a restart in-process) can
// share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}
