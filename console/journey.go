package console

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/wims/wims"
)

// Bounds of an order's journey.
const (
	// journeyEvents is how many of the order's events it shows, the
	// first logged.
	journeyEvents = 100
	// journeySpans is how many spans its waterfall draws (in tree order,
	// so the first hops of the trace).
	journeySpans = 200
	// eventLogSkew is how long before the order's creation its events are
	// looked for: the API's clock and the bus's may differ a little.
	eventLogSkew = time.Minute
)

// journeyEntry is one moment of an order's journey, as the page and the
// stream show it.
type journeyEntry struct {
	at   time.Time
	Time string `json:"at"`
	Kind string `json:"kind"` // request, status, step, payment, event
	// KindText is the kind as the table shows it.
	KindText string `json:"kindText"`
	Label    string `json:"label"`
	Detail   string `json:"detail,omitempty"`
	// Status is the order status an entry of kind status shows as a badge.
	Status string `json:"status,omitempty"`
	// Href links an event to its page.
	Href string `json:"href,omitempty"`
}

// kindText is how the table names a kind of entry.
func kindText(kind string) string {
	switch kind {
	case "request":
		return "HTTP"
	case "step":
		return "workflow"
	}
	return kind
}

// journey is an order's way through wims: what happened when, merged from
// the store and the event log, and its trace.
type journey struct {
	Entries []journeyEntry `json:"entries"`
	// EventsNote says why the order's events are missing, "" if shown.
	EventsNote string `json:"eventsNote,omitempty"`
	// Trace is the waterfall of the order's trace; nil with TraceNote
	// saying why there is none.
	Trace     *waterfall `json:"trace,omitempty"`
	TraceNote string     `json:"traceNote,omitempty"`
	// unread says the event log could not be read: try again.
	unread bool
}

// journeyEvent is what the journey reads of a logged event.
type journeyEvent struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Source     string    `json:"source"`
	DetailType string    `json:"detail-type"`
	Detail     struct {
		Meta struct {
			TraceParent string `json:"traceparent"`
		} `json:"meta"`
	} `json:"detail"`
}

// orderJourney gathers o's journey as s may see it: the request, its
// statuses, the workflow's steps, the payment attempts, and, for a role
// that may read the event log, the events it caused and its trace.
func (h *Handler) orderJourney(ctx context.Context, s *session, o wims.Order, hist []wims.StatusChange, pays []wims.PaymentAttempt, execs []wims.Execution) journey {
	var j journey
	var events []journeyEvent
	traceID := ""
	switch {
	case !s.seesLogs():
		j.EventsNote = "Your role (" + string(s.role) + ") may not read the event log, so the order's events are not shown, as in the API."
	case h.events == nil:
		j.EventsNote = "The event log is not available in this configuration."
	default:
		var err error
		if events, err = h.orderEvents(ctx, o); err != nil {
			if ctx.Err() == nil { // not just the page going away
				h.log.WarnContext(ctx, "console: the order's events", "order", o.ID, "err", err)
			}
			j.EventsNote, j.unread = "The event log could not be read just now.", true
		}
		// The first change of the order carries the request's trace.
		for _, ev := range events {
			if traceID = wims.TraceIDOf(ev.Detail.Meta.TraceParent); traceID != "" {
				break
			}
		}
	}

	var spans []wims.Span
	switch {
	case !s.seesLogs():
		j.TraceNote = "Your role (" + string(s.role) + ") may not read traces, as in the API."
	case h.traces == nil:
		j.TraceNote = "Traces are not available in this configuration."
	case traceID == "" && j.EventsNote != "":
		j.TraceNote = "The order's trace is found through its events, which are not shown."
	case traceID == "":
		j.TraceNote = "None of the order's events names a trace (yet)."
	default:
		if spans = h.traces.Trace(traceID); len(spans) == 0 {
			j.TraceNote = "No spans of trace " + traceID + " are kept here: only the newest traces are, of the requests this instance served (this one may have been evicted, or served by another instance)."
		} else {
			j.Trace = newWaterfall(traceID, spans)
		}
	}

	j.Entries = append(j.Entries, requestEntry(o, spans))
	for _, c := range hist {
		j.Entries = append(j.Entries, journeyEntry{at: c.At, Kind: "status", Label: string(c.Status), Status: string(c.Status), Detail: c.Reason})
	}
	for _, x := range execs {
		for _, st := range x.Steps {
			d := x.Workflow + " · " + st.Outcome + " · " + ms(st.DurationMS)
			if st.Error != "" {
				d += " · " + st.Error
			}
			j.Entries = append(j.Entries, journeyEntry{at: st.StartedAt, Kind: "step", Label: st.Name, Detail: d})
		}
	}
	for _, p := range pays {
		d := string(p.Outcome)
		if p.StatusCode != 0 {
			d += " · HTTP " + strconv.Itoa(p.StatusCode)
		}
		d += " · " + ms(p.DurationMS)
		if p.Error != "" {
			d += " · " + p.Error
		}
		j.Entries = append(j.Entries, journeyEntry{at: p.At, Kind: "payment", Label: "Payment attempt " + strconv.Itoa(p.Attempt), Detail: d})
	}
	for _, ev := range events {
		e := journeyEntry{at: ev.Time, Kind: "event", Label: ev.DetailType, Detail: ev.Source}
		if ev.ID != "" {
			e.Href = "/ui/events/" + url.PathEscape(ev.ID)
		}
		j.Entries = append(j.Entries, e)
	}
	// By time; what happened in the same instant keeps the order above
	// (the request, then statuses, steps, payments, events).
	slices.SortStableFunc(j.Entries, func(a, b journeyEntry) int { return a.at.Compare(b.at) })
	for i := range j.Entries {
		j.Entries[i].Time, j.Entries[i].KindText = formatTime(j.Entries[i].at), kindText(j.Entries[i].Kind)
	}
	return j
}

