package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wims/wims"
)

// TestShipOrder covers POST /orders/{id}/shipment: a PAID order becomes
// SHIPPED with its carrier and tracking id, keeps its stock and can no
// longer be cancelled; the same shipment again is 200 with nothing
// changed; another shipment, or any other status, is 409
// order-not-shippable; a bad body is 400 naming the field; an unknown order
// is 404. Nothing refused changes anything.
func TestShipOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const body = `{"carrier":"UPS","trackingId":"1Z999AA10123456784"}`
	stock := func() float64 {
		t.Helper()
		return e.do("GET", "/inventory/"+wims.DefaultSKU, "").wantJSON(t, http.StatusOK)["quantity"].(float64)
	}
	// create returns a new order for 4, moved on by the transitions named.
	create := func(steps ...string) string {
		t.Helper()
		id := e.do("POST", "/orders", `{"customerId":"c-1","quantity":4}`).wantJSON(t, http.StatusAccepted)["orderId"].(string)
		for _, step := range steps {
			var err error
			switch step {
			case "reserve":
				_, err = e.store.ReserveStock(ctx, id)
			case "pay":
				_, err = e.store.CompletePayment(ctx, id, true, "")
			case "cancel":
				_, err = e.store.CancelOrder(ctx, id)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return id
	}

	t.Run("OK", func(t *testing.T) {
		id := create("reserve", "pay")
		held := stock()
		m := e.do("POST", "/orders/"+id+"/shipment", body).wantJSON(t, http.StatusOK)
		wantKeys(t, m, append(orderKeys, "carrier", "trackingId")...)
		if m["status"] != "SHIPPED" || m["carrier"] != "UPS" || m["trackingId"] != "1Z999AA10123456784" || m["orderId"] != id {
			t.Fatalf("shipment = %v", m)
		}
		got := e.do("GET", "/orders/"+id, "").wantJSON(t, http.StatusOK)
		if got["status"] != "SHIPPED" || got["carrier"] != "UPS" {
			t.Fatalf("GET = %v", got)
		}
		if s := stock(); s != held {
			t.Fatalf("stock %v after the shipment, want %v: it left with the order", s, held)
		}
		// Again, even with the members the other way round: the same order,
		// nothing written.
		before := e.snapshot()
		again := e.do("POST", "/orders/"+id+"/shipment", `{"trackingId":"1Z999AA10123456784","carrier":"UPS"}`).
			wantJSON(t, http.StatusOK)
		if again["status"] != "SHIPPED" || again["updatedAt"] != m["updatedAt"] {
			t.Fatalf("second shipment = %v, first %v", again, m)
		}
		e.wantUnchanged(before)
		p := e.do("POST", "/orders/"+id+"/shipment", `{"carrier":"DHL","trackingId":"JD01"}`).
			wantProblem(t, http.StatusConflict, "order-not-shippable", "")
		if !strings.Contains(p.Detail, "shipped already") {
			t.Fatalf("detail %q", p.Detail)
		}
		e.do("POST", "/orders/"+id+"/cancel", "").wantProblem(t, http.StatusConflict, "order-not-cancellable", "")
		e.wantUnchanged(before)
		list := e.do("GET", "/orders?status=SHIPPED", "").wantJSON(t, http.StatusOK)["orders"].([]any)
		if len(list) != 1 {
			t.Fatalf("SHIPPED lists %v", list)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		for name, steps := range map[string][]string{
			"Pending":       nil,
			"Reserved":      {"reserve"},
			"Cancelled":     {"cancel"},
			"RefundPending": {"reserve", "pay", "cancel"},
		} {
			id := create(steps...)
			before := e.snapshot()
			p := e.do("POST", "/orders/"+id+"/shipment", body).wantProblem(t, http.StatusConflict, "order-not-shippable", "")
			if !strings.Contains(p.Detail, "only PAID orders") {
				t.Errorf("%s: detail %q", name, p.Detail)
			}
			e.wantUnchanged(before)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		id := create("reserve", "pay")
		for _, c := range []struct{ body, field string }{
			{`{"trackingId":"1Z"}`, "carrier"},
			{`{"carrier":"UPS"}`, "trackingId"},
			{`{"carrier":"UPS","trackingId":""}`, "trackingId"},
			{`{"carrier":"UPS ","trackingId":"1Z"}`, "carrier"},
			{`{"carrier":"UPS","trackingId":"1Z\n"}`, "trackingId"},
			{`{"carrier":"` + strings.Repeat("c", wims.MaxCarrierLength+1) + `","trackingId":"1Z"}`, "carrier"},
			{`{"carrier":"UPS","trackingId":"1Z","note":"x"}`, "note"},
			{`{"carrier":7,"trackingId":"1Z"}`, "carrier"},
		} {
			before := e.snapshot()
			e.do("POST", "/orders/"+id+"/shipment", c.body).wantProblem(t, http.StatusBadRequest, "validation-error", c.field)
			e.wantUnchanged(before)
		}
		before := e.snapshot()
		e.do("POST", "/orders/"+id+"/shipment", "").wantProblem(t, http.StatusBadRequest, "malformed-json", "")
		e.wantUnchanged(before)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		e.do("POST", "/orders/nope/shipment", body).wantProblem(t, http.StatusNotFound, "not-found", "")
	})
	t.Run("ErrMethod", func(t *testing.T) {
		if r := e.do("GET", "/orders/x/shipment", ""); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("GET shipment: %d", r.status)
		}
	})
}
