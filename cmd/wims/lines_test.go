package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// TestLinesFlow walks multi-line orders through the pipeline: a 3-line
// order is reserved in one transaction, charged for all its lines and PAID,
// each SKU's stock dropping by its line, and its Payment Succeeded event
// carries the lines; a 3-line order with one line beyond the stock is
// REJECTED, naming that SKU, with no stock taken; and a PAID 3-line order
// that is cancelled is refunded and every line's stock put back.
func TestLinesFlow(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testLinesFlow(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { testLinesFlow(t, pgtest.URL(t)) })
}

// testLinesFlow is TestLinesFlow on the store at storeURL ("" for the
// default SQLite store).
func testLinesFlow(t *testing.T, storeURL string) {
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		if storeURL != "" {
			c.Store = storeURL
		}
	})
	for _, sku := range []string{"LINE-A", "LINE-B", "LINE-C"} {
		a.putItem(sku, 20, 1)
	}
	place := func(lines ...wims.OrderLine) wims.Order {
		t.Helper()
		code, body := a.do("POST", "/orders", map[string]any{"customerId": "c-lines", "lines": lines})
		if code != http.StatusAccepted {
			t.Fatalf("POST /orders = %d %s", code, body)
		}
		var o wims.Order
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	stock := func(want ...int64) {
		t.Helper()
		for i, sku := range []string{"LINE-A", "LINE-B", "LINE-C"} {
			if q := a.item(sku).Quantity; q != want[i] {
				t.Fatalf("%s quantity %d, want %d", sku, q, want[i])
			}
		}
	}
	lines := []wims.OrderLine{{SKU: "LINE-C", Quantity: 3}, {SKU: "LINE-A", Quantity: 1}, {SKU: "LINE-B", Quantity: 2}}

	o := place(lines...)
	if !slices.Equal(o.Lines, lines) || o.SKU != "LINE-C" || o.Quantity != 6 {
		t.Fatalf("accepted %+v, want its lines, sku LINE-C, quantity 6", o)
	}
	paid := waitStatus(t, a, o.ID, wims.OrderPaid)
	if !slices.Equal(paid.Lines, lines) {
		t.Fatalf("PAID order lines %v, want %v", paid.Lines, lines)
	}
	stock(19, 18, 17)

	short := place(wims.OrderLine{SKU: "LINE-A", Quantity: 1}, wims.OrderLine{SKU: "LINE-B", Quantity: 50},
		wims.OrderLine{SKU: "LINE-C", Quantity: 1})
	if r := waitStatus(t, a, short.ID, wims.OrderRejected); r.Reason != "insufficient stock of LINE-B: requested 50, available 18" {
		t.Fatalf("rejected with reason %q", r.Reason)
	}
	stock(19, 18, 17)

	eventually(t, 30*time.Second, func() error {
		code, body := a.do("GET", "/events?order="+o.ID, nil)
		var page struct {
			Events []wims.Event `json:"events"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
			return fmt.Errorf("GET /events = %d %s", code, body)
		}
		for _, ev := range page.Events {
			var d wims.OrderEventDetail
			if ev.DetailType == wims.DetailPaymentSucceeded && json.Unmarshal(ev.Detail, &d) == nil {
				if !slices.Equal(d.Lines, lines) {
					return fmt.Errorf("Payment Succeeded lines %v, want %v", d.Lines, lines)
				}
				return nil
			}
		}
		return fmt.Errorf("no Payment Succeeded event for %s yet", o.ID)
	})

	refund := place(lines...)
	waitStatus(t, a, refund.ID, wims.OrderPaid)
	stock(18, 16, 14)
	if code, body := a.do("POST", "/orders/"+refund.ID+"/cancel", nil); code != http.StatusOK {
		t.Fatalf("cancel = %d %s", code, body)
	}
	waitStatus(t, a, refund.ID, wims.OrderRefunded)
	stock(19, 18, 17)
	if st := mock.Stats(); st.Refunded != 1 {
		t.Fatalf("mock stats %+v, want one refund", st)
	}
}

// TestLinesBackorderFlow walks a multi-line backorder through the pipeline:
// a line beyond the stock of an item that allows backorders makes the whole
// order BACKORDERED with no stock taken (GET /orders?sku= finds it by its
// second SKU), and a restock of that item fills it, every line's stock
// taken once, and the order-backorder-filled rule has it charged and PAID.
func TestLinesBackorderFlow(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testLinesBackorderFlow(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { testLinesBackorderFlow(t, pgtest.URL(t)) })
}

// testLinesBackorderFlow is TestLinesBackorderFlow on the store at storeURL
// ("" for the default SQLite store).
func testLinesBackorderFlow(t *testing.T, storeURL string) {
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		if storeURL != "" {
			c.Store = storeURL
		}
	})
	code, body := a.do("PUT", "/inventory/LB-A", map[string]any{
		"productName": "Widget", "quantity": 1, "lowStockThreshold": 0, "allowBackorder": true,
	})
	if code != http.StatusOK {
		t.Fatalf("PUT = %d %s", code, body)
	}
	a.putItem("LB-B", 5, 0)
	stock := func(wantA, wantB int64) {
		t.Helper()
		if qa, qb := a.item("LB-A").Quantity, a.item("LB-B").Quantity; qa != wantA || qb != wantB {
			t.Fatalf("LB-A %d, LB-B %d; want %d, %d", qa, qb, wantA, wantB)
		}
	}
	lines := []wims.OrderLine{{SKU: "LB-A", Quantity: 3}, {SKU: "LB-B", Quantity: 2}}
	code, body = a.do("POST", "/orders", map[string]any{"customerId": "c-lines-bo", "lines": lines})
	if code != http.StatusAccepted {
		t.Fatalf("POST /orders = %d %s", code, body)
	}
	var o wims.Order
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatal(err)
	}
	if w := waitStatus(t, a, o.ID, wims.OrderBackordered); w.Reason != "waiting for stock of LB-A: requested 3, available 1" {
		t.Fatalf("backordered with reason %q", w.Reason)
	}
	stock(1, 5)
	code, body = a.do("GET", "/orders?sku=LB-B", nil)
	var page wims.OrderPage
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Orders) != 1 || page.Orders[0].ID != o.ID {
		t.Fatalf("GET /orders?sku=LB-B = %d %s, want the order", code, body)
	}
	if n := mock.Stats().Charges[o.ID]; n != 0 {
		t.Fatalf("the waiting order was charged %d times", n)
	}

	code, body = a.do("POST", "/inventory/LB-A/adjustments", map[string]any{"delta": 2, "reason": "restock"})
	if code != http.StatusOK {
		t.Fatalf("restock = %d %s", code, body)
	}
	paid := waitStatus(t, a, o.ID, wims.OrderPaid)
	if len(paid.Payments) == 0 || !slices.Equal(paid.Lines, lines) {
		t.Fatalf("PAID order %+v, want a payment attempt and its lines", paid)
	}
	stock(0, 3)
	if n := mock.Stats().Charges[o.ID]; n != 1 {
		t.Fatalf("the filled order was charged %d times, want 1", n)
	}
}