// orderEvents reads the first events logged about o, oldest first.
func (h *Handler) orderEvents(ctx context.Context, o wims.Order) ([]journeyEvent, error) {
	page, err := h.events.Query(ctx, wims.EventQuery{
		EventFilter: wims.EventFilter{Limit: journeyEvents}, OrderID: o.ID, Since: o.CreatedAt.Add(-eventLogSkew),
	})
	if err != nil {
		return nil, err
	}
	out := make([]journeyEvent, 0, len(page.Events))
	for _, raw := range page.Events {
		var ev journeyEvent
		if json.Unmarshal(raw, &ev) == nil {
			out = append(out, ev)
		}
	}
	return out, nil
}

// requestEntry is the HTTP request that placed o: its span when the trace
// is known, else the order's creation.
func requestEntry(o wims.Order, spans []wims.Span) journeyEntry {
	e := journeyEntry{at: o.CreatedAt, Kind: "request", Label: "POST /orders", Detail: "accepted"}
	for _, sp := range spans {
		if sp.Kind == "server" && sp.Attributes["http.route"] == "POST /orders" {
			e.at = sp.Start
			if code := sp.Attributes["http.response.status_code"]; code != "" {
				e.Detail = "accepted · HTTP " + code
			}
			e.Detail += " · " + duration(sp.Duration())
			break
		}
	}
	return e
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " ms" }

// duration shows a span's length to a tenth of a millisecond, or in
// seconds from 10 s.
func duration(d time.Duration) string {
	if d >= 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
	return ms(float64(d.Microseconds()) / 1000)
}

// Geometry of the waterfall, in SVG user units: a column of span names,
// then the time axis.
const (
	wfWidth    = 1000.0
	wfLabelW   = 300.0 // the names' column
	wfLeft     = wfLabelW + 10
	wfRight    = wfWidth - 70 // room for the duration after the last bar
	wfAxisH    = 24.0
	wfRowH     = 22.0
	wfBarH     = 14.0
	wfIndent   = 14.0
	wfMaxDepth = 12
)

// waterfall is a trace drawn as bars on one time axis: each span's
// offset and width scaled to the trace's duration, indented by its depth.
// The page renders it as SVG; the stream sends the same numbers, which the
// script draws the same way. Width and Height are the SVG's view box.
type waterfall struct {
	TraceID string `json:"traceId"`
	// Summary says how many spans over how long ("12 spans over 35.2 ms").
	Summary string   `json:"summary"`
	Width   float64  `json:"width"`
	Height  float64  `json:"height"`
	Ticks   []wfTick `json:"ticks"`
	Bars    []wfBar  `json:"bars"`
}

