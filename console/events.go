package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/pattern"
)

// Limits of the events pages.
const (
	eventsPerPage = 50
	// patternTestEvents is how many of the newest events "Test a pattern"
	// matches against.
	patternTestEvents = 100
	maxEventFilter    = 256
)

// eventRow is one event as the events table shows it, and as the events
// stream sends it.
type eventRow struct {
	ID         string `json:"id"`
	Href       string `json:"href"`
	Time       string `json:"time"`
	Source     string `json:"source"`
	DetailType string `json:"detailType"`
}

// envelope is the part of an event the table shows.
type envelope struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Source     string    `json:"source"`
	DetailType string    `json:"detail-type"`
}

func newEventRow(ev json.RawMessage) eventRow {
	var e envelope
	_ = json.Unmarshal(ev, &e) // a malformed entry shows as a row of dashes
	row := eventRow{ID: e.ID, Time: formatTime(e.Time), Source: e.Source, DetailType: e.DetailType}
	if e.ID != "" {
		row.Href = "/ui/events/" + url.PathEscape(e.ID)
	}
	return row
}

// eventFilter is the events page's filter form.
type eventFilter struct {
	Pattern, Order, SKU, Since string
}

// query is the filter as an event-log query, for s.
func (f eventFilter) query(s *session, now time.Time) (wims.EventQuery, error) {
	q := wims.EventQuery{EventFilter: wims.EventFilter{Limit: eventsPerPage}, OrderID: f.Order, SKU: f.SKU, Pattern: f.Pattern}
	for field, v := range map[string]string{"order": f.Order, "sku": f.SKU} {
		if len(v) > maxEventFilter {
			return q, wims.FieldError(field, "must be at most %d characters", maxEventFilter)
		}
	}
	if err := checkPattern(s, f.Pattern); err != nil {
		return q, err
	}
	if f.Since != "" {
		t, err := parseSince(f.Since, now)
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	return q, nil
}

// checkPattern refuses an over-long pattern, and one naming a customer
// identifier for a session that may not see them.
func checkPattern(s *session, p string) error {
	if len(p) > wims.MaxEventPatternLength {
		return wims.FieldError("pattern", "must be at most %d characters", wims.MaxEventPatternLength)
	}
	if !s.seesCustomers() && wimshttp.PatternNamesCustomer(p) {
		return wims.Errorf(wims.EFORBIDDEN, "Your role (%s) may not see customer identifiers, so it may not select by one.", s.role)
	}
	return nil
}

// parseSince reads an RFC 3339 time or a duration ago ("15m").
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, wims.FieldError("since", "must be an RFC 3339 time (2026-12-02T10:00:00Z) or a duration ago (15m)")
}

func (f eventFilter) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"pattern": f.Pattern, "order": f.Order, "sku": f.SKU, "since": f.Since} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// eventsView is the events page's data.
type eventsView struct {
	Filter eventFilter
	Events []eventRow
	First  bool   // the newest page, which the stream adds to
	Next   string // the URL of the older page, "" on the last
	Newer  string // the URL of the page after this one, "" on the newest
	Newest string // the URL of the newest page, "" on it
	Error  string
}

// redactEvent is ev as s may see it.
func redactEvent(s *session, ev json.RawMessage) json.RawMessage {
	if s.seesCustomers() {
		return ev
	}
	return wimshttp.RedactJSON(ev)
}

// eventsUnavailable answers when the console has no event log.
func (h *Handler) eventsUnavailable(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.refuseLogs(w, r, s) {
		return true
	}
	if h.events != nil {
		return false
	}
	h.renderError(w, r, s, http.StatusServiceUnavailable, "The event log is not available in this configuration.")
	return true
}

// refuseLogs answers 403 to a session that may not read the event log
// and the dead letters.
func (h *Handler) refuseLogs(w http.ResponseWriter, r *http.Request, s *session) bool {
	if s.seesLogs() {
		return false
	}
	h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may not read the event log or the dead letters, as in the API.")
	return true
}

