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
	// Discovery, if set, sees every event of a bus with a started
	// discoverer (replayed events excepted: they are old).
	Discovery *Discovery
}

var namesPool = sync.Pool{New: func() any { s := make([]string, 0, 8); return &s }}

// Handle routes one event: a delivery per matched target, and a copy in
// each archive of its bus that keeps it (replayed events excepted).
func (f *Fanout) Handle(ctx context.Context, m *wims.Message) error {
	snap := f.Catalog.Snapshot()
	bus := BusOf(m)
	buf := namesPool.Get().(*[]string)
	defer namesPool.Put(buf)
	out, err := f.deliveries(snap, bus, m, buf)
	if err != nil {
		return err
	}
	if m.Header[wims.HeaderReplayName] == "" {
		if out, err = f.archive(snap, bus, m, buf, out); err != nil {
			return err
		}
		if f.Discovery != nil && snap.Discovers(bus) {
			f.Discovery.Observe(m.Data)
		}
	}
	if len(out) == 0 {
		return nil
	}
	if n, err := f.Bus.PublishBatch(ctx, out); err != nil {
		return fmt.Errorf("fan-out: %d of %d deliveries and archive copies stored: %w", n, len(out), err)
	}
	return nil
}

// deliveries returns one delivery per target the event matches.
func (f *Fanout) deliveries(snap *Snapshot, bus string, m *wims.Message, buf *[]string) ([]wims.Outgoing, error) {
	br := snap.buses[bus]
	if br == nil {
		return nil, nil
	}
	names, err := br.matcher.AppendMatches((*buf)[:0], m.Data)
	*buf = names
	if err != nil {
		return nil, wims.Permanent(fmt.Errorf("fan-out on bus %s: %w", bus, err))
	}
	if len(names) == 0 {
		return nil, nil
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
			out = append(out, wims.Outgoing{
				Subject: f.Deliveries, ID: "dlv:" + msgID(m) + ":" + t.Key, Data: m.Data,
				Header: deliveryHeader(t, bus, ingested, eventID, m.Header),
			})
		}
	}
	return out, nil
}

// deliveryHeader names a delivery's target (and so its dead letter), when
// the event reached the bus, and what travels on from the event's message.
func deliveryHeader(t *RouteTarget, bus, ingested, eventID string, from map[string]string) map[string]string {
	h := map[string]string{
		HeaderTargetKey: t.Key, HeaderRule: t.RuleName, HeaderTarget: t.ID, HeaderBus: bus, HeaderIngested: ingested,
		wims.HeaderEventID: eventID,
	}
	if d := t.DeadLetterConfig; d != nil && d.Arn != "" {
		h[wims.HeaderDeadLetterARN] = d.Arn
	}
	for _, k := range []string{wims.HeaderTraceParent, HeaderHops, wims.HeaderReplayName, wims.HeaderClaimCheck} {
		if v := from[k]; v != "" {
			h[k] = v
		}
	}
	return h
}

// archive appends a copy of the event for each archive that keeps it.
func (f *Fanout) archive(snap *Snapshot, bus string, m *wims.Message, buf *[]string, out []wims.Outgoing) ([]wims.Outgoing, error) {
	names, err := snap.archivesFor((*buf)[:0], bus, m.Data)
	*buf = names
	if err != nil {
		return nil, wims.Permanent(fmt.Errorf("archive on bus %s: %w", bus, err))
	}
	if len(names) == 0 {
		return out, nil
	}
	eventID := EventID(m)
	for _, name := range names {
		h := map[string]string{wims.HeaderEventID: eventID}
		if tp := m.Header[wims.HeaderTraceParent]; tp != "" {
			h[wims.HeaderTraceParent] = tp
		}
		if cc := m.Header[wims.HeaderClaimCheck]; cc != "" {
			h[wims.HeaderClaimCheck] = cc // a replay's targets learn where the payload is
		}
		out = append(out, wims.Outgoing{
			Subject: snap.archives[bus].subjects[name], ID: "arc:" + name + ":" + eventID, Data: m.Data, Header: h,
		})
	}
	return out, nil
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
