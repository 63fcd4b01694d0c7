package workflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/workflow"
)

// refundPending brings order id (quantity 2) to REFUND_PENDING: paid, then
// cancelled.
func (f *fixture) refundPending(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: "A", Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() (wims.Order, error){
		func() (wims.Order, error) { return f.store.ReserveStock(ctx, id) },
		func() (wims.Order, error) { return f.store.CompletePayment(ctx, id, true, "") },
		func() (wims.Order, error) { return f.store.CancelOrder(ctx, id) },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
}

// queuedRefunds lists the refund messages queued, with their kind header.
func (f *fixture) queuedRefunds(t *testing.T) []*wims.Message {
	t.Helper()
	msgs, err := f.bus.Recent(context.Background(), f.refunds+".>", 1000, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestRefundPendingEnqueuesRefund: the change of an order to REFUND_PENDING
// (what the order-refund rule routes here) queues its refund, once however
// often it is delivered, marked as a refund for the dispatcher.
func TestRefundPendingEnqueuesRefund(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.refundPending(t, "o-1")
	changes, err := f.store.ReadChanges(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	c := changes[len(changes)-1]
	out, err := relay.Message(c, "wims.events.cdc", "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		m := &wims.Message{Subject: out.Subject, Data: out.Data, Header: out.Header, ID: out.ID, Delivered: i + 1}
		if err := f.wf.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	msgs := f.queuedRefunds(t)
	if len(msgs) != 1 || msgs[0].Header[wims.HeaderPaymentKind] != string(wims.PaymentRefund) ||
		msgs[0].Subject != workflow.PaymentSubject(f.refunds, "o-1") {
		t.Fatalf("refunds queued %+v, want one for o-1 marked refund", msgs)
	}
	if len(f.payments(t)) != 0 {
		t.Fatal("a charge was queued for a refund")
	}
	execs, err := f.store.Executions(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(execs) != 2 || execs[0].Steps[0].Name != "enqueue-refund" || execs[1].Steps[0].Outcome != "already-enqueued" {
		t.Fatalf("executions %+v", execs)
	}
	// The order itself is untouched: the dispatcher refunds it.
	if o, _ := f.store.GetOrder(ctx, "o-1"); o.Status != wims.OrderRefundPending {
		t.Fatalf("order %s", o.Status)
	}
}

// TestReconcilerRequeuesLostRefunds: a REFUND_PENDING order whose refund is
// not queued gets it queued again; one whose refund was declined (its dead
// letter is for a person) does not.
func TestReconcilerRequeuesLostRefunds(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	later := time.Now().Add(5 * time.Minute)
	r := &workflow.Reconciler{Store: f.store, Workflow: f.wf, Queue: nats.Queue{Bus: f.bus, Durable: "payments-dispatcher"}, Grace: time.Minute, Now: func() time.Time { return later }}
	f.refundPending(t, "lost-refund")
	f.refundPending(t, "declined")
	if err := f.store.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: "declined", Kind: wims.PaymentRefund,
		Attempt: 1, Outcome: wims.PaymentDeclined, StatusCode: 404, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	resumed, requeued, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resumed != 0 || requeued != 1 {
		t.Fatalf("resumed %d requeued %d, want 0 and 1", resumed, requeued)
	}
	if msgs := f.queuedRefunds(t); len(msgs) != 1 || msgs[0].Subject != workflow.PaymentSubject(f.refunds, "lost-refund") {
		t.Fatalf("refunds queued %+v", msgs)
	}
	if _, requeued, err := r.Sweep(ctx); err != nil || requeued != 0 {
		t.Fatalf("second sweep requeued %d (%v): the refund is queued", requeued, err)
	}
}
