// Package eventlog is the event log, the course's CloudWatch log group: the
// event-log target copies every event it is routed into a stream of its own
// (deduplicated by event id), and Query reads it back by time, by order or
// SKU, by source, detail-type or event pattern, a page at a time.
//
// Source and detail-type travel as message headers, and the order and the
// SKU an event is about as the last two tokens of its subject, so that
// selecting by them costs no decoding (and, for order and SKU, no transfer:
// the server filters subjects). An event has one SKU token: an order's
// events carry the order's sku, which for a multi-line order is its first
// line's, so a query by SKU finds a multi-line order's own events by that
// SKU only (its lines' stock changes each under their own SKU), unlike
// wims.OrderFilter.SKU, which matches any line.
package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wims/wims"
)

// Headers carrying envelope fields, for filtering without decoding.
const (
	HeaderSource     = "Wims-Source"
	HeaderDetailType = "Wims-Detail-Type"
)

// Bus is what the event log needs from the bus.
type Bus interface {
	Publish(ctx context.Context, m wims.Outgoing) (duplicate bool, err error)
	ScanForward(ctx context.Context, subject string, from uint64, limit, budget int, keep, stop func(*wims.Message) bool) (wims.MessagePage, error)
	ScanBackward(ctx context.Context, subject string, before uint64, limit, budget int, keep func(*wims.Message) bool) (wims.MessagePage, error)
	SeqAt(ctx context.Context, subject string, t time.Time) (uint64, error)
}

// Log is the event log.
type Log struct {
	Bus     Bus
	Subject string // e.g. "wims.eventlog.events"
	// GroupSubject names the subject of a log group other than the
	// default one (rule targets arn:aws:logs:…:log-group:NAME); nil: only
	// the default log can be read.
	GroupSubject func(group string) string
	// ScanMax bounds how many log entries one query reads (default
	// 10,000), so a filter that matches little answers quickly, with a
	// cursor to read on from, instead of reading everything.
	ScanMax int
	// Patterns, if set, rewrites a query's pattern as rules' patterns are
	// (eventcrypt.Keyring.RewritePattern), so a query on a sensitive field
	// finds the events that carry it encrypted.
	Patterns func(p []byte) ([]byte, error)
}

// Handle appends one event to the log. It is a wims.Handler.
func (l *Log) Handle(ctx context.Context, m *wims.Message) error {
	entry, err := l.Entry(m)
	if err != nil {
		return err
	}
	if _, err := l.Bus.Publish(ctx, entry); err != nil {
		return fmt.Errorf("event log append %s: %w", entry.ID, err)
	}
	return nil
}

// Entry returns the message that appends m to the log, for a writer that
// publishes it itself (the relay logs its events in the batch that
// publishes them). An event that is not a JSON object is a permanent
// error; one whose order or SKU is not a string is logged under "~".
func (l *Log) Entry(m *wims.Message) (wims.Outgoing, error) {
	env, err := aboutOf(m.Data)
	if err != nil {
		return wims.Outgoing{}, wims.Permanent(fmt.Errorf("decode event: %w", err))
	}
	// The message's id names this copy: log groups share one stream, so
	// the delivery worker gives each group's copy (and each replay's) an id
	// of its own, which the stream's deduplication would otherwise drop.
	id := m.ID
	if id == "" {
		id = env.id
	}
	h := map[string]string{HeaderSource: env.source, HeaderDetailType: env.detailType}
	if tp := m.Header[wims.HeaderTraceParent]; tp != "" {
		h[wims.HeaderTraceParent] = tp
	}
	subject := l.Subject + "." + Token(env.order) + "." + Token(env.sku)
	return wims.Outgoing{Subject: subject, ID: id, Data: m.Data, Header: h}, nil
}

// RecentEvents returns up to f.Limit events, newest first, that match the
// filter's source and detail-type (empty matches all).
func (l *Log) RecentEvents(ctx context.Context, f wims.EventFilter) ([]json.RawMessage, error) {
	page, err := l.Query(ctx, wims.EventQuery{EventFilter: f})
	if err != nil {
		return nil, err
	}
	out := page.Events
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
