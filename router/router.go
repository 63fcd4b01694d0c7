// Package router decides, for each event on the bus, which targets get it.
//
// Fan-out is done by JetStream: every target has its own durable consumer on
// the events stream, so each target keeps its own position, retries, backoff
// and dead letters, and a slow target never holds up another. The routing
// decision is made by the pattern matcher holding every rule that names the
// target; events no rule of the target matches are acknowledged at once.
// Compared with copying matching events into a queue per target, this writes
// nothing per delivery, which matters when every write is fsynced.
package router

import (
	"context"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims"
	"github.com/wims/wims/pattern"
)

// Metrics count routing decisions.
type Metrics struct {
	Matched *prometheus.CounterVec
	Skipped *prometheus.CounterVec
}

// NewMetrics creates the router's metrics and registers them on reg (if non-nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Matched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_router_matched_total", Help: "Events routed to a target, by target and rule.",
		}, []string{"target", "rule"}),
		Skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_router_skipped_total", Help: "Events no rule of a target matched.",
		}, []string{"target"}),
	}
	if reg != nil {
		reg.MustRegister(m.Matched, m.Skipped)
	}
	return m
}

var namesPool = sync.Pool{New: func() any { s := make([]string, 0, 8); return &s }}

// Route returns a handler that passes to h only the events that some rule in
// m matches, for the target named target.
func Route(target string, m *pattern.Matcher, h wims.Handler, metrics *Metrics) wims.Handler {
	return RouteLive(target, func(*wims.Message) *pattern.Matcher { return m }, h, metrics)
}

// RouteLive is Route with the matcher looked up for every message, so rules
// can change while the consumer runs; current may return nil for a message
// no rule of the target can see (e.g. one on another bus).
func RouteLive(target string, current func(*wims.Message) *pattern.Matcher, h wims.Handler, metrics *Metrics) wims.Handler {
	return func(ctx context.Context, msg *wims.Message) error {
		ok, err := Matches(target, current(msg), msg.Data, metrics)
		if err != nil || !ok {
			return err
		}
		return h(ctx, msg)
	}
}

// Matches reports whether some rule in m matches event, for the target
// named target, and counts the outcome as routing does; a nil m matches
// nothing and counts nothing. It is routing without the handler, for a
// writer that delivers to the target itself (the relay appending to the
// event log).
func Matches(target string, m *pattern.Matcher, event []byte, metrics *Metrics) (bool, error) {
	if m == nil {
		return false, nil
	}
	buf := namesPool.Get().(*[]string)
	defer namesPool.Put(buf)
	names, err := m.AppendMatches((*buf)[:0], event)
	*buf = names
	if err != nil {
		return false, wims.Permanent(fmt.Errorf("route to %s: %w", target, err))
	}
	if len(names) == 0 {
		if metrics != nil {
			metrics.Skipped.WithLabelValues(target).Inc()
		}
		return false, nil
	}
	if metrics != nil {
		for _, rule := range names {
			metrics.Matched.WithLabelValues(target, rule).Inc()
		}
	}
	return true, nil
}
