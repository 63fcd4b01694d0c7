package wims

import (
	"strings"
	"time"
)

// Span is one recorded span of a trace: a hop of a request's way through
// wims (the HTTP request, a consumer handling the event it caused, the
// payment call), as tracing.SpanStore keeps it and GET /traces/{traceId}
// and the console show it.
type Span struct {
	TraceID string `json:"traceId"`
	SpanID  string `json:"spanId"`
	// ParentID is the parent span's id, "" for a root. The parent may be
	// another service's or evicted, so it need not be in the same answer.
	ParentID string `json:"parentSpanId,omitempty"`
	Name     string `json:"name"`
	// Kind is "server", "client", "producer", "consumer" or "internal".
	Kind  string    `json:"kind"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Status is "unset", "ok" or "error"; StatusMessage says what failed.
	Status        string `json:"status"`
	StatusMessage string `json:"statusMessage,omitempty"`
	// Attributes are the few that say what the span was about (see
	// SpanAttributes), as text.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Duration is how long the span took.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Span statuses.
const (
	SpanUnset = "unset"
	SpanOK    = "ok"
	SpanError = "error"
)

// SpanAttributes are the attributes a recorded span keeps; the others are
// dropped to keep the store small (an OTLP collector still gets them all).
var SpanAttributes = []string{
	"http.request.method", "http.route", "http.response.status_code", "url.path",
	"messaging.destination.name", "messaging.message.id", "wims.order.id",
}

// TraceReader answers the spans of the traces recorded recently.
type TraceReader interface {
	// Trace returns the spans of the trace with W3C trace id traceID (32
	// lowercase hex digits), by start time; nil when none are known (never
	// recorded here, or evicted).
	Trace(traceID string) []Span
}

// ValidTraceID reports whether id is a W3C trace id: 32 lowercase hex
// digits, not all zero.
func ValidTraceID(id string) bool {
	if len(id) != 32 {
		return false
	}
	zero := true
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c == '0':
		case c >= '1' && c <= '9', c >= 'a' && c <= 'f':
			zero = false
		default:
			return false
		}
	}
	return !zero
}

// TraceIDOf returns the trace id of a W3C traceparent
// ("00-<trace id>-<span id>-<flags>"), or "" if tp is not one.
func TraceIDOf(tp string) string {
	version, rest, ok := strings.Cut(tp, "-")
	if !ok || len(version) != 2 || version == "ff" {
		return ""
	}
	id, rest, ok := strings.Cut(rest, "-")
	if !ok || !ValidTraceID(id) || len(rest) < 19 || rest[16] != '-' {
		return ""
	}
	return id
}
