package payments_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/payments"
	"github.com/wims/wims/paymentsmock"
)

// gated holds each request at the API until the test lets it through, so a
// test can act while a charge is in flight without timing anything.
type gated struct {
	next    http.Handler
	arrived chan struct{}
	release chan struct{}
}

func newGated(next http.Handler) *gated {
	return &gated{next: next, arrived: make(chan struct{}, 16), release: make(chan struct{}, 16)}
}

func (g *gated) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.arrived <- struct{}{}
	<-g.release
	g.next.ServeHTTP(w, r)
}

// chargedThenFailed charges through the mock, then answers 500 the first
// time: the API took the money but wims cannot know.
type chargedThenFailed struct {
	mock   *paymentsmock.Server
	failed bool
}

func (h *chargedThenFailed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.failed {
		h.mock.ServeHTTP(w, r)
		return
	}
	h.failed = true
	h.mock.ServeHTTP(discard{w.Header()}, r)
	w.WriteHeader(http.StatusInternalServerError)
}

// discard is a ResponseWriter that drops what is written.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h.Clone() }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

func (e *env) cancel(tb testing.TB, id string) wims.Order {
	tb.Helper()
	o, err := e.store.CancelOrder(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func (e *env) stock(tb testing.TB) int64 {
	tb.Helper()
	it, err := e.store.GetItem(context.Background(), plentySKU)
	if err != nil {
		tb.Fatal(err)
	}
	return it.Quantity
}

// TestCancelledOrderIsNotCharged: the dispatcher looks at the order before
// it charges, and a cancelled one is settled without a call.
func TestCancelledOrderIsNotCharged(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	e := newEnv(t, mock, payments.Options{})
	m := e.order(t, "order-1", "123")
	e.cancel(t, "order-1")
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := e.status(t, "order-1").Status; got != wims.OrderCancelled {
		t.Fatalf("status=%s, want CANCELLED", got)
	}
	if n := mock.Charges("order-1"); n != 0 || len(e.attempts(t, "order-1")) != 0 {
		t.Fatalf("charges %d, attempts %+v: a cancelled order was sent", n, e.attempts(t, "order-1"))
	}
}

// TestChargeInFlightWhenCancelled cancels a RESERVED order while its charge
// is at the API and lets the charge succeed: the stock went back at the
// cancel, and the order owes its refund (REFUND_PENDING, stockReleased), so
// neither stock nor money ends wrong.
func TestChargeInFlightWhenCancelled(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	g := newGated(mock)
	e := newEnv(t, g, payments.Options{})
	before := e.stock(t)
	m := e.order(t, "order-1", "123")
	done := make(chan error, 1)
	go func() { done <- e.d.Handle(context.Background(), m) }()
	<-g.arrived
	if o := e.cancel(t, "order-1"); o.Status != wims.OrderCancelled {
		t.Fatalf("cancel: %s", o.Status)
	}
	if got := e.stock(t); got != before {
		t.Fatalf("stock %d after the cancel, want %d", got, before)
	}
	g.release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	o := e.status(t, "order-1")
	if o.Status != wims.OrderRefundPending || !o.StockReleased || o.Reason != wims.ReasonChargedAfterCancel {
		t.Fatalf("order %+v, want REFUND_PENDING with its stock released", o)
	}
	if got := e.stock(t); got != before {
		t.Fatalf("stock %d, want %d: released once, at the cancel", got, before)
	}
	if n := mock.Charges("order-1"); n != 1 {
		t.Fatalf("charges %d, want 1", n)
	}
	// A redelivery changes nothing and sends nothing.
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := e.status(t, "order-1"); !got.Equal(o) || len(e.attempts(t, "order-1")) != 1 {
		t.Fatalf("redelivery changed %+v to %+v", o, got)
	}
}

// TestCancelledAfterUnknownOutcome: the charge failed with a 500 after the
// API had taken the money, then the order was cancelled. The dispatcher
// asks again with the same Idempotency-Key, learns it was paid, and the
// order owes its refund; the API charged once.
func TestCancelledAfterUnknownOutcome(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	e := newEnv(t, &chargedThenFailed{mock: mock}, payments.Options{})
	m := e.order(t, "order-1", "123")
	retryDelay(t, e.d.Handle(context.Background(), m))
	e.cancel(t, "order-1")
	m.Delivered++
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if o := e.status(t, "order-1"); o.Status != wims.OrderRefundPending || !o.StockReleased {
		t.Fatalf("order %+v, want REFUND_PENDING with its stock released", o)
	}
	if n := mock.Charges("order-1"); n != 1 {
		t.Fatalf("charges %d, want 1", n)
	}
}

// TestCancelledAfterLostDelivery: an earlier delivery recorded no attempt
// (wims may have died mid-call), so a cancelled order is asked about again
// rather than assumed uncharged; a decline leaves it CANCELLED.
func TestCancelledAfterLostDelivery(t *testing.T) {
	mock := fastMock(paymentsmock.Options{DeclineCustomers: []string{"poor"}})
	e := newEnv(t, mock, payments.Options{})
	m := e.order(t, "order-1", "poor")
	e.cancel(t, "order-1")
	m.Delivered = 2
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	a := e.attempts(t, "order-1")
	if len(a) != 1 || a[0].Outcome != wims.PaymentDeclined {
		t.Fatalf("attempts %+v, want one declined", a)
	}
	if got := e.status(t, "order-1").Status; got != wims.OrderCancelled {
		t.Fatalf("status=%s, want CANCELLED", got)
	}
}

// refundMessage is the refund request the workflow queues for order id.
func refundMessage(tb testing.TB, o wims.Order) *wims.Message {
	tb.Helper()
	b, err := payments.EncodeRequest(o)
	if err != nil {
		tb.Fatal(err)
	}
	return &wims.Message{Subject: "payments.refunds." + o.ID, Data: b, Delivered: 1,
		Header: map[string]string{wims.HeaderPaymentKind: string(wims.PaymentRefund)}}
}

// TestRefundOfPaidOrder: a PAID order cancelled is refunded once through
// POST <url>/refunds with its own Idempotency-Key, its stock goes back
// then, and redeliveries call nothing.
func TestRefundOfPaidOrder(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	var keys []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.URL.Path+" "+r.Header.Get("Idempotency-Key"))
		mock.ServeHTTP(w, r)
	})
	e := newEnv(t, h, payments.Options{})
	before := e.stock(t)
	m := e.order(t, "order-1", "123")
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	o := e.cancel(t, "order-1")
	if o.Status != wims.OrderRefundPending || e.stock(t) != before-o.Quantity {
		t.Fatalf("cancel of a paid order: %+v, stock %d", o, e.stock(t))
	}
	rm := refundMessage(t, o)
	for range 3 {
		if err := e.d.Handle(context.Background(), rm); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.status(t, "order-1").Status; got != wims.OrderRefunded {
		t.Fatalf("status %s, want REFUNDED", got)
	}
	if got := e.stock(t); got != before {
		t.Fatalf("stock %d, want %d after the refund", got, before)
	}
	if mock.Charges("order-1") != 1 || mock.Refunds("order-1") != 1 {
		t.Fatalf("charges %d refunds %d, want 1 and 1", mock.Charges("order-1"), mock.Refunds("order-1"))
	}
	if want := []string{"/ order-1", "/refunds refund:order-1"}; len(keys) != 2 || keys[0] != want[0] || keys[1] != want[1] {
		t.Fatalf("calls %q, want %q", keys, want)
	}
	a := e.attempts(t, "order-1")
	if len(a) != 2 || a[1].Kind != wims.PaymentRefund || a[1].Attempt != 1 || a[1].Outcome != wims.PaymentPaid {
		t.Fatalf("attempts %+v", a)
	}
	// A charge message redelivered now sends nothing.
	if err := e.d.Handle(context.Background(), m); err != nil || len(keys) != 2 {
		t.Fatalf("charge redelivered after the refund: %v, calls %q", err, keys)
	}
}

