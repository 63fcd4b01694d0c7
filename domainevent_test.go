package wims_test

import (
	"encoding/json"
	"testing"

	"github.com/wims/wims"
)

func orderChange(t *testing.T, from, to wims.OrderStatus) wims.Change {
	t.Helper()
	o := wims.Order{ID: "o1", CustomerID: "c1", SKU: "S", Quantity: 3, Status: from}
	n := o
	n.Status = to
	oi, _ := json.Marshal(o)
	ni, _ := json.Marshal(n)
	return wims.Change{Seq: 7, EventID: "ev-7", Table: wims.TableOrders, EventType: wims.ChangeUpdate, OldImage: oi, NewImage: ni}
}

func TestDomainEventsOfOrderTransitions(t *testing.T) {
	cases := []struct {
		from, to           wims.OrderStatus
		source, detailType string
	}{
		{wims.OrderPending, wims.OrderReserved, wims.SourceOrders, wims.DetailOrderReserved},
		{wims.OrderPending, wims.OrderRejected, wims.SourceOrders, wims.DetailOrderRejected},
		{wims.OrderReserved, wims.OrderPaid, wims.SourcePayments, wims.DetailPaymentSucceeded},
		{wims.OrderReserved, wims.OrderPaymentFailed, wims.SourcePayments, wims.DetailPaymentFailed},
		{wims.OrderPending, wims.OrderCancelled, wims.SourceOrders, wims.DetailOrderCancelled},
		{wims.OrderReserved, wims.OrderCancelled, wims.SourceOrders, wims.DetailOrderCancelled},
		{wims.OrderPaid, wims.OrderRefundPending, wims.SourcePayments, wims.DetailRefundPending},
		{wims.OrderCancelled, wims.OrderRefundPending, wims.SourcePayments, wims.DetailRefundPending},
		{wims.OrderRefundPending, wims.OrderRefunded, wims.SourcePayments, wims.DetailRefundSucceeded},
		{wims.OrderPaid, wims.OrderShipped, wims.SourceOrders, wims.DetailOrderShipped},
		{wims.OrderPending, wims.OrderBackordered, wims.SourceOrders, wims.DetailOrderBackordered},
		{wims.OrderBackordered, wims.OrderReserved, wims.SourceOrders, wims.DetailOrderReserved},
	}
	for _, c := range cases {
		evs, err := wims.DomainEvents(orderChange(t, c.from, c.to))
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s→%s: %v, %d events", c.from, c.to, err, len(evs))
		}
		ev := evs[0]
		if ev.Source != c.source || ev.DetailType != c.detailType {
			t.Errorf("%s→%s: got %s / %s", c.from, c.to, ev.Source, ev.DetailType)
		}
		var d wims.OrderEventDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil || d.OrderID != "o1" || d.Status != c.to {
			t.Errorf("%s→%s: detail %s (%v)", c.from, c.to, ev.Detail, err)
		}
		if json.Valid(ev.Detail) && string(ev.Detail) != "" && containsCustomer(ev.Detail) {
			t.Errorf("domain event carries the customer id: %s", ev.Detail)
		}
		again, _ := wims.DomainEvents(orderChange(t, c.from, c.to))
		if again[0].ID != ev.ID {
			t.Errorf("ids differ on re-derivation: %s vs %s", ev.ID, again[0].ID)
		}
	}
	if evs, _ := wims.DomainEvents(orderChange(t, wims.OrderReserved, wims.OrderReserved)); len(evs) != 0 {
		t.Errorf("no status change gave %d events", len(evs))
	}
}

// TestDomainEventOrderShipped: the Order Shipped event says how the order
// left, so a rule can tell the customer without reading the order.
func TestDomainEventOrderShipped(t *testing.T) {
	o := wims.Order{ID: "o1", CustomerID: "c1", SKU: "S", Quantity: 3, Status: wims.OrderPaid}
	n, ok := o.Ship(wims.Shipment{Carrier: "UPS", TrackingID: "1Z999"})
	if !ok {
		t.Fatal("a PAID order cannot ship")
	}
	oi, _ := json.Marshal(o)
	ni, _ := json.Marshal(n)
	evs, err := wims.DomainEvents(wims.Change{EventID: "e", Table: wims.TableOrders, EventType: wims.ChangeUpdate,
		OldImage: oi, NewImage: ni})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v, %d events", err, len(evs))
	}
	var d wims.OrderEventDetail
	if err := json.Unmarshal(evs[0].Detail, &d); err != nil || d.Carrier != "UPS" || d.TrackingID != "1Z999" {
		t.Fatalf("detail %s (%v)", evs[0].Detail, err)
	}
}

func containsCustomer(b []byte) bool {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	_, ok := m["customerId"]
	return ok
}

func TestDomainEventsOfStockCrossings(t *testing.T) {
	mk := func(q int64) json.RawMessage {
		b, _ := json.Marshal(wims.Item{SKU: "S", Quantity: q, LowStockThreshold: 100})
		return b
	}
	c := wims.Change{EventID: "e", Table: wims.TableInventory, EventType: wims.ChangeUpdate, OldImage: mk(150), NewImage: mk(0)}
	evs, err := wims.DomainEvents(c)
	if err != nil || len(evs) != 2 || evs[0].DetailType != wims.DetailStockLow || evs[1].DetailType != wims.DetailStockOut {
		t.Fatalf("150→0: %v %+v", err, evs)
	}
	if evs[0].ID == evs[1].ID {
		t.Error("two crossings of one change share an id")
	}
	c.OldImage, c.NewImage = mk(90), mk(80)
	if evs, _ := wims.DomainEvents(c); len(evs) != 0 {
		t.Errorf("no crossing gave %d events", len(evs))
	}
}