// handleEvents lists the event log newest first, filtered, a page at a time.
func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request, s *session) {
	if h.eventsUnavailable(w, r, s) {
		return
	}
	qs := r.URL.Query()
	f := eventFilter{Pattern: qs.Get("pattern"), Order: qs.Get("order"), SKU: qs.Get("sku"), Since: qs.Get("since")}
	v := eventsView{Filter: f, First: qs.Get("cursor") == ""}
	q, err := f.query(s, time.Now())
	if err == nil {
		if c := qs.Get("cursor"); c != "" {
			if len(c) > maxEventFilter {
				err = wims.FieldError("cursor", "is not a cursor this console made")
			}
			q.Cursor, q.Since = c, time.Time{}
		}
	}
	status := http.StatusOK
	var page wims.EventPage
	if err == nil {
		page, err = h.events.Query(r.Context(), q)
	}
	if err != nil {
		switch wims.ErrorCode(err) {
		case wims.EINVALID:
			status, v.Error = http.StatusBadRequest, clientMessage(err)
		case wims.EFORBIDDEN:
			status, v.Error = http.StatusForbidden, wims.ErrorMessage(err)
		default:
			h.storeError(w, r, s, err)
			return
		}
	}
	for _, ev := range slices.Backward(page.Events) {
		v.Events = append(v.Events, newEventRow(ev))
	}
	if page.Prev != "" {
		nv := f.values()
		nv.Set("cursor", page.Prev)
		v.Next = "/ui/events?" + nv.Encode()
	}
	if !v.First {
		v.Newest = "/ui/events"
		if nv := f.values(); len(nv) > 0 {
			v.Newest += "?" + nv.Encode()
		}
	}
	if (!v.First || f.Since != "") && page.Next != "" {
		// A page from since, or an older one: the events after it.
		nv := f.values()
		nv.Del("since")
		nv.Set("cursor", page.Next)
		v.Newer = "/ui/events?" + nv.Encode()
	}
	vw := view{Title: "Events", Nav: "events", Session: s, LoginNeeded: h.keys.enabled(), Data: v}
	if v.First && err == nil && f.Since == "" {
		// The newest page follows the log from where the page ends.
		sv := f.values()
		sv.Set("cursor", page.Next)
		vw.Stream = "/ui/events/stream?" + sv.Encode()
	}
	h.renderView(w, r, status, "events", vw)
}

// eventView is the event page's data.
type eventView struct {
	Row  eventRow
	JSON string // pretty-printed
}

// handleEvent shows one event's full JSON.
func (h *Handler) handleEvent(w http.ResponseWriter, r *http.Request, s *session) {
	if h.eventsUnavailable(w, r, s) {
		return
	}
	id := r.PathValue("id")
	if id == "" || len(id) > maxEventFilter {
		h.renderError(w, r, s, http.StatusNotFound, "No such event.")
		return
	}
	p, err := json.Marshal(map[string][]string{"id": {id}})
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	page, err := h.events.Query(r.Context(), wims.EventQuery{EventFilter: wims.EventFilter{Limit: 1}, Pattern: string(p)})
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if len(page.Events) == 0 {
		h.renderError(w, r, s, http.StatusNotFound, "No such event in the log (it may have expired).")
		return
	}
	ev := redactEvent(s, page.Events[0])
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, ev, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(ev)
	}
	h.renderView(w, r, http.StatusOK, "event", view{
		Title: "Event " + id, Nav: "events", Session: s, LoginNeeded: h.keys.enabled(),
		Data: eventView{Row: newEventRow(ev), JSON: pretty.String()},
	})
}

// patternTestView is the test-a-pattern page's data.
type patternTestView struct {
	Pattern string
	Tested  bool // a pattern was given and compiled
	Looked  int  // how many events were tested
	Matches []eventRow
	Error   string
}

