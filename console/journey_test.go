package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/console"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/sqlite"
)

const journeyTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

// fakeTraces answers the traces it holds.
type fakeTraces map[string][]wims.Span

func (f fakeTraces) Trace(id string) []wims.Span { return f[id] }

// journeyFixture is an order that went through the pipeline, with its
// events and its trace, and a console over them.
type journeyFixture struct {
	srv *httptest.Server
	db  *sqlite.Store
	log *fakeLog
	t0  time.Time
}

// newJourneyConsole makes order-j: created at t0, its first change logged
// 1 ms later with the trace, the workflow's step at 1 s, the domain event
// at 2 s, the payment at 3 s, and RESERVED now (10 s after t0).
func newJourneyConsole(t *testing.T, traces wims.TraceReader, keys ...wimshttp.APIKey) *journeyFixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	t0 := time.Now().UTC().Add(-10 * time.Second).Truncate(time.Millisecond)
	if _, _, err := db.CreateOrder(ctx, wims.Order{ID: "order-j", CustomerID: "cust-j", SKU: wims.DefaultSKU, Quantity: 1,
		Status: wims.OrderPending, CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReserveStock(ctx, "order-j"); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveExecution(ctx, wims.Execution{ID: "x-1", OrderID: "order-j", Workflow: "order-workflow", Status: wims.ExecutionSucceeded,
		StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(time.Second + 2*time.Millisecond),
		Steps: []wims.Step{{Name: "reserve-stock", Outcome: "reserved", StartedAt: t0.Add(time.Second), DurationMS: 1.5}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: "order-j", Attempt: 1, Outcome: wims.PaymentPaid, StatusCode: 200,
		At: t0.Add(3 * time.Second), DurationMS: 12}); err != nil {
		t.Fatal(err)
	}
	log := &fakeLog{}
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	log.addRaw(fmt.Sprintf(`{"id":"ev-insert","source":"wims.cdc","detail-type":"cdcEvent","time":%q,"detail":{"data":{"NewImage":{"orderId":"order-j"}},"meta":{"traceparent":"00-%s-00f067aa0ba902b7-01"}}}`, at(time.Millisecond), journeyTrace))
	log.addRaw(fmt.Sprintf(`{"id":"ev-other","source":"wims.orders","detail-type":"Order Reserved","time":%q,"detail":{"orderId":"order-other"}}`, at(time.Second)))
	log.addRaw(fmt.Sprintf(`{"id":"ev-reserved","source":"wims.orders","detail-type":"Order Reserved","time":%q,"detail":{"orderId":"order-j"}}`, at(2*time.Second)))
	srv := httptest.NewServer(console.New(console.Options{Store: db, APIKeys: keys, StreamInterval: 50 * time.Millisecond, Events: log, Traces: traces}))
	t.Cleanup(srv.Close)
	return &journeyFixture{srv: srv, db: db, log: log, t0: t0}
}

// orderTrace is the trace of order-j: the request 2.5 ms, the workflow
// 8–12 ms, the payment (failing) 12–20 ms.
func orderTrace(t0 time.Time) fakeTraces {
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	return fakeTraces{journeyTrace: {
		{TraceID: journeyTrace, SpanID: "00f067aa0ba902b7", Name: "POST /orders", Kind: "server", Start: ms(0), End: ms(2.5), Status: wims.SpanUnset,
			Attributes: map[string]string{"http.route": "POST /orders", "http.response.status_code": "202"}},
		{TraceID: journeyTrace, SpanID: "b7ad6b7169203331", ParentID: "00f067aa0ba902b7", Name: "process order-workflow", Kind: "consumer", Start: ms(8), End: ms(12), Status: wims.SpanUnset},
		{TraceID: journeyTrace, SpanID: "c7ad6b7169203331", ParentID: "b7ad6b7169203331", Name: "process payments", Kind: "consumer", Start: ms(12), End: ms(20),
			Status: wims.SpanError, StatusMessage: "payments API <down>"},
	}}
}

func TestConsoleOrderJourneyAndWaterfall(t *testing.T) {
	f := newJourneyConsoleWith(t, orderTraceReader)
	resp, page := get(t, client(t), f.srv.URL+"/ui/orders/order-j")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("order page: %d\n%s", resp.StatusCode, page)
	}
	journey := section(t, page, `id="journey"`, "</table>")
	// In time order, the request first (its span's start and status).
	var last int
	for _, want := range []string{
		`<span class="kind kind-request">HTTP</span></td><td>POST /orders</td><td>accepted · HTTP 202 · 2.5 ms</td>`,
		`<a href="/ui/events/ev-insert">cdcEvent</a></td><td>wims.cdc</td>`,
		`<td>reserve-stock</td><td>order-workflow · reserved · 1.5 ms</td>`,
		`<a href="/ui/events/ev-reserved">Order Reserved</a>`,
		`<td>Payment attempt 1</td><td>paid · HTTP 200 · 12.0 ms</td>`,
		`<span class="status status-RESERVED">RESERVED</span>`,
	} {
		i := strings.Index(journey, want)
		if i < 0 {
			t.Fatalf("the journey lacks %s:\n%s", want, journey)
		}
		if i < last {
			t.Errorf("the journey is not in time order at %s:\n%s", want, journey)
		}
		last = i
	}
	if strings.Contains(journey, "ev-other") {
		t.Error("the journey shows another order's event")
	}
	if !strings.Contains(journey, `<span class="status status-PENDING">PENDING</span>`) {
		t.Errorf("the journey lacks PENDING:\n%s", journey)
	}

	// The waterfall: 20 ms drawn over 620 units from x=310; a bar per span,
	// each with its name and duration as its title, indented by depth.
	svg := section(t, page, `<svg id="waterfall"`, "</svg>")
	for _, want := range []string{
		`viewBox="0 0 1000 94"`,
		`<rect class="span span-server" x="310" y="28" width="77.5" height="14" rx="2"><title>POST /orders · 2.5 ms</title></rect>`,
		`<rect class="span span-consumer" x="558" y="50" width="124" height="14" rx="2"><title>process order-workflow · 4.0 ms</title></rect>`,
		`<rect class="span span-consumer span-error" x="682" y="72" width="248" height="14" rx="2"><title>process payments · 8.0 ms · error: payments API &lt;down&gt;</title></rect>`,
		`<text class="wf-name" x="8" y="39">POST /orders</text>`,
		`<text class="wf-name" x="22" y="61">process order-workflow</text>`,
		`<text class="wf-name" x="36" y="83">process payments</text>`,
		`<text class="wf-tick" x="930" y="16" text-anchor="middle">20.0 ms</text>`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("the waterfall lacks %s:\n%s", want, svg)
		}
	}
	if !strings.Contains(page, "3 spans over 20.0 ms") || !strings.Contains(page, journeyTrace) {
		t.Errorf("the trace's summary is missing")
	}
	if strings.Contains(page, " style=") || strings.Contains(page, "<script>") {
		t.Error("the order page has an inline style or script")
	}
}

