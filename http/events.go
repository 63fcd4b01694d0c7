package http

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/wims/wims"
)

// Limits of GET /events.
const (
	defaultEventsLimit = 100
	maxEventsLimit     = 1000
)

// handleEvents answers {"events":[…]}: recent envelopes from the event log,
// newest first, filtered by source and detail-type. 503 when the server has
// no event log.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := wims.EventFilter{
		Limit:      defaultEventsLimit,
		Source:     q.Get("source"),
		DetailType: q.Get("detail-type"),
		LogGroup:   q.Get("log-group"),
	}
	if f.LogGroup == wims.EventLogGroup {
		f.LogGroup = ""
	}
	if len(f.LogGroup) > 512 {
		return wims.FieldError("log-group", "must be at most 512 characters")
	}
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsLimit {
			return wims.FieldError("limit", "must be a whole number from 1 to %d", maxEventsLimit)
		}
		f.Limit = n
	}
	// EventBridge caps source and detail-type at 256 characters; longer
	// cannot match anything, and bounding it bounds the work.
	if len(f.Source) > 256 {
		return wims.FieldError("source", "must be at most 256 characters")
	}
	if len(f.DetailType) > 256 {
		return wims.FieldError("detail-type", "must be at most 256 characters")
	}
	if s.events == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "The event log is not available in this configuration.")
	}
	events, err := s.events.RecentEvents(r.Context(), f)
	if err != nil {
		return err
	}
	if events == nil {
		events = []json.RawMessage{}
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Events []json.RawMessage `json:"events"`
	}{events})
}
