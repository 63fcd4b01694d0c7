package wims

import (
	"strings"
	"time"
)

// DeadLetterFilter selects dead letters, for listing, bulk redrive and
// purge. Zero fields match everything.
type DeadLetterFilter struct {
	// Consumer is the consumer that gave up (e.g. "platform-deliveries").
	Consumer string `json:"consumer,omitempty"`
	// Rule, Target and Bus name the event-platform target that failed.
	Rule   string `json:"rule,omitempty"`
	Target string `json:"target,omitempty"`
	Bus    string `json:"bus,omitempty"`
	// Reason matches dead letters whose reason contains it, ignoring case.
	Reason string `json:"reason,omitempty"`
	// Since and Until bound when the message was dead-lettered: [Since, Until).
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// Empty reports whether the filter matches every dead letter.
func (f DeadLetterFilter) Empty() bool { return f == DeadLetterFilter{} }

// Match reports whether the dead letter m passes the filter.
func (f DeadLetterFilter) Match(m *Message) bool {
	h := m.Header
	switch {
	case f.Consumer != "" && h[HeaderDLQConsumer] != f.Consumer,
		f.Rule != "" && h[HeaderRule] != f.Rule,
		f.Target != "" && h[HeaderTarget] != f.Target,
		f.Bus != "" && h[HeaderBus] != f.Bus,
		f.Reason != "" && !strings.Contains(strings.ToLower(h[HeaderDLQReason]), strings.ToLower(f.Reason)),
		!f.Since.IsZero() && m.Stored.Before(f.Since),
		!f.Until.IsZero() && !m.Stored.Before(f.Until):
		return false
	}
	return true
}