// newJourneyConsoleWith is newJourneyConsole with traces made from t0.
func newJourneyConsoleWith(t *testing.T, traces func(t0 time.Time) wims.TraceReader, keys ...wimshttp.APIKey) *journeyFixture {
	t.Helper()
	holder := &lateTraces{}
	f := newJourneyConsole(t, holder, keys...)
	holder.r = traces(f.t0)
	return f
}

// lateTraces answers with r, set after the console is made.
type lateTraces struct{ r wims.TraceReader }

func (l *lateTraces) Trace(id string) []wims.Span {
	if l.r == nil {
		return nil
	}
	return l.r.Trace(id)
}

// section returns page from the first from to the next to.
func section(t *testing.T, page, from, to string) string {
	t.Helper()
	i := strings.Index(page, from)
	if i < 0 {
		t.Fatalf("page lacks %s:\n%s", from, page)
	}
	j := strings.Index(page[i:], to)
	if j < 0 {
		t.Fatalf("page lacks %s after %s", to, from)
	}
	return page[i : i+j+len(to)]
}

func TestConsoleOrderJourneyNotes(t *testing.T) {
	t.Run("NoTraces", func(t *testing.T) {
		f := newJourneyConsole(t, nil)
		_, page := get(t, client(t), f.srv.URL+"/ui/orders/order-j")
		if !strings.Contains(page, "Traces are not available in this configuration.") || !strings.Contains(page, `href="/ui/events/ev-insert"`) {
			t.Errorf("without traces:\n%s", page)
		}
		if !strings.Contains(page, `<div id="trace" hidden>`) {
			t.Error("the empty waterfall is not hidden")
		}
	})
	t.Run("Evicted", func(t *testing.T) {
		f := newJourneyConsole(t, fakeTraces{})
		_, page := get(t, client(t), f.srv.URL+"/ui/orders/order-j")
		if !strings.Contains(page, "No spans of trace "+journeyTrace+" are kept here") {
			t.Errorf("an unknown trace:\n%s", page)
		}
	})
	t.Run("NoEventLog", func(t *testing.T) {
		f := newJourneyConsole(t, fakeTraces{})
		srv := httptest.NewServer(console.New(console.Options{Store: f.db, Traces: fakeTraces{}}))
		t.Cleanup(srv.Close)
		_, page := get(t, client(t), srv.URL+"/ui/orders/order-j")
		if !strings.Contains(page, "The event log is not available in this configuration.") ||
			!strings.Contains(page, "The order&#39;s trace is found through its events, which are not shown.") || !strings.Contains(page, "Payment attempt 1") {
			t.Errorf("without an event log:\n%s", page)
		}
	})
	t.Run("NoTraceParent", func(t *testing.T) {
		f := newJourneyConsole(t, fakeTraces{})
		f.log.mu.Lock()
		f.log.events = f.log.events[1:] // the change with the traceparent
		f.log.mu.Unlock()
		_, page := get(t, client(t), f.srv.URL+"/ui/orders/order-j")
		if !strings.Contains(page, "None of the order&#39;s events names a trace (yet).") {
			t.Errorf("no traceparent:\n%s", page)
		}
	})
	t.Run("Roles", func(t *testing.T) {
		f := newJourneyConsoleWith(t, orderTraceReader, wimshttp.APIKey{Key: "orders-secret", Role: wimshttp.RoleOrders}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
		// orders may not read the event log, nor traces, as in the API.
		_, page := get(t, login(t, f.srv, "orders-secret"), f.srv.URL+"/ui/orders/order-j")
		if strings.Contains(page, "ev-insert") || strings.Contains(page, "<rect") || !strings.Contains(page, "Your role (orders) may not read the event log") ||
			!strings.Contains(page, "Your role (orders) may not read traces") {
			t.Errorf("orders sees the events or the trace:\n%s", page)
		}
		if !strings.Contains(page, "Payment attempt 1") || !strings.Contains(page, "reserve-stock") {
			t.Errorf("orders does not see the rest of the journey:\n%s", page)
		}
		_, page = get(t, login(t, f.srv, "read-secret"), f.srv.URL+"/ui/orders/order-j")
		if !strings.Contains(page, "ev-insert") || !strings.Contains(page, "<title>POST /orders · 2.5 ms</title>") {
			t.Errorf("read does not see the events and the trace:\n%s", page)
		}
	})
}

func orderTraceReader(t0 time.Time) wims.TraceReader { return orderTrace(t0) }

// TestConsoleOrderJourneyStream: the order page's stream sends the journey
// when it changes, and only then.
func TestConsoleOrderJourneyStream(t *testing.T) {
	f := newJourneyConsoleWith(t, orderTraceReader)
	c := client(t)
	get(t, c, f.srv.URL+"/ui/") // the session
	resp, err := c.Get(f.srv.URL + "/ui/stream?order=order-j&detail=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	next := func() string {
		t.Helper()
		var b strings.Builder
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "\n" {
				return b.String()
			}
			b.WriteString(line)
		}
	}
	first := next()
	for _, want := range []string{`"journey":{"entries":[`, `"href":"/ui/events/ev-insert"`, `"kindText":"HTTP"`, `"summary":"3 spans over 20.0 ms"`, `"title":"POST /orders · 2.5 ms"`} {
		if !strings.Contains(first, want) {
			t.Fatalf("the first snapshot lacks %s:\n%s", want, first)
		}
	}
	if second := next(); strings.Contains(second, `"journey"`) {
		t.Fatalf("an unchanged journey was sent again:\n%s", second)
	}
	f.log.addRaw(fmt.Sprintf(`{"id":"ev-paid","source":"wims.orders","detail-type":"Order Paid","time":%q,"detail":{"orderId":"order-j"}}`,
		f.t0.Add(4*time.Second).Format(time.RFC3339Nano)))
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap := next()
		if strings.Contains(snap, `"journey"`) {
			if !strings.Contains(snap, `"href":"/ui/events/ev-paid"`) {
				t.Fatalf("the changed journey lacks the new event:\n%s", snap)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changed journey was never sent")
		}
	}
}
