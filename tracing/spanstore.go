package tracing

import (
	"context"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/wims/wims"
)

// Span is a recorded span, as SpanStore.Trace answers it.
type Span = wims.Span

// Defaults of a SpanStore.
const (
	DefaultMaxSpans         = 10_000
	DefaultMaxSpansPerTrace = 1_000
)

// maxAttrs bounds the attributes a recorded span keeps (of
// wims.SpanAttributes, the first met).
const maxAttrs = 6

// SpanStoreOptions bounds a SpanStore.
type SpanStoreOptions struct {
	// MaxSpans is how many spans the store holds, over all traces
	// (default DefaultMaxSpans). When it is full, the trace that ended a
	// span least recently is evicted whole.
	MaxSpans int
	// MaxSpansPerTrace bounds one trace (default DefaultMaxSpansPerTrace,
	// at most MaxSpans): a trace's spans beyond it are not kept, so one
	// huge trace (a replay) cannot push out every other.
	MaxSpansPerTrace int
}

// SpanStore is a span processor that keeps the spans of the most recent
// traces in memory, so that the console and GET /traces/{traceId} can show
// a trace without a collector. It is bounded (SpanStoreOptions) and cheap
// on the hot path: OnEnd copies a few fields into a preallocated slot under
// a mutex, in constant time (amortised over evictions) and without
// allocating once the store has filled up and seen its traces. It is safe
// for concurrent use.
//
// Install it with sdktrace.WithSpanProcessor; it sees only sampled spans.
type SpanStore struct {
	maxSpans, perTrace int

	mu     sync.Mutex
	slots  []slot // grows up to maxSpans
	free   int32  // first free slot, -1 for none
	held   int    // spans held
	traces map[trace.TraceID]*traceEntry
	// lru is the sentinel of the traces by last activity: lru.next is
	// the most recent, lru.prev the least.
	lru    traceEntry
	spare  *traceEntry // recycled entries, linked by next
	closed bool
}

var _ sdktrace.SpanProcessor = (*SpanStore)(nil)

// record is what the store keeps of a span: fixed-size, so storing one
// allocates nothing; attributes stay attribute values until read.
type record struct {
	name       string
	spanID     trace.SpanID
	parentID   trace.SpanID
	kind       trace.SpanKind
	status     codes.Code
	statusMsg  string
	start, end time.Time
	nattrs     uint8
	attrs      [maxAttrs]attribute.KeyValue
}

type slot struct {
	rec  record
	next int32 // the trace's next span, or the next free slot; -1 for none
}

// traceEntry is one trace's spans, a list of slots, and its place in the
// LRU list.
type traceEntry struct {
	id         trace.TraceID
	head, tail int32
	n          int
	prev, next *traceEntry
}

// NewSpanStore returns an empty store bounded by opt.
func NewSpanStore(opt SpanStoreOptions) *SpanStore {
	st := &SpanStore{maxSpans: opt.MaxSpans, perTrace: opt.MaxSpansPerTrace, free: -1, traces: map[trace.TraceID]*traceEntry{}}
	if st.maxSpans <= 0 {
		st.maxSpans = DefaultMaxSpans
	}
	if st.perTrace <= 0 {
		st.perTrace = DefaultMaxSpansPerTrace
	}
	st.maxSpans = min(st.maxSpans, 1<<30) // slots are indexed by int32
	st.perTrace = min(st.perTrace, st.maxSpans)
	st.lru.next, st.lru.prev = &st.lru, &st.lru
	return st
}

// keptAttribute reports whether a span keeps attribute k
// (wims.SpanAttributes).
func keptAttribute(k attribute.Key) bool {
	switch k {
	case "http.request.method", "http.route", "http.response.status_code", "url.path",
		"messaging.destination.name", "messaging.message.id", "wims.order.id":
		return true
	}
	return false
}

// OnStart does nothing: a span is kept once it has ended.
func (st *SpanStore) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd keeps s, evicting the least recently active traces if the store
// is full.
func (st *SpanStore) OnEnd(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	if !sc.IsValid() {
		return
	}
	rec := record{
		name: s.Name(), spanID: sc.SpanID(), parentID: s.Parent().SpanID(), kind: s.SpanKind(),
		start: s.StartTime(), end: s.EndTime(),
	}
	status := s.Status()
	rec.status, rec.statusMsg = status.Code, status.Description
	for _, kv := range s.Attributes() {
		if int(rec.nattrs) < maxAttrs && keptAttribute(kv.Key) {
			rec.attrs[rec.nattrs] = kv
			rec.nattrs++
		}
	}
	tid := sc.TraceID()

	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	e := st.traces[tid]
	if e == nil {
		e = st.newEntry(tid)
		st.traces[tid] = e
	} else {
		st.unlink(e)
	}
	st.pushFront(e)
	if e.n >= st.perTrace {
		return // the trace's first spans are kept, the rest dropped
	}
	// e is the most recent and holds fewer than maxSpans spans, so while
	// the store is full the least recent trace is another one.
	for st.held >= st.maxSpans {
		st.evict(st.lru.prev)
	}
	i := st.takeSlot()
	st.slots[i] = slot{rec: rec, next: -1}
	if e.n == 0 {
		e.head = i
	} else {
		st.slots[e.tail].next = i
	}
	e.tail = i
	e.n++
	st.held++
}

