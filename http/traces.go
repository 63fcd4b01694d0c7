package http

import (
	"net/http"
	"strings"

	"github.com/wims/wims"
)

// traceView is GET /traces/{traceId}'s answer.
type traceView struct {
	TraceID string      `json:"traceId"`
	Spans   []traceSpan `json:"spans"`
}

// traceSpan is a span with its duration worked out.
type traceSpan struct {
	wims.Span
	DurationMS float64 `json:"durationMs"`
}

// handleTrace answers the spans this instance keeps of a trace, by start
// time: the newest traces' spans, in memory, so an older trace, or one
// another instance served, is 404 (a collector behind --otlp-endpoint has
// them all).
func (s *Server) handleTrace(w http.ResponseWriter, r *http.Request) error {
	// Trace ids are lower case (W3C); one pasted in upper case is the same.
	id := strings.ToLower(r.PathValue("traceId"))
	if !wims.ValidTraceID(id) {
		return wims.FieldError("traceId", "must be a W3C trace id: 32 hex digits, not all zero")
	}
	if s.traces == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "Traces are not available in this configuration.")
	}
	spans := s.traces.Trace(id)
	if len(spans) == 0 {
		return wims.Errorf(wims.ENOTFOUND, "No spans of trace %s are kept here: only the newest traces are, of the requests this instance served.", id)
	}
	v := traceView{TraceID: id, Spans: make([]traceSpan, len(spans))}
	for i, sp := range spans {
		v.Spans[i] = traceSpan{Span: sp, DurationMS: float64(sp.Duration().Microseconds()) / 1000}
	}
	return s.writeJSON(w, r, http.StatusOK, v)
}
