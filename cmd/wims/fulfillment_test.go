package main

import (
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
)

// fulfillmentSink is a fulfillment service: it records the orders posted to
// it, refusing the first attempts so that the delivery's retries are tested.
type fulfillmentSink struct {
	mu       sync.Mutex
	failures int
	keys     map[string]int // Idempotency-Key → deliveries
	orders   []wims.Order   // the NewImage of each accepted event
}

func (s *fulfillmentSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures > 0 {
		s.failures--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ev struct {
		DetailType string `json:"detail-type"`
		Detail     struct {
			Data struct {
				NewImage wims.Order `json:"NewImage"`
			} `json:"data"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.keys[r.Header.Get("Idempotency-Key")]++
	s.orders = append(s.orders, ev.Detail.Data.NewImage)
	w.WriteHeader(http.StatusAccepted)
}

func (s *fulfillmentSink) received() []wims.Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wims.Order(nil), s.orders...)
}

// TestFulfillmentFlow walks an order from its placement to SHIPPED with
// --fulfillment-url: once PAID, its change event reaches the fulfillment
// service (after two refused attempts, retried), carrying what it needs to
// ship (SKU, quantity, and the customer as every event carries it:
// encrypted, so the service reads it from GET /orders/{id} with its key); the service's POST /orders/{id}/shipment
// makes it SHIPPED, with the stock still taken and an Order Shipped event
// in the event log. Orders that never become PAID are never sent.
func TestFulfillmentFlow(t *testing.T) {
	sink := &fulfillmentSink{failures: 2, keys: map[string]int{}}
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		c.FulfillmentURL = srv.URL + "/fulfil"
	})
	a.putItem("SHIP-1", 10, 1)
	o := a.placeOrder("c-ship", 3, "SHIP-1")
	rejected := a.placeOrder("c-ship", 50, "SHIP-1") // more than there is
	waitStatus(t, a, rejected.ID, wims.OrderRejected)
	waitStatus(t, a, o.ID, wims.OrderPaid)

	var got wims.Order
	eventually(t, 60*time.Second, func() error {
		r := sink.received()
		if len(r) == 0 {
			return fmt.Errorf("the fulfillment service has received nothing")
		}
		got = r[0]
		return nil
	})
	if got.ID != o.ID || got.Status != wims.OrderPaid || !strings.HasPrefix(got.CustomerID, "wims:enc:") || got.SKU != "SHIP-1" ||
		got.Quantity != 3 {
		t.Fatalf("fulfillment received %+v, want order %s PAID, its customer encrypted, 3 of SHIP-1", got, o.ID)
	}
	if byID := a.order(o.ID); byID.CustomerID != "c-ship" {
		t.Fatalf("GET /orders/%s names customer %q, want c-ship", o.ID, byID.CustomerID)
	}

	code, body := a.do("POST", "/orders/"+o.ID+"/shipment", map[string]string{"carrier": "UPS", "trackingId": "1Z42"})
	if code != http.StatusOK {
		t.Fatalf("shipment = %d %s", code, body)
	}
	shipped := a.order(o.ID)
	if shipped.Status != wims.OrderShipped || shipped.Carrier != "UPS" || shipped.TrackingID != "1Z42" {
		t.Fatalf("order after the shipment: %+v", shipped.Order)
	}
	if q := a.item("SHIP-1").Quantity; q != 7 {
		t.Fatalf("SHIP-1 quantity %d after shipping 3 of 10, want 7", q)
	}
	eventually(t, 30*time.Second, func() error {
		code, body := a.do("GET", "/events?source=wims.orders&detail-type=Order+Shipped", nil)
		var page struct {
			Events []wims.Event `json:"events"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
			return fmt.Errorf("GET /events = %d %s", code, body)
		}
		for _, ev := range page.Events {
			var d wims.OrderEventDetail
			if json.Unmarshal(ev.Detail, &d) == nil && d.OrderID == o.ID && d.Carrier == "UPS" && d.TrackingID == "1Z42" {
				return nil
			}
		}
		return fmt.Errorf("no Order Shipped event for %s yet: %s", o.ID, body)
	})
	// The SHIPPED change did not go to fulfillment again, and the rejected
	// order never went: one delivery of one event.
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.orders) != 1 || len(sink.keys) != 1 {
		t.Fatalf("fulfillment received %d events with keys %v, want one", len(sink.orders), sink.keys)
	}
}

// TestBackorderFlow walks a backorder through the pipeline: an order beyond
// the stock of an item that allows backorders waits as BACKORDERED (the
// workflow enqueues no payment), a restock fills it in its own transaction,
// and the order-backorder-filled rule runs the workflow again, so the order
// is charged and PAID like any other; an order too large for the stock that
// is left keeps waiting.
func TestBackorderFlow(t *testing.T) {
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	code, body := a.do("PUT", "/inventory/BO-FLOW", map[string]any{
		"productName": "Widget", "quantity": 1, "lowStockThreshold": 0, "allowBackorder": true,
	})
	if code != http.StatusOK {
		t.Fatalf("PUT = %d %s", code, body)
	}
	first := a.placeOrder("c-bo", 3, "BO-FLOW")
	waitStatus(t, a, first.ID, wims.OrderBackordered)
	second := a.placeOrder("c-bo", 1, "BO-FLOW") // fits, but queues behind the first
	waitStatus(t, a, second.ID, wims.OrderBackordered)
	third := a.placeOrder("c-bo", 10, "BO-FLOW")
	waitStatus(t, a, third.ID, wims.OrderBackordered)

	code, body = a.do("POST", "/inventory/BO-FLOW/adjustments", map[string]any{"delta": 4, "reason": "restock"})
	if code != http.StatusOK {
		t.Fatalf("restock = %d %s", code, body)
	}
	// 1 + 4 = 5: the first (3) and second (1) are filled, 1 is left, the
	// third (10) waits.
	for _, o := range []wims.Order{first, second} {
		paid := waitStatus(t, a, o.ID, wims.OrderPaid)
		if len(paid.Payments) == 0 {
			t.Fatalf("%s PAID without a payment attempt", o.ID)
		}
	}
	if got := a.order(third.ID); got.Status != wims.OrderBackordered {
		t.Fatalf("third order %s, want BACKORDERED", got.Status)
	}
	if q := a.item("BO-FLOW").Quantity; q != 1 {
		t.Fatalf("quantity %d, want 1", q)
	}
	if n := mock.Stats().Charges[third.ID]; n != 0 {
		t.Fatalf("the waiting order was charged %d times", n)
	}
}