func (st *SpanStore) newEntry(id trace.TraceID) *traceEntry {
	e := st.spare
	if e == nil {
		e = &traceEntry{}
	} else {
		st.spare = e.next
	}
	*e = traceEntry{id: id, head: -1, tail: -1}
	return e
}

func (st *SpanStore) unlink(e *traceEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (st *SpanStore) pushFront(e *traceEntry) {
	e.prev, e.next = &st.lru, st.lru.next
	st.lru.next.prev = e
	st.lru.next = e
}

func (st *SpanStore) takeSlot() int32 {
	if i := st.free; i >= 0 {
		st.free = st.slots[i].next
		return i
	}
	st.slots = append(st.slots, slot{})
	return int32(len(st.slots) - 1)
}

// evict drops trace e and all its spans.
func (st *SpanStore) evict(e *traceEntry) {
	for i := e.head; i >= 0; {
		next := st.slots[i].next
		st.slots[i] = slot{next: st.free} // drops the strings it held
		st.free = i
		i = next
	}
	st.held -= e.n
	delete(st.traces, e.id)
	st.unlink(e)
	*e = traceEntry{next: st.spare}
	st.spare = e
}

// Trace returns the spans of the trace traceID (32 lowercase hex digits)
// by start time, parents before children that start with them; nil when
// none are kept, or traceID is not a trace id.
func (st *SpanStore) Trace(traceID string) []Span {
	if !wims.ValidTraceID(traceID) {
		return nil
	}
	var tid trace.TraceID
	if _, err := hex.Decode(tid[:], []byte(traceID)); err != nil {
		return nil
	}
	st.mu.Lock()
	e := st.traces[tid]
	if e == nil {
		st.mu.Unlock()
		return nil
	}
	recs := make([]record, 0, e.n)
	for i := e.head; i >= 0; i = st.slots[i].next {
		recs = append(recs, st.slots[i].rec)
	}
	st.mu.Unlock()

	out := make([]Span, len(recs))
	for i := range recs {
		out[i] = recs[i].span(traceID)
	}
	slices.SortStableFunc(out, func(a, b Span) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		// A child can start in the same instant as its parent.
		switch {
		case b.ParentID == a.SpanID:
			return -1
		case a.ParentID == b.SpanID:
			return 1
		}
		return 0
	})
	return out
}

// Len returns how many spans, of how many traces, the store holds.
func (st *SpanStore) Len() (spans, traces int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.held, len(st.traces)
}

func (r *record) span(traceID string) Span {
	s := Span{
		TraceID: traceID, SpanID: r.spanID.String(), Name: r.name, Kind: r.kind.String(),
		Start: r.start, End: r.end, Status: wims.SpanUnset, StatusMessage: r.statusMsg,
	}
	if r.parentID.IsValid() {
		s.ParentID = r.parentID.String()
	}
	switch r.status {
	case codes.Ok:
		s.Status = wims.SpanOK
	case codes.Error:
		s.Status = wims.SpanError
	}
	if r.kind == trace.SpanKindUnspecified {
		s.Kind = trace.SpanKindInternal.String()
	}
	if r.nattrs > 0 {
		s.Attributes = make(map[string]string, r.nattrs)
		for _, kv := range r.attrs[:r.nattrs] {
			s.Attributes[string(kv.Key)] = attrText(kv.Value)
		}
	}
	return s
}

// attrText is an attribute's value as text.
func attrText(v attribute.Value) string {
	switch v.Type() {
	case attribute.STRING:
		return v.AsString()
	case attribute.INT64:
		return strconv.FormatInt(v.AsInt64(), 10)
	default:
		return v.Emit()
	}
}

// Shutdown stops keeping spans; those kept can still be read.
func (st *SpanStore) Shutdown(context.Context) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	return nil
}

// ForceFlush does nothing: spans are kept as they end.
func (st *SpanStore) ForceFlush(context.Context) error { return nil }
