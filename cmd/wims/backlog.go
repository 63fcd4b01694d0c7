package main

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims/nats"
)

// backlogCollector reports, at scrape time, how much work waits in each
// durable consumer and how many messages sit in the dead-letter stream, so
// that nothing waits unseen (DESIGN §5).
type backlogCollector struct {
	bus       *nats.Bus
	consumers []consumerRef
	pending   *prometheus.Desc
	inFlight  *prometheus.Desc
	dead      *prometheus.Desc
	age       *prometheus.Desc
}

type consumerRef struct{ stream, durable string }

func newBacklogCollector(bus *nats.Bus, consumers []consumerRef) *backlogCollector {
	return &backlogCollector{
		bus: bus, consumers: consumers,
		pending: prometheus.NewDesc("wims_consumer_pending_messages",
			"Messages not yet delivered to a durable consumer (its backlog).", []string{"consumer"}, nil),
		inFlight: prometheus.NewDesc("wims_consumer_ack_pending_messages",
			"Messages delivered to a durable consumer and not yet acknowledged.", []string{"consumer"}, nil),
		age: prometheus.NewDesc("wims_consumer_backlog_age_seconds",
			"How long the oldest message a durable consumer has not acknowledged has waited (0: no backlog).", []string{"consumer"}, nil),
		dead: prometheus.NewDesc("wims_dead_letters",
			"Messages in the dead-letter stream (see GET /dead-letters).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.inFlight
	ch <- c.dead
	ch <- c.age
}

// Collect implements prometheus.Collector; a consumer the bus cannot answer
// for within the scrape's budget is left out rather than reported as 0.
// The consumers are asked at once, each with one info request: a scrape
// (and the console overview, which reads the same registry) then waits for
// the slowest consumer rather than for the sum of all of them, which under
// a large backlog came to most of a second.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range c.consumers {
		wg.Go(func() {
			pending, ackPending, age, ageErr, err := c.bus.ConsumerBacklogWithAge(ctx, r.stream, r.durable)
			if err != nil {
				return
			}
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(pending), r.durable)
			ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(ackPending), r.durable)
			if ageErr == nil {
				ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age.Seconds(), r.durable)
			}
		})
	}
	if n, err := c.bus.StreamMessages(ctx, nats.DeadLetter); err == nil {
		ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(n))
	}
	wg.Wait()
}