// wfTick is a mark on the time axis: a grid line from Y1 to Y2, its label
// on LabelY.
type wfTick struct {
	X      float64 `json:"x"`
	Y1     float64 `json:"y1"`
	Y2     float64 `json:"y2"`
	LabelY float64 `json:"labelY"`
	Label  string  `json:"label"`
}

// wfBar is one span: its name at LabelX, its bar from X, W wide, its
// duration at DurX; all on the row at Y.
type wfBar struct {
	Name   string  `json:"name"`
	Title  string  `json:"title"` // name, duration and status: the bar's tooltip
	Class  string  `json:"class"` // span span-<kind> [span-error]
	Depth  int     `json:"depth"`
	LabelX float64 `json:"labelX"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	W      float64 `json:"w"`
	H      float64 `json:"h"`
	TextY  float64 `json:"textY"`
	DurX   float64 `json:"durX"`
	Dur    string  `json:"dur"`
}

// newWaterfall lays out spans (by start time, as TraceReader answers):
// each child below its parent, children by start time.
func newWaterfall(traceID string, spans []wims.Span) *waterfall {
	t0, t1 := spans[0].Start, spans[0].End
	byID := make(map[string]bool, len(spans))
	for _, sp := range spans {
		if sp.Start.Before(t0) {
			t0 = sp.Start
		}
		if sp.End.After(t1) {
			t1 = sp.End
		}
		byID[sp.SpanID] = true
	}
	total := max(t1.Sub(t0), time.Microsecond)
	children := map[string][]int{}
	var roots []int
	for i, sp := range spans {
		if sp.ParentID != "" && byID[sp.ParentID] && sp.ParentID != sp.SpanID {
			children[sp.ParentID] = append(children[sp.ParentID], i)
		} else {
			roots = append(roots, i)
		}
	}
	w := &waterfall{TraceID: traceID, Width: wfWidth}
	hidden := 0
	scale := (wfRight - wfLeft) / float64(total)
	seen := make([]bool, len(spans))
	var visit func(i, depth int)
	visit = func(i, depth int) {
		if seen[i] {
			return
		}
		seen[i] = true
		if len(w.Bars) == journeySpans {
			hidden++
		} else {
			w.Bars = append(w.Bars, newBar(spans[i], depth, len(w.Bars), t0, scale))
		}
		for _, c := range children[spans[i].SpanID] {
			visit(c, depth+1)
		}
	}
	for _, r := range roots {
		visit(r, 0)
	}
	for i := range spans { // a cycle of parents, which valid ids cannot make
		visit(i, 0)
	}
	w.Summary = strconv.Itoa(len(spans)) + " spans over " + duration(total)
	if hidden > 0 {
		w.Summary += ", " + strconv.Itoa(hidden) + " not drawn"
	}
	w.Height = wfAxisH + float64(len(w.Bars))*wfRowH + 4
	for i := range 5 {
		f := float64(i) / 4
		w.Ticks = append(w.Ticks, wfTick{
			X: round1(wfLeft + f*(wfRight-wfLeft)), Y1: wfAxisH - 4, Y2: w.Height, LabelY: wfAxisH - 8,
			Label: duration(time.Duration(f * float64(total))),
		})
	}
	return w
}

func newBar(sp wims.Span, depth, row int, t0 time.Time, scale float64) wfBar {
	d := sp.Duration()
	y := wfAxisH + float64(row)*wfRowH + (wfRowH-wfBarH)/2
	b := wfBar{
		Name: shorten(sp.Name, 40-2*min(depth, wfMaxDepth)), Dur: duration(d), Depth: depth,
		LabelX: 8 + float64(min(depth, wfMaxDepth))*wfIndent,
		X:      round1(wfLeft + float64(sp.Start.Sub(t0))*scale),
		Y:      y, H: wfBarH, TextY: y + wfBarH - 3,
		W:     round1(max(float64(d)*scale, 1)),
		Class: "span span-" + sp.Kind,
	}
	b.DurX = round1(b.X + b.W + 4)
	b.Title = sp.Name + " · " + b.Dur
	if sp.Status == wims.SpanError {
		b.Class += " span-error"
		b.Title += " · error"
		if sp.StatusMessage != "" {
			b.Title += ": " + sp.StatusMessage
		}
	}
	return b
}

// shorten cuts s to n characters, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
