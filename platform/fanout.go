package platform

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/wims/wims"
)

// Headers of a delivery on the delivery work queue. They name the target
// (and so the dead letter: GET /dead-letters shows rule and target) and
// when the event reached the bus, which its retry policy's age counts from.
const (
	HeaderTargetKey = "Wims-Target-Key"
	HeaderRule      = wims.HeaderRule
	HeaderTarget    = wims.HeaderTarget
	HeaderIngested  = "Wims-Ingested"
	// HeaderHops counts bus-to-bus forwards, to break a loop of rules
	// forwarding an event between buses.
	HeaderHops = "Wims-Hops"
)

// maxHops bounds bus-to-bus forwarding of one event.
const maxHops = 5

// Fanout matches each event on the events stream against every rule of its
// bus served by the fan-out, and writes one delivery per matched target to
// the delivery queue. It is a wims.Handler for a durable consumer on the
// events stream. A delivery's id is derived from the event message's id
// and the target, so a redelivered event enqueues nothing twice.
type Fanout struct {
	Catalog    *Catalog
	Bus        Publisher
	Deliveries string // subject of the delivery queue
	Now        wims.Clock
}

var namesPool = sync.Pool{New: func() any { s := make([]string, 0, 8); return &s }}

// Handle routes one event.
func (f *Fanout) Handle(ctx context.Context, m *wims.Message) error {
	snap := f.Catalog.Snapshot()
	bus := BusOf(m)
	br := snap.buses[bus]
	if br == nil {
		return nil
	}
	buf := namesPool.Get().(*[]string)
	defer namesPool.Put(buf)
	names, err := br.matcher.AppendMatches((*buf)[:0], m.Data)
	*buf = names
	if err != nil {
		return wims.Permanent(fmt.Errorf("fan-out on bus %s: %w", bus, err))
	}
	if len(names) == 0 {
		return nil
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	ingested := now().UTC().Format(time.RFC3339Nano)
	eventID := EventID(m)
	var out []wims.Outgoing
	for _, rk := range names {
		for _, t := range br.targets[rk] {
			h := map[string]string{
				HeaderTargetKey: t.Key, HeaderRule: t.RuleName, HeaderTarget: t.ID, HeaderBus: bus, HeaderIngested: ingested,
				wims.HeaderEventID: eventID,
			}
			if tp := m.Header[wims.HeaderTraceParent]; tp != "" {
				h[wims.HeaderTraceParent] = tp
			}
			if d := t.DeadLetterConfig; d != nil && d.Arn != "" {
				h[wims.HeaderDeadLetterARN] = d.Arn
			}
			if hops := m.Header[HeaderHops]; hops != "" {
				h[HeaderHops] = hops
			}
			out = append(out, wims.Outgoing{
				Subject: f.Deliveries, ID: "dlv:" + msgID(m) + ":" + t.Key, Data: m.Data, Header: h,
			})
		}
	}
	if n, err := f.Bus.PublishBatch(ctx, out); err != nil {
		return fmt.Errorf("fan-out: %d of %d deliveries stored: %w", n, len(out), err)
	}
	return nil
}

// EventID is the id of the event a message holds: the Wims-Event-Id
// header where a producer set one (forwards, deliveries), else the
// message's id, which every producer of events sets to the event id.
func EventID(m *wims.Message) string {
	if id := m.Header[wims.HeaderEventID]; id != "" {
		return id
	}
	return msgID(m)
}

// msgID is the message's deduplication id, or its stream sequence.
func msgID(m *wims.Message) string {
	if m.ID != "" {
		return m.ID
	}
	return "seq-" + strconv.FormatUint(m.Seq, 10)
}
