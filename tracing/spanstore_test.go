package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wims/wims"
	"github.com/wims/wims/tracing"
)

// stub is a finished span of trace tid (a small number, as hex) with
// span id sid.
func stub(tid, sid, parent uint64, name string, start time.Time) sdktrace.ReadOnlySpan {
	var t trace.TraceID
	var s, p trace.SpanID
	putUint(t[8:], tid)
	putUint(s[:], sid)
	putUint(p[:], parent)
	st := tracetest.SpanStub{
		Name:        name,
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: t, SpanID: s, TraceFlags: trace.FlagsSampled}),
		StartTime:   start, EndTime: start.Add(time.Millisecond), SpanKind: trace.SpanKindConsumer,
		Attributes: []attribute.KeyValue{attribute.String("messaging.destination.name", "wims.events.cdc"), attribute.String("secret", "x")},
	}
	if parent != 0 {
		st.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: t, SpanID: p, TraceFlags: trace.FlagsSampled})
	}
	return st.Snapshot()
}

func putUint(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0 && v > 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

func traceHex(tid uint64) string { return fmt.Sprintf("%032x", tid) }

func TestSpanStoreKeepsATrace(t *testing.T) {
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(st))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("test")

	ctx, root := tr.Start(context.Background(), "POST /orders", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.route", "POST /orders"), attribute.String("url.query", "customerId=c")))
	root.SetAttributes(attribute.Int("http.response.status_code", 202), attribute.String("wims.order.id", "o-1"))
	// A consumer continuing the trace from a message, and failing.
	h := tracing.Handler(tp, "order-workflow", func(context.Context, *wims.Message) error { return errors.New("stock store down") })
	_ = h(context.Background(), &wims.Message{Subject: "wims.events.cdc", ID: "ev-1", Header: map[string]string{wims.HeaderTraceParent: tracing.TraceParent(ctx)}})
	root.End()

	id := root.SpanContext().TraceID().String()
	spans := st.Trace(id)
	if len(spans) != 2 {
		t.Fatalf("Trace = %d spans, want 2: %+v", len(spans), spans)
	}
	http, consumer := spans[0], spans[1]
	if http.Name != "POST /orders" || http.Kind != "server" || http.ParentID != "" || http.TraceID != id ||
		http.SpanID != root.SpanContext().SpanID().String() || http.Status != wims.SpanUnset {
		t.Errorf("HTTP span %+v", http)
	}
	if want := map[string]string{"http.route": "POST /orders", "http.response.status_code": "202", "wims.order.id": "o-1"}; fmt.Sprint(http.Attributes) != fmt.Sprint(want) {
		t.Errorf("HTTP span attributes %v, want %v (url.query is not kept)", http.Attributes, want)
	}
	if consumer.Name != "process order-workflow" || consumer.Kind != "consumer" || consumer.ParentID != http.SpanID ||
		consumer.Status != wims.SpanError || consumer.StatusMessage != "stock store down" ||
		consumer.Attributes["messaging.destination.name"] != "wims.events.cdc" || consumer.Attributes["messaging.message.id"] != "ev-1" {
		t.Errorf("consumer span %+v", consumer)
	}
	if !http.End.After(http.Start) || consumer.Start.Before(http.Start) || consumer.Duration() <= 0 {
		t.Errorf("times: HTTP %v–%v, consumer %v–%v", http.Start, http.End, consumer.Start, consumer.End)
	}

	for _, bad := range []string{"", "nope", "00000000000000000000000000000000", "4BF92F3577B34DA6A3CE929D0E0E4736", traceHex(42)} {
		if got := st.Trace(bad); got != nil {
			t.Errorf("Trace(%q) = %v, want nil", bad, got)
		}
	}
}

func TestSpanStoreEvictsTheLeastRecentTraceWhole(t *testing.T) {
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{MaxSpans: 5})
	t0 := time.Now()
	end := func(tid, sid uint64) { st.OnEnd(stub(tid, sid, 0, "s", t0.Add(time.Duration(sid)))) }
	end(1, 1)
	end(1, 2)
	end(2, 3)
	end(2, 4)
	end(1, 5) // trace 1 is now more recent than trace 2
	if n, tr := st.Len(); n != 5 || tr != 2 {
		t.Fatalf("Len = %d spans, %d traces; want 5, 2", n, tr)
	}
	end(3, 6) // full: trace 2 goes, both its spans
	if got := st.Trace(traceHex(2)); got != nil {
		t.Fatalf("trace 2 kept after eviction: %v", got)
	}
	if got := len(st.Trace(traceHex(1))); got != 3 {
		t.Fatalf("trace 1 has %d spans, want all 3", got)
	}
	end(3, 7)
	end(4, 8) // full again: trace 1 is the least recently active now
	for tid, want := range map[uint64]int{1: 0, 3: 2, 4: 1} {
		if got := len(st.Trace(traceHex(tid))); got != want {
			t.Errorf("trace %d: %d spans, want %d", tid, got, want)
		}
	}
	if n, tr := st.Len(); n != 3 || tr != 2 {
		t.Errorf("Len = %d spans, %d traces; want 3, 2", n, tr)
	}
	// Freed slots are reused: traces of one span fill it exactly.
	for i := range uint64(20) {
		end(10+i, 100+i)
	}
	if n, _ := st.Len(); n != 5 {
		t.Errorf("after refilling, Len = %d spans, want 5", n)
	}
}

