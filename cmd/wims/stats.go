package main

import (
	"context"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wims/wims/console"
)

// consoleStats reads the console overview's live figures from the metrics
// registry, the same numbers GET /metrics exposes (the backlog collector
// included, so backlogs and dead letters are read from the bus at that
// moment). Reading the registry's values, rather than keeping a second set
// of counters, means the console and a Prometheus dashboard cannot
// disagree; the console computes rates and quantiles from the difference
// between two readings, as Prometheus' rate() and histogram_quantile() do.
func consoleStats(g prometheus.Gatherer, paymentsLimit float64) console.StatsFunc {
	return func(context.Context) (console.Stats, error) {
		families, err := g.Gather()
		if err != nil && len(families) == 0 {
			return console.Stats{}, err
		}
		// A partial gather (one collector failing) still has the others.
		st := console.Stats{PaymentsLimit: paymentsLimit, DeadLetters: -1}
		backlogs := map[string]*console.Backlog{}
		backlog := func(name string) *console.Backlog {
			b := backlogs[name]
			if b == nil {
				b = &console.Backlog{Consumer: name}
				backlogs[name] = b
			}
			return b
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				switch f.GetName() {
				case "wims_http_requests_total":
					if label(m, "route") == "POST /orders" && label(m, "status") == "202" {
						st.OrdersAccepted += m.GetCounter().GetValue()
					}
				case "wims_http_request_duration_seconds":
					if label(m, "route") == "POST /orders" {
						st.Accept = histogram(m)
					}
				case "wims_order_reserved_seconds":
					st.Reserved = histogram(m)
				case "wims_order_paid_seconds":
					st.Paid = histogram(m)
				case "wims_relay_lag_seconds":
					st.RelayLag = histogram(m)
				case "wims_payments_requests_total":
					st.PaymentRequests += m.GetCounter().GetValue()
				case "wims_dead_letters":
					st.DeadLetters = int64(m.GetGauge().GetValue())
				case "wims_consumer_pending_messages":
					backlog(label(m, "consumer")).Pending = int64(m.GetGauge().GetValue())
				case "wims_consumer_ack_pending_messages":
					backlog(label(m, "consumer")).AckPending = int64(m.GetGauge().GetValue())
				case "wims_consumer_backlog_age_seconds":
					backlog(label(m, "consumer")).OldestAge = time.Duration(m.GetGauge().GetValue() * float64(time.Second))
				}
			}
		}
		for _, b := range backlogs {
			st.Backlogs = append(st.Backlogs, *b)
		}
		sort.Slice(st.Backlogs, func(i, j int) bool { return st.Backlogs[i].Consumer < st.Backlogs[j].Consumer })
		return st, nil
	}
}

// label returns the value of m's label name, "" if it has none.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// histogram converts a gathered histogram into the console's.
func histogram(m *dto.Metric) console.Histogram {
	h := m.GetHistogram()
	out := console.Histogram{Count: h.GetSampleCount()}
	for _, b := range h.GetBucket() {
		out.Upper = append(out.Upper, b.GetUpperBound())
		out.Counts = append(out.Counts, b.GetCumulativeCount())
	}
	return out
}
