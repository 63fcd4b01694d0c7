package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wims/wims"
)

// Limits of GET /events.
const (
	defaultEventsLimit = 100
	maxEventsLimit     = 1000
	// maxOrderOrSKULength bounds ?order= and ?sku= (order ids and SKUs are
	// shorter); longer can match nothing.
	maxOrderOrSKULength = 256
)

// tailPoll is how often GET /events/stream looks for new events.
const tailPoll = 250 * time.Millisecond

// eventQuery reads the query of GET /events and GET /events/stream.
func eventQuery(q url.Values, now time.Time) (wims.EventQuery, error) {
	f := wims.EventQuery{EventFilter: wims.EventFilter{
		Limit:      defaultEventsLimit,
		Source:     q.Get("source"),
		DetailType: q.Get("detail-type"),
		LogGroup:   q.Get("log-group"),
	}, OrderID: q.Get("order"), SKU: q.Get("sku"), Pattern: q.Get("pattern"), Cursor: q.Get("cursor")}
	if f.LogGroup == wims.EventLogGroup {
		f.LogGroup = ""
	}
	if len(f.LogGroup) > 512 {
		return f, wims.FieldError("log-group", "must be at most 512 characters")
	}
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsLimit {
			return f, wims.FieldError("limit", "must be a whole number from 1 to %d", maxEventsLimit)
		}
		f.Limit = n
	}
	// EventBridge caps source and detail-type at 256 characters; longer
	// cannot match anything, and bounding it bounds the work.
	for field, v := range map[string]string{"source": f.Source, "detail-type": f.DetailType, "order": f.OrderID, "sku": f.SKU, "cursor": f.Cursor} {
		if len(v) > maxOrderOrSKULength {
			return f, wims.FieldError(field, "must be at most %d characters", maxOrderOrSKULength)
		}
	}
	if len(f.Pattern) > wims.MaxEventPatternLength {
		return f, wims.FieldError("pattern", "must be at most %d characters", wims.MaxEventPatternLength)
	}
	var err error
	if f.Since, err = timeParam(q, "since", now); err != nil {
		return f, err
	}
	if f.Until, err = timeParam(q, "until", now); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, wims.FieldError("until", "must be after since")
	}
	return f, nil
}

// viewerEventQuery is eventQuery for the request's principal: a role that
// may not see customer identifiers may not select events by one either.
func viewerEventQuery(r *http.Request, now time.Time) (wims.EventQuery, error) {
	q, err := eventQuery(r.URL.Query(), now)
	if err != nil {
		return q, err
	}
	if role := principalFrom(r.Context()).role; !seesCustomers(role) && patternNamesCustomer(q.Pattern) {
		return q, errCustomerSelector(role, "a pattern on customerId")
	}
	return q, nil
}

// timeParam reads an RFC 3339 time or a duration before now ("15m").
func timeParam(q url.Values, name string, now time.Time) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, wims.FieldError(name, "must be an RFC 3339 time (2026-12-02T10:00:00Z) or a duration ago (15m)")
}

// handleEvents answers a page of the event log, {"events":[…],"next",
// "prev"}, in the order events were logged: the newest matching ones, or
// from since on. 503 when the server has no event log.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	q, err := viewerEventQuery(r, s.now())
	if err != nil {
		return err
	}
	if s.events == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "The event log is not available in this configuration.")
	}
	page, err := s.events.Query(r.Context(), q)
	if err != nil {
		return err
	}
	if page.Events == nil {
		page.Events = []json.RawMessage{}
	}
	if !viewerSeesCustomers(r) {
		for i, ev := range page.Events {
			page.Events[i] = redactJSON(ev)
		}
	}
	return s.writeJSON(w, r, http.StatusOK, page)
}

// handleEventStream follows the event log as server-sent events: each
// matching event as it is logged (from since, or from now), one "event"
// message per event whose id is the cursor after it, so a client that
// reconnects with Last-Event-ID misses nothing.
func (s *Server) handleEventStream(w http.ResponseWriter, r *http.Request) error {
	q, err := viewerEventQuery(r, s.now())
	if err != nil {
		return err
	}
	redact := !viewerSeesCustomers(r)
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		q.Cursor, q.Since = id, time.Time{}
	}
	if s.events == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "The event log is not available in this configuration.")
	}
	if q.Cursor == "" && q.Since.IsZero() {
		// From now: the cursor after the newest event.
		head, err := s.events.Query(r.Context(), wims.EventQuery{EventFilter: wims.EventFilter{Limit: 1, LogGroup: q.LogGroup}})
		if err != nil {
			return err
		}
		q.Cursor = head.Next
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": following the event log\n\n")
	// The server's write timeout would cut a long stream; each write
	// extends it instead.
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return nil // the client is gone, or the connection cannot stream
	}
	tick := time.NewTicker(tailPoll)
	defer tick.Stop()
	idle := 0
	for {
		page, err := s.events.Query(r.Context(), q)
		if err != nil {
			if r.Context().Err() != nil {
				return nil
			}
			s.logger.Warn("event stream read failed", "err", err)
		} else {
			for _, ev := range page.Events {
				if redact {
					ev = redactJSON(ev)
				}
				fmt.Fprintf(w, "event: event\ndata: %s\n\n", compactJSON(ev))
			}
			if len(page.Events) > 0 || page.Next != q.Cursor {
				fmt.Fprintf(w, "id: %s\n\n", page.Next)
			}
			q.Cursor, q.Since = page.Next, time.Time{}
			if len(page.Events) > 0 {
				idle = 0
			} else if idle++; idle%40 == 0 {
				fmt.Fprint(w, ": keep-alive\n\n") // every ~10 s, so proxies keep the stream open
			}
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-s.closing:
			return nil
		case <-tick.C:
		}
	}
}

// compactJSON puts an event on one line, as an SSE data field needs.
func compactJSON(b json.RawMessage) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}

// handleEventPayload resolves a claim check: the detail of a claim-checked
// event, exactly as it was put (so its SHA-256 is the reference's), unless
// the viewer may not see customers, who gets it redacted like every event.
func (s *Server) handleEventPayload(w http.ResponseWriter, r *http.Request) error {
	if s.payloads == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "Claim-checked payloads are not available in this configuration.")
	}
	p, err := s.payloads.GetEventPayload(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	body := p.Detail
	if !viewerSeesCustomers(r) {
		body = redactJSON(body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}
