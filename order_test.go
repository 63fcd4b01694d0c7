package wims_test

import (
	"strings"
	"testing"

	"github.com/wims/wims"
)

func TestOrderValidate(t *testing.T) {
	ok := wims.Order{CustomerID: "123", SKU: wims.DefaultSKU, Quantity: 3}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid order: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*wims.Order)
		field string
	}{
		{"no customer", func(o *wims.Order) { o.CustomerID = "" }, "customerId"},
		{"long customer", func(o *wims.Order) { o.CustomerID = strings.Repeat("x", 129) }, "customerId"},
		{"no sku", func(o *wims.Order) { o.SKU = "" }, "sku"},
		{"bad sku", func(o *wims.Order) { o.SKU = "a b" }, "sku"},
		{"zero quantity", func(o *wims.Order) { o.Quantity = 0 }, "quantity"},
		{"negative quantity", func(o *wims.Order) { o.Quantity = -1 }, "quantity"},
		{"absurd quantity", func(o *wims.Order) { o.Quantity = wims.MaxOrderQuantity + 1 }, "quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			err := o.Validate()
			if wims.ErrorCode(err) != wims.EINVALID || wims.ErrorField(err) != tt.field {
				t.Fatalf("Validate = %v (code %q field %q), want EINVALID on %s", err, wims.ErrorCode(err), wims.ErrorField(err), tt.field)
			}
		})
	}
}

func TestItemValidate(t *testing.T) {
	if err := wims.SeedItem().Validate(); err != nil {
		t.Fatalf("seed item: %v", err)
	}
	bad := wims.SeedItem()
	bad.Quantity = -1
	if wims.ErrorField(bad.Validate()) != "quantity" {
		t.Fatalf("negative quantity accepted")
	}
	bad = wims.SeedItem()
	bad.LowStockThreshold = wims.MaxQuantity + 1
	if wims.ErrorField(bad.Validate()) != "lowStockThreshold" {
		t.Fatalf("absurd threshold accepted")
	}
	if wims.ErrorField(wims.Adjustment{Delta: 0}.Validate()) != "delta" {
		t.Fatalf("zero delta accepted")
	}
}

func TestOrderStatus(t *testing.T) {
	for _, s := range []wims.OrderStatus{wims.OrderRejected, wims.OrderPaymentFailed, wims.OrderCancelled, wims.OrderRefunded,
		wims.OrderShipped} {
		if !s.Final() {
			t.Errorf("%s should be final", s)
		}
	}
	for _, s := range []wims.OrderStatus{wims.OrderPending, wims.OrderBackordered, wims.OrderReserved, wims.OrderPaid, wims.OrderRefundPending} {
		if s.Final() {
			t.Errorf("%s is not final", s)
		}
	}
	for _, s := range wims.OrderStatuses {
		want := s == wims.OrderReserved || s == wims.OrderPaid || s == wims.OrderRefundPending || s == wims.OrderShipped
		if got := (wims.Order{Status: s}).HoldsStock(); got != want {
			t.Errorf("%s: HoldsStock = %v, want %v", s, got, want)
		}
	}
	// A late charge after a cancel owes money back, not stock.
	if (wims.Order{Status: wims.OrderRefundPending, StockReleased: true}).HoldsStock() {
		t.Error("REFUND_PENDING with its stock released holds stock")
	}
}

func TestShipment(t *testing.T) {
	ok := wims.Shipment{Carrier: "DHL Express", TrackingID: "JD0146000000"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid shipment: %v", err)
	}
	for _, c := range []struct {
		s     wims.Shipment
		field string
	}{
		{wims.Shipment{TrackingID: "x"}, "carrier"},
		{wims.Shipment{Carrier: "x"}, "trackingId"},
		{wims.Shipment{Carrier: strings.Repeat("c", wims.MaxCarrierLength+1), TrackingID: "x"}, "carrier"},
		{wims.Shipment{Carrier: "x", TrackingID: strings.Repeat("t", wims.MaxTrackingIDLength+1)}, "trackingId"},
		{wims.Shipment{Carrier: " UPS", TrackingID: "x"}, "carrier"},
		{wims.Shipment{Carrier: "UPS", TrackingID: "a\nb"}, "trackingId"},
		{wims.Shipment{Carrier: "UPS", TrackingID: "\xff"}, "trackingId"},
	} {
		if got := wims.ErrorField(c.s.Validate()); got != c.field {
			t.Errorf("%+v: field %q, want %q", c.s, got, c.field)
		}
	}
	for _, st := range wims.OrderStatuses {
		next, shipped := wims.Order{Status: st}.Ship(ok)
		if shipped != (st == wims.OrderPaid) {
			t.Errorf("%s: Ship ok = %v", st, shipped)
		}
		if shipped && (next.Status != wims.OrderShipped || next.Carrier != ok.Carrier || next.TrackingID != ok.TrackingID) {
			t.Errorf("Ship = %+v", next)
		}
	}
	if o, ok := (wims.Order{Status: wims.OrderBackordered}).Cancel(); !ok || o.Status != wims.OrderCancelled {
		t.Error("a BACKORDERED order cannot be cancelled")
	}
	if _, ok := (wims.Order{Status: wims.OrderShipped}).Cancel(); ok {
		t.Error("a SHIPPED order can be cancelled")
	}
}

func TestErrorCode(t *testing.T) {
	if wims.ErrorCode(nil) != "" {
		t.Fatal("nil error has a code")
	}
	plain := strings.NewReader("").UnreadByte()
	if wims.ErrorCode(plain) != wims.EINTERNAL || wims.ErrorMessage(plain) != "internal error" {
		t.Fatalf("plain errors must be internal and not leak: %q", wims.ErrorMessage(plain))
	}
}

func TestOrderTransitions(t *testing.T) {
	o := wims.Order{ID: "o", Quantity: 7, Status: wims.OrderPending}
	if r := o.Reserve(true, 0); r.Status != wims.OrderReserved || r.Reason != "" {
		t.Fatalf("Reserve(true) = %+v", r)
	}
	if r := o.Reserve(false, 3); r.Status != wims.OrderRejected || r.Reason != "insufficient stock: requested 7, available 3" {
		t.Fatalf("Reserve(false) = %+v", r)
	}
	o.Status = wims.OrderReserved
	if p := o.Settle(true, "ignored"); p.Status != wims.OrderPaid || p.Reason != "" {
		t.Fatalf("Settle(true) = %+v", p)
	}
	if f := o.Settle(false, ""); f.Status != wims.OrderPaymentFailed || f.Reason != "payment declined" {
		t.Fatalf("Settle(false) = %+v", f)
	}
	if f := o.Settle(false, "declined: 402"); f.Reason != "declined: 402" {
		t.Fatalf("Settle keeps the reason: %+v", f)
	}
}
