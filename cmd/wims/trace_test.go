package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/tracing"
)

// TestOneTraceFromRequestToPayment sends an order with a traceparent and
// follows the trace id through the change events to the payments API call.
func TestOneTraceFromRequestToPayment(t *testing.T) {
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	mock := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000})
	var mu sync.Mutex
	seen := map[string]string{} // orderId → traceparent at the payments API
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Idempotency-Key")] = r.Header.Get("traceparent")
		mu.Unlock()
		mock.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = api.URL })

	code, body := a.do("POST", "/orders", map[string]any{"customerId": "t", "quantity": 1},
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if code != http.StatusAccepted {
		t.Fatalf("POST /orders = %d %s", code, body)
	}
	var o wims.Order
	_ = json.Unmarshal(body, &o)
	waitStatus(t, a, o.ID, wims.OrderPaid)

	mu.Lock()
	got := seen[o.ID]
	mu.Unlock()
	if !strings.Contains(got, traceID) {
		t.Fatalf("payments API got traceparent %q, want trace %s", got, traceID)
	}
	// Every change of the order (insert, RESERVED, PAID) carries the trace.
	eventually(t, 10*time.Second, func() error {
		_, body := a.do("GET", "/events?limit=50", nil)
		var resp struct{ Events []json.RawMessage }
		if err := json.Unmarshal(body, &resp); err != nil {
			return err
		}
		n := 0
		for _, e := range resp.Events {
			// Change events only: domain events ("Order Reserved") carry the
			// trace in their message headers, not in a detail.meta.
			if !bytes.Contains(e, []byte(o.ID)) || bytes.Contains(e, []byte(`"table":"inventory"`)) ||
				!bytes.Contains(e, []byte(`"source":"wims.cdc"`)) {
				continue
			}
			var ev struct{ Detail wims.ChangeDetail }
			_ = json.Unmarshal(e, &ev)
			if !strings.Contains(ev.Detail.Meta.TraceParent, traceID) {
				return fmt.Errorf("change %s has traceparent %q", ev.Detail.Data.ChangedColumns, ev.Detail.Meta.TraceParent)
			}
			n++
		}
		if n < 3 {
			return fmt.Errorf("%d of 3 order changes in the event log", n)
		}
		return nil
	})
	// The app's span store holds the trace: the request and the hops it
	// caused, each a child of a span of the trace.
	eventually(t, 10*time.Second, func() error {
		spans := a.spans.Trace(traceID)
		ids := map[string]bool{"00f067aa0ba902b7": true} // the client's span
		names := map[string]bool{}
		for _, s := range spans {
			ids[s.SpanID], names[s.Name] = true, true
		}
		// The event log is no hop of its own: the relay appends the change
		// events as it publishes them (their entries carry the trace, above).
		for _, want := range []string{"POST /orders", "process order-workflow", "process payments"} {
			if !names[want] {
				return fmt.Errorf("the span store's trace lacks %q: %v", want, names)
			}
		}
		for _, s := range spans {
			if s.Name == "POST /orders" && (s.Attributes["wims.order.id"] != o.ID || s.Attributes["http.response.status_code"] != "202") {
				return fmt.Errorf("the request's span has attributes %v", s.Attributes)
			}
			if !ids[s.ParentID] {
				return fmt.Errorf("span %s %q has parent %s, not in the trace", s.SpanID, s.Name, s.ParentID)
			}
		}
		return nil
	})
	// GET /traces/{traceId} answers the same spans.
	code, body = a.do("GET", "/traces/"+traceID, nil)
	var tr struct{ Spans []wims.Span }
	if err := json.Unmarshal(body, &tr); code != http.StatusOK || err != nil || len(tr.Spans) < 4 {
		t.Fatalf("GET /traces/%s = %d %s", traceID, code, body)
	}
}

// TestTracesExportedOverOTLP points --otlp-endpoint at a stand-in collector
// (the OTLP/HTTP receiver is a third party's; only its endpoint is faked) and
// checks that the spans of an order reach it.
func TestTracesExportedOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" {
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(collector.Close)
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		c.OTLPEndpoint = collector.URL
	})
	o := a.placeOrder("otlp", 1, "")
	waitStatus(t, a, o.ID, wims.OrderPaid)
	if err := a.Close(); err != nil { // flushes the span batcher
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	all := bytes.Join(bodies, nil)
	for _, want := range []string{"wims", "process order-workflow", "process payments"} {
		if !bytes.Contains(all, []byte(want)) {
			t.Fatalf("exported spans (%d requests) lack %q", len(bodies), want)
		}
	}
}

func TestOTLPEndpointValidated(t *testing.T) {
	if _, err := newTracerProvider(context.Background(), "ftp://x", tracing.NewSpanStore(tracing.SpanStoreOptions{})); err == nil {
		t.Fatal("an ftp OTLP endpoint was accepted")
	}
}