func TestSpanStoreBoundsOneTrace(t *testing.T) {
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{MaxSpans: 100, MaxSpansPerTrace: 3})
	t0 := time.Now()
	for i := range uint64(10) {
		st.OnEnd(stub(1, i+1, 0, fmt.Sprint("s", i), t0.Add(time.Duration(i))))
	}
	st.OnEnd(stub(2, 50, 0, "other", t0))
	spans := st.Trace(traceHex(1))
	if len(spans) != 3 || spans[0].Name != "s0" || spans[2].Name != "s2" {
		t.Fatalf("a trace of 10 spans kept %v; want its first 3", spans)
	}
	if len(st.Trace(traceHex(2))) != 1 {
		t.Fatal("the other trace was not kept")
	}
}

func TestSpanStoreOrdersParentsFirst(t *testing.T) {
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{})
	t0 := time.Now()
	// Ended child first, as spans do; the child starts with its parent.
	st.OnEnd(stub(1, 2, 1, "child", t0))
	st.OnEnd(stub(1, 3, 1, "later", t0.Add(time.Millisecond)))
	st.OnEnd(stub(1, 1, 0, "parent", t0))
	var names []string
	for _, s := range st.Trace(traceHex(1)) {
		names = append(names, s.Name)
	}
	if fmt.Sprint(names) != "[parent child later]" {
		t.Errorf("order %v, want [parent child later]", names)
	}
}

func TestSpanStoreIgnoresSpansAfterShutdown(t *testing.T) {
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{})
	st.OnEnd(stub(1, 1, 0, "a", time.Now()))
	if err := st.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.OnEnd(stub(1, 2, 0, "b", time.Now()))
	if got := len(st.Trace(traceHex(1))); got != 1 {
		t.Errorf("after Shutdown: %d spans, want the 1 kept before", got)
	}
}

// TestSpanStoreConcurrent ends spans of many traces from many goroutines
// while others read; run it with -race. The store stays within its bounds
// and consistent.
func TestSpanStoreConcurrent(t *testing.T) {
	const maxSpans, perTrace = 200, 20
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{MaxSpans: maxSpans, MaxSpansPerTrace: perTrace})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(st))
	tr := tp.Tracer("test")
	var wg sync.WaitGroup
	ids := make(chan string, 1000)
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				ctx, root := tr.Start(context.Background(), "root")
				for j := range (w + i) % 30 {
					_, c := tr.Start(ctx, fmt.Sprint("child", j))
					c.End()
				}
				root.End()
				select {
				case ids <- root.SpanContext().TraceID().String():
				default:
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				case id := <-ids:
					spans := st.Trace(id)
					if len(spans) > perTrace {
						t.Errorf("trace %s: %d spans, over %d", id, len(spans), perTrace)
					}
					for _, s := range spans {
						if s.TraceID != id {
							t.Errorf("trace %s answered a span of %s", id, s.TraceID)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	n, traces := st.Len()
	if n > maxSpans || n < maxSpans-perTrace || traces == 0 {
		t.Fatalf("Len = %d spans, %d traces; want at most %d, and nearly full", n, traces, maxSpans)
	}
}

// TestSpanStoreOnEndAllocates nothing once the store is full and its
// slots are warm: the hot path ends thousands of spans a second.
func TestSpanStoreOnEndAllocatesLittle(t *testing.T) {
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{MaxSpans: 1000})
	spans := make([]sdktrace.ReadOnlySpan, 4000)
	t0 := time.Now()
	for i := range spans {
		spans[i] = stub(uint64(i/4+1), uint64(i+1), 0, "s", t0) // traces of 4 spans
	}
	for _, s := range spans {
		st.OnEnd(s)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(spans), func() {
		st.OnEnd(spans[i%len(spans)])
		i++
	})
	// A new trace may grow the map now and then; a span never allocates.
	if allocs > 0.1 {
		t.Errorf("OnEnd allocates %.2f times per span", allocs)
	}
}

func BenchmarkSpanStoreOnEnd(b *testing.B) {
	st := tracing.NewSpanStore(tracing.SpanStoreOptions{})
	spans := make([]sdktrace.ReadOnlySpan, 50_000)
	t0 := time.Now()
	for i := range spans {
		spans[i] = stub(uint64(i/10+1), uint64(i+1), 0, "s", t0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			st.OnEnd(spans[i%len(spans)])
			i++
		}
	})
}