// handlePatternTest shows which of the newest events a pattern matches. It
// changes nothing, so it is a GET.
func (h *Handler) handlePatternTest(w http.ResponseWriter, r *http.Request, s *session) {
	if h.eventsUnavailable(w, r, s) {
		return
	}
	v := patternTestView{Pattern: r.URL.Query().Get("pattern")}
	status := http.StatusOK
	if v.Pattern != "" {
		var err error
		if status, v.Error, err = h.testPattern(r.Context(), s, &v); err != nil {
			h.storeError(w, r, s, err)
			return
		}
	}
	h.renderView(w, r, status, "pattern-test", view{
		Title: "Test a pattern", Nav: "events", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
	})
}

// testPattern fills v.Matches. A bad pattern is a status and a message
// for the page; err is the event log's failure.
func (h *Handler) testPattern(ctx context.Context, s *session, v *patternTestView) (status int, msg string, err error) {
	if err := checkPattern(s, v.Pattern); err != nil {
		if wims.ErrorCode(err) == wims.EFORBIDDEN {
			return http.StatusForbidden, wims.ErrorMessage(err), nil
		}
		return http.StatusBadRequest, clientMessage(err), nil
	}
	src := []byte(v.Pattern)
	if h.patterns != nil {
		if src, err = h.patterns(src); err != nil {
			return http.StatusBadRequest, "The pattern is not valid: " + err.Error(), nil
		}
	}
	p, err := pattern.Compile(src)
	if err != nil {
		return http.StatusBadRequest, "The pattern is not valid: " + err.Error(), nil
	}
	page, err := h.events.Query(ctx, wims.EventQuery{EventFilter: wims.EventFilter{Limit: patternTestEvents}})
	if err != nil {
		return 0, "", err
	}
	v.Tested, v.Looked = true, len(page.Events)
	for _, ev := range slices.Backward(page.Events) {
		ev = redactEvent(s, ev)
		if ok, err := p.Match(ev); err == nil && ok {
			v.Matches = append(v.Matches, newEventRow(ev))
		}
	}
	return http.StatusOK, "", nil
}

// handleEventStream follows the event log from the cursor the events page
// ends at (or Last-Event-ID, after a reconnect), with the page's filter:
// one "event" message per new event, its id the cursor after it.
func (h *Handler) handleEventStream(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.seesLogs() {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if h.events == nil {
		w.WriteHeader(http.StatusNoContent) // an EventSource stops
		return
	}
	qs := r.URL.Query()
	f := eventFilter{Pattern: qs.Get("pattern"), Order: qs.Get("order"), SKU: qs.Get("sku")}
	q, err := f.query(s, time.Now())
	if err != nil {
		http.Error(w, wims.ErrorMessage(err), http.StatusBadRequest)
		return
	}
	q.Cursor = qs.Get("cursor")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		q.Cursor = id
	}
	ctx := r.Context()
	if q.Cursor == "" {
		head, err := h.events.Query(ctx, wims.EventQuery{EventFilter: wims.EventFilter{Limit: 1}})
		if err != nil {
			http.Error(w, "the event log is unavailable", http.StatusServiceUnavailable)
			return
		}
		q.Cursor = head.Next
	}
	select {
	case <-h.closing:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(10*h.interval + 5*time.Second))
	if _, err := fmt.Fprint(w, ": following the event log\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		page, err := h.events.Query(ctx, q)
		if err != nil {
			if ctx.Err() == nil {
				h.log.WarnContext(ctx, "console: event stream", "err", err)
			}
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(10*h.interval + 5*time.Second))
		for _, ev := range page.Events {
			data, err := json.Marshal(newEventRow(redactEvent(s, ev)))
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "event: event\ndata: %s\n\n", data); err != nil {
				return
			}
		}
		if page.Next != q.Cursor {
			fmt.Fprintf(w, "id: %s\n\n", page.Next)
		} else {
			fmt.Fprint(w, ": idle\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
		q.Cursor, q.Since = page.Next, time.Time{}
		select {
		case <-ctx.Done():
			return
		case <-h.closing:
			return
		case <-tick.C:
		}
		if h.sessions.getByID(s.id) == nil {
			return
		}
	}
}
