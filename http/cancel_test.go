package http_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wims/wims"
)

// TestCancelOrder covers POST /orders/{id}/cancel over every status it
// meets: the order after the cancel is the answer, stock goes back for a
// RESERVED order, a PAID one waits for its refund, a second cancel is 200
// with nothing changed, an order past cancelling is 409
// order-not-cancellable, an unknown one 404.
func TestCancelOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stock := func() float64 {
		t.Helper()
		return e.do("GET", "/inventory/"+wims.DefaultSKU, "").wantJSON(t, http.StatusOK)["quantity"].(float64)
	}
	create := func() string {
		t.Helper()
		m := e.do("POST", "/orders", `{"customerId":"c-1","quantity":4}`).wantJSON(t, http.StatusAccepted)
		return m["orderId"].(string)
	}
	initial := stock()

	t.Run("Pending", func(t *testing.T) {
		id := create()
		m := e.do("POST", "/orders/"+id+"/cancel", "").wantJSON(t, http.StatusOK)
		wantKeys(t, m, orderKeys...)
		if m["status"] != "CANCELLED" || m["orderId"] != id {
			t.Fatalf("cancel = %v", m)
		}
		if got := e.do("GET", "/orders/"+id, "").wantJSON(t, http.StatusOK)["status"]; got != "CANCELLED" {
			t.Fatalf("GET status %v", got)
		}
	})
	t.Run("Reserved", func(t *testing.T) {
		id := create()
		if _, err := e.store.ReserveStock(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := stock(); got != initial-4 {
			t.Fatalf("stock %v after reserving 4 of %v", got, initial)
		}
		m := e.do("POST", "/orders/"+id+"/cancel", "").wantJSON(t, http.StatusOK)
		if m["status"] != "CANCELLED" {
			t.Fatalf("cancel = %v", m)
		}
		if got := stock(); got != initial {
			t.Fatalf("stock %v after the cancel, want %v", got, initial)
		}
		// Again: the same order, nothing released twice, nothing written.
		before := e.snapshot()
		again := e.do("POST", "/orders/"+id+"/cancel", "").wantJSON(t, http.StatusOK)
		if again["status"] != "CANCELLED" || again["updatedAt"] != m["updatedAt"] {
			t.Fatalf("second cancel = %v, first %v", again, m)
		}
		e.wantUnchanged(before)
	})
	t.Run("Paid", func(t *testing.T) {
		id := create()
		if _, err := e.store.ReserveStock(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CompletePayment(ctx, id, true, ""); err != nil {
			t.Fatal(err)
		}
		m := e.do("POST", "/orders/"+id+"/cancel", "").wantJSON(t, http.StatusOK)
		if m["status"] != "REFUND_PENDING" || m["reason"] != wims.ReasonCancelledAfterPayment {
			t.Fatalf("cancel of a paid order = %v", m)
		}
		if got := stock(); got != initial-4 {
			t.Fatalf("stock %v: a refund-pending order keeps its stock until refunded", got)
		}
		// Refund pending (and later refunded) cannot be cancelled again.
		before := e.snapshot()
		p := e.do("POST", "/orders/"+id+"/cancel", "").wantProblem(t, http.StatusConflict, "order-not-cancellable", "")
		if p.Detail == "" {
			t.Fatal("no detail")
		}
		e.wantUnchanged(before)
		if _, err := e.store.CompleteRefund(ctx, id); err != nil {
			t.Fatal(err)
		}
		e.do("POST", "/orders/"+id+"/cancel", "").wantProblem(t, http.StatusConflict, "order-not-cancellable", "")
		if got := stock(); got != initial {
			t.Fatalf("stock %v after the refund, want %v", got, initial)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		id := create()
		if _, err := e.store.ReserveStock(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CompletePayment(ctx, id, false, "declined: 402"); err != nil {
			t.Fatal(err)
		}
		before := e.snapshot()
		e.do("POST", "/orders/"+id+"/cancel", "").wantProblem(t, http.StatusConflict, "order-not-cancellable", "")
		e.wantUnchanged(before)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		e.do("POST", "/orders/nope/cancel", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
	t.Run("ErrMethod", func(t *testing.T) {
		if r := e.do("GET", "/orders/x/cancel", ""); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("GET cancel: %d", r.status)
		}
	})
}