// TestLateChargeIsRefunded: cancelled while its charge was in flight, the
// order is charged, then refunded, and its stock, released at the cancel,
// is not released again.
func TestLateChargeIsRefunded(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	g := newGated(mock)
	e := newEnv(t, g, payments.Options{})
	before := e.stock(t)
	m := e.order(t, "order-1", "123")
	done := make(chan error, 1)
	go func() { done <- e.d.Handle(context.Background(), m) }()
	<-g.arrived
	e.cancel(t, "order-1")
	g.release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	o := e.status(t, "order-1")
	g.release <- struct{}{} // let the refund through
	if err := e.d.Handle(context.Background(), refundMessage(t, o)); err != nil {
		t.Fatal(err)
	}
	<-g.arrived
	if got := e.status(t, "order-1").Status; got != wims.OrderRefunded {
		t.Fatalf("status %s, want REFUNDED", got)
	}
	if got := e.stock(t); got != before {
		t.Fatalf("stock %d, want %d: released once", got, before)
	}
	if mock.Charges("order-1") != 1 || mock.Refunds("order-1") != 1 {
		t.Fatalf("charges %d refunds %d, want 1 and 1", mock.Charges("order-1"), mock.Refunds("order-1"))
	}
}

// TestRefundDeclinedIsDeadLettered: a refund the API declines for good is
// dead-lettered where a person sees it; the order keeps its stock and
// stays REFUND_PENDING.
func TestRefundDeclinedIsDeadLettered(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	e := newEnv(t, mock, payments.Options{})
	before := e.stock(t)
	o := e.store.put(t, wims.Order{ID: "order-1", CustomerID: "123", Status: wims.OrderPaid}) // not charged at the mock
	o = e.cancel(t, o.ID)
	err := e.d.Handle(context.Background(), refundMessage(t, o))
	if !wims.IsPermanent(err) || !errors.Is(err, payments.ErrRefundDeclined) {
		t.Fatalf("err %v, want a permanent ErrRefundDeclined", err)
	}
	if got := e.status(t, "order-1"); got.Status != wims.OrderRefundPending || e.stock(t) != before-got.Quantity {
		t.Fatalf("order %+v, stock %d: want REFUND_PENDING holding its stock", got, e.stock(t))
	}
}
