package workflow_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/payments"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/workflow"
)

// cancelledOrder creates order id (quantity 1), reserves it, records the
// charge attempts given by outcomes (status 500 for an error, 409 for a
// throttle), and cancels it.
func (f *fixture) cancelledOrder(t *testing.T, id string, at time.Time, outcomes ...wims.PaymentOutcome) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ReserveStock(ctx, id); err != nil {
		t.Fatal(err)
	}
	for i, oc := range outcomes {
		code := map[wims.PaymentOutcome]int{wims.PaymentError: 500, wims.PaymentThrottled: 429, wims.PaymentDeclined: 402}[oc]
		if err := f.store.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: id, Attempt: i + 1, Outcome: oc, StatusCode: code, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.CancelOrder(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func failures(n int) []wims.PaymentOutcome {
	out := make([]wims.PaymentOutcome, n)
	for i := range out {
		out[i] = wims.PaymentError
	}
	return out
}

// TestReconcilerRequeuesChargeOfCancelledOrder: a CANCELLED order whose
// charge was dead-lettered after its failures (so it may have been charged)
// has its charge queued again, marked redriven so the dispatcher gives it
// fresh attempts, once per round however often the reconciler sweeps;
// cancelled orders that no call can have charged, or whose charge got a
// final answer, are left alone.
func TestReconcilerRequeuesChargeOfCancelledOrder(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	now := time.Now()
	later := now.Add(5 * time.Minute)
	r := &workflow.Reconciler{Store: f.store, Workflow: f.wf, Queue: nats.Queue{Bus: f.bus, Durable: "payments-dispatcher"}, Grace: time.Minute, Now: func() time.Time { return later }}

	f.cancelledOrder(t, "dead-lettered", now, failures(wims.MaxPaymentFailures)...)
	f.cancelledOrder(t, "never-called", now)
	f.cancelledOrder(t, "only-throttled", now, wims.PaymentThrottled, wims.PaymentThrottled)
	f.cancelledOrder(t, "declined", now, wims.PaymentError, wims.PaymentDeclined)
	// Dead-lettered twice already: its next round waits 2 × Grace after
	// the last attempt, 90 s is too early.
	f.cancelledOrder(t, "second-round", later.Add(-90*time.Second), failures(2*wims.MaxPaymentFailures)...)

	resumed, requeued, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resumed != 0 || requeued != 1 {
		t.Fatalf("resumed %d requeued %d, want 0 and 1", resumed, requeued)
	}
	got := map[string]int{}
	for _, p := range f.payments(t) {
		got[p.OrderID]++
	}
	if len(got) != 1 || got["dead-lettered"] != 1 {
		t.Fatalf("charges queued per order = %v, want one for dead-lettered", got)
	}
	m, err := f.bus.LastMessage(ctx, workflow.PaymentSubject(f.subj, "dead-lettered"))
	if err != nil || m == nil {
		t.Fatalf("queued charge: %v %v", m, err)
	}
	if at, err := time.Parse(time.RFC3339Nano, m.Header[wims.HeaderRedrivenAt]); err != nil || !at.Equal(later.UTC()) {
		t.Fatalf("queued charge %s = %q, want the sweep's time %s", wims.HeaderRedrivenAt, m.Header[wims.HeaderRedrivenAt], later)
	}
	if k := m.Header[wims.HeaderPaymentKind]; k != string(wims.PaymentCharge) {
		t.Fatalf("queued message kind %q, want a charge", k)
	}
	if _, requeued, err := r.Sweep(ctx); err != nil || requeued != 0 {
		t.Fatalf("second sweep requeued %d (%v): the charge is queued", requeued, err)
	}
	if o, _ := f.store.GetOrder(ctx, "dead-lettered"); o.Status != wims.OrderCancelled {
		t.Fatalf("the sweep changed the order: %s", o.Status)
	}
}

// TestReconcilerLeavesOldCancelledOrders: CANCELLED orders created before
// the horizon are not swept, so the sweep's cost stays bounded.
func TestReconcilerLeavesOldCancelledOrders(t *testing.T) {
	f := newFixture(t, nil)
	now := time.Now()
	muchLater := now.Add(8 * 24 * time.Hour)
	r := &workflow.Reconciler{Store: f.store, Workflow: f.wf, Queue: nats.Queue{Bus: f.bus, Durable: "payments-dispatcher"}, Grace: time.Minute,
		CancelledHorizon: 7 * 24 * time.Hour, Now: func() time.Time { return muchLater }}
	f.cancelledOrder(t, "old", now, failures(wims.MaxPaymentFailures)...)
	if _, requeued, err := r.Sweep(context.Background()); err != nil || requeued != 0 {
		t.Fatalf("requeued %d (%v), want 0", requeued, err)
	}
}

// lossyTransport, while lose is set, reports a lost connection for every
// request: after forwarding it to the payments API and throwing the answer
// away (the API did what it did, and wims cannot know it), or, with
// before, without forwarding it (the API never heard of it).
type lossyTransport struct {
	lose   atomic.Bool
	before bool
}

func (lt *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if lt.before && lt.lose.Load() {
		return nil, errors.New("connection refused (simulated)")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !lt.lose.Load() {
		return resp, err
	}
	resp.Body.Close()
	return nil, errors.New("connection reset by peer (simulated)")
}

// TestDeadLetteredChargeOfCancelledOrderIsRefunded is the gap the
// reconciler closes, end to end with the dispatcher and the mock payments
// API: every call of an order's charge fails with an unknown outcome, so
// after 10 failures it is dead-lettered; the customer cancels (the stock
// goes back). The reconciler queues the charge again: the API replays the
// charge it made ("AnswersLost"), or charges now ("NeverArrived"); either
// way the order becomes REFUND_PENDING with its stock already back, the
// reconciler queues its refund (its event is not in this test), and it
// ends REFUNDED: charged once, refunded once, the stock counted once.
func TestDeadLetteredChargeOfCancelledOrderIsRefunded(t *testing.T) {
	t.Run("AnswersLost", func(t *testing.T) { testDeadLetteredCancelled(t, false) })
	t.Run("NeverArrived", func(t *testing.T) { testDeadLetteredCancelled(t, true) })
}

// testDeadLetteredCancelled is TestDeadLetteredChargeOfCancelledOrderIsRefunded
// with the failing calls lost before reaching the API (before) or after.
func testDeadLetteredCancelled(t *testing.T, before bool) {
	f := newFixture(t, nil)
	ctx := context.Background()
	mock := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000})
	api := httptest.NewServer(mock)
	t.Cleanup(api.Close)
	lt := &lossyTransport{before: before}
	lt.lose.Store(true)
	d, err := payments.New(payments.Options{URL: api.URL, Store: f.store, Rate: 1000, Client: &http.Client{Transport: lt}})
	if err != nil {
		t.Fatal(err)
	}

	const id = "charged-unknowingly"
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: "A", Quantity: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ReserveStock(ctx, id); err != nil {
		t.Fatal(err)
	}
	charge := &wims.Message{Subject: workflow.PaymentSubject(f.subj, id), Data: []byte(`{"orderId":"` + id + `"}`), Header: map[string]string{}}
	for i := 1; ; i++ {
		charge.Delivered = i
		err := d.Handle(ctx, charge)
		if wims.IsPermanent(err) {
			if !errors.Is(err, payments.ErrTooManyFailures) || i != wims.MaxPaymentFailures+1 {
				t.Fatalf("delivery %d: %v, want dead-lettered after %d failures", i, err, wims.MaxPaymentFailures)
			}
			break
		}
		if i > wims.MaxPaymentFailures+1 {
			t.Fatalf("not dead-lettered after %d deliveries: %v", i, err)
		}
	}
	if n, want := mock.Charges(id), map[bool]int{false: 1, true: 0}[before]; n != want {
		t.Fatalf("the API charged %d times, want %d", n, want)
	}
	if _, err := f.store.CancelOrder(ctx, id); err != nil {
		t.Fatal(err)
	}
	if f.stock(t) != 10 {
		t.Fatalf("stock %d after the cancel, want 10", f.stock(t))
	}

	lt.lose.Store(false) // the network is fine again
	later := time.Now().Add(5 * time.Minute)
	r := &workflow.Reconciler{Store: f.store, Workflow: f.wf, Queue: nats.Queue{Bus: f.bus, Durable: "payments-dispatcher"}, Grace: time.Minute, Now: func() time.Time { return later }}
	// handleQueued sweeps once and hands the message it queued on subject
	// to the dispatcher, as the payments consumer would.
	handleQueued := func(subject string) {
		t.Helper()
		if _, requeued, err := r.Sweep(ctx); err != nil || requeued != 1 {
			t.Fatalf("sweep requeued %d (%v), want 1", requeued, err)
		}
		m, err := f.bus.LastMessage(ctx, subject)
		if err != nil || m == nil {
			t.Fatalf("nothing queued on %s: %v", subject, err)
		}
		m.Delivered = 1
		if err := d.Handle(ctx, m); err != nil {
			t.Fatalf("handle %s: %v", subject, err)
		}
		// The consumer acknowledges it: the work queue forgets it.
		s, err := f.bus.JetStream().Stream(ctx, f.bus.Stream(nats.Payments))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
			t.Fatal(err)
		}
	}
	handleQueued(workflow.PaymentSubject(f.subj, id))
	o, err := f.store.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != wims.OrderRefundPending || !o.StockReleased {
		t.Fatalf("after the requeued charge: %s stockReleased=%v, want REFUND_PENDING with the stock released", o.Status, o.StockReleased)
	}
	handleQueued(workflow.PaymentSubject(f.refunds, id))
	if o, _ := f.store.GetOrder(ctx, id); o.Status != wims.OrderRefunded {
		t.Fatalf("after the refund: %s, want REFUNDED", o.Status)
	}
	if c, rf := mock.Charges(id), mock.Refunds(id); c != 1 || rf != 1 {
		t.Fatalf("the API charged %d and refunded %d times, want 1 and 1", c, rf)
	}
	if f.stock(t) != 10 {
		t.Fatalf("stock %d at the end, want 10: released once, at the cancel", f.stock(t))
	}
	if _, requeued, err := r.Sweep(ctx); err != nil || requeued != 0 {
		t.Fatalf("a sweep of the settled order requeued %d (%v)", requeued, err)
	}
}
