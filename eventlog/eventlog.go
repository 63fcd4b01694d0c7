// Package eventlog is the event log, the course's CloudWatch log group: the
// event-log target copies every event it is routed into a stream of its own
// (deduplicated by event id), and RecentEvents reads it back newest first
// for GET /events.
//
// Source and detail-type travel as message headers so that filtering a query
// does not decode every event body.
package eventlog

import (
	"context"
	"encoding/json"
	"fmt"

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
	Recent(ctx context.Context, subject string, limit, scanMax int, keep func(*wims.Message) bool) ([]*wims.Message, error)
}

// Log is the event log.
type Log struct {
	Bus     Bus
	Subject string // e.g. "wims.eventlog.events"
	// GroupSubject names the subject of a log group other than the
	// default one (rule targets arn:aws:logs:…:log-group:NAME); nil: only
	// the default log can be read.
	GroupSubject func(group string) string
	// ScanMax bounds how many log entries one query examines (default 100,000),
	// so a filter that matches nothing answers quickly instead of reading everything.
	ScanMax int
}

// Handle appends one event to the log. It is a wims.Handler.
func (l *Log) Handle(ctx context.Context, m *wims.Message) error {
	var env struct {
		ID         string `json:"id"`
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(m.Data, &env); err != nil {
		return wims.Permanent(fmt.Errorf("decode event: %w", err))
	}
	// The message's id names this copy: log groups share one stream, so
	// the delivery worker gives each group's copy (and each replay's) an id
	// of its own, which the stream's deduplication would otherwise drop.
	id := m.ID
	if id == "" {
		id = env.ID
	}
	h := map[string]string{HeaderSource: env.Source, HeaderDetailType: env.DetailType}
	if tp := m.Header[wims.HeaderTraceParent]; tp != "" {
		h[wims.HeaderTraceParent] = tp
	}
	if _, err := l.Bus.Publish(ctx, wims.Outgoing{Subject: l.Subject, ID: id, Data: m.Data, Header: h}); err != nil {
		return fmt.Errorf("event log append %s: %w", id, err)
	}
	return nil
}

// RecentEvents returns up to f.Limit events, newest first, that match the
// filter's source and detail-type (empty matches all).
func (l *Log) RecentEvents(ctx context.Context, f wims.EventFilter) ([]json.RawMessage, error) {
	scan := l.ScanMax
	if scan <= 0 {
		scan = 100_000
	}
	keep := func(m *wims.Message) bool {
		return (f.Source == "" || m.Header[HeaderSource] == f.Source) &&
			(f.DetailType == "" || m.Header[HeaderDetailType] == f.DetailType)
	}
	subject := l.Subject
	if f.LogGroup != "" {
		if l.GroupSubject == nil {
			return nil, wims.Errorf(wims.ENOTFOUND, "log group %s not found", f.LogGroup)
		}
		subject = l.GroupSubject(f.LogGroup)
	}
	msgs, err := l.Bus.Recent(ctx, subject, f.Limit, scan, keep)
	if err != nil {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	out := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		out[i] = m.Data
	}
	return out, nil
}
