package workflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/workflow"
)

func TestReconcilerUnsticksOrders(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	later := time.Now().Add(5 * time.Minute)
	r := &workflow.Reconciler{Store: f.store, Workflow: f.wf, Queue: nats.Queue{Bus: f.bus, Durable: "payments-dispatcher"}, Grace: time.Minute, Now: func() time.Time { return later }}

	// An order whose insert event never reached the workflow.
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: "lost-event", CustomerID: "c", SKU: "A", Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	// An order reserved whose payment request was lost.
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: "lost-payment", CustomerID: "c", SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ReserveStock(ctx, "lost-payment"); err != nil {
		t.Fatal(err)
	}
	// A reserved order whose payment failed 10 times: dead-lettered, left alone.
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: "dead", CustomerID: "c", SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ReserveStock(ctx, "dead"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= wims.MaxPaymentFailures; i++ {
		if err := f.store.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: "dead", Attempt: i, Outcome: wims.PaymentError, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}

	resumed, requeued, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resumed != 1 || requeued != 1 {
		t.Fatalf("resumed %d, requeued %d; want 1 and 1", resumed, requeued)
	}
	if o, _ := f.store.GetOrder(ctx, "lost-event"); o.Status != wims.OrderReserved {
		t.Fatalf("lost-event is %s, want RESERVED", o.Status)
	}
	got := map[string]int{}
	for _, p := range f.payments(t) {
		got[p.OrderID]++
	}
	if got["lost-event"] != 1 || got["lost-payment"] != 1 || got["dead"] != 0 {
		t.Fatalf("payments queued per order = %v", got)
	}
	// Nothing is stuck any more: a second sweep does nothing.
	if resumed, requeued, err := r.Sweep(ctx); err != nil || resumed+requeued != 0 {
		t.Fatalf("second sweep: resumed %d requeued %d err %v; want nothing", resumed, requeued, err)
	}
	if f.stock(t) != 10-3-1 {
		t.Fatalf("stock = %d, want 6", f.stock(t))
	}
}

func TestReconcilerLeavesRecentOrdersAlone(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: "fresh", CustomerID: "c", SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	r := &workflow.Reconciler{Store: f.store, Workflow: f.wf, Queue: nats.Queue{Bus: f.bus, Durable: "payments-dispatcher"}, Grace: time.Minute}
	if resumed, requeued, err := r.Sweep(ctx); err != nil || resumed+requeued != 0 {
		t.Fatalf("resumed %d requeued %d err %v; a fresh order is not stuck", resumed, requeued, err)
	}
	if o, _ := f.store.GetOrder(ctx, "fresh"); o.Status != wims.OrderPending {
		t.Fatalf("fresh order is %s", o.Status)
	}
}
