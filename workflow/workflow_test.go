package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/sqlite"
	"github.com/wims/wims/workflow"
)

type fixture struct {
	store *sqlite.Store
	bus   *nats.Bus
	wf    *workflow.Workflow
	subj  string
	// refunds is the refunds base subject.
	refunds string
}

func newFixture(t *testing.T, pub workflow.Publisher) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	bus := natstest.Open(t)
	if pub == nil {
		pub = bus
	}
	f := &fixture{store: store, bus: bus, subj: bus.Subject("payments", "requests"), refunds: bus.Subject("payments", "refunds")}
	f.wf = workflow.New(workflow.Options{Store: store, Bus: pub, PaymentsSubject: f.subj, RefundsSubject: f.refunds})
	ctx := context.Background()
	if _, err := store.PutItem(ctx, wims.Item{SKU: "A", ProductName: "A", Quantity: 10, LowStockThreshold: 2}); err != nil {
		t.Fatal(err)
	}
	return f
}

// orderEvent creates an order and returns its insert event, as the relay
// publishes it and a consumer delivers it.
func (f *fixture) orderEvent(t *testing.T, id string, qty int64) *wims.Message {
	t.Helper()
	ctx := context.Background()
	if _, _, err := f.store.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: "A", Quantity: qty}); err != nil {
		t.Fatal(err)
	}
	changes, err := f.store.ReadChanges(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	c := changes[len(changes)-1]
	out, err := relay.Message(c, "wims.events.cdc", "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	return &wims.Message{Subject: out.Subject, Data: out.Data, Header: out.Header, ID: out.ID, Delivered: 1}
}

func (f *fixture) payments(t *testing.T) []wims.PaymentRequest {
	t.Helper()
	msgs, err := f.bus.Recent(context.Background(), f.subj+".>", 1000, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []wims.PaymentRequest
	for _, m := range msgs {
		var r wims.PaymentRequest
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func (f *fixture) stock(t *testing.T) int64 {
	t.Helper()
	it, err := f.store.GetItem(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	return it.Quantity
}

func TestReserveThenEnqueuePayment(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if err := f.wf.Handle(ctx, f.orderEvent(t, "o1", 4)); err != nil {
		t.Fatal(err)
	}
	o, _ := f.store.GetOrder(ctx, "o1")
	if o.Status != wims.OrderReserved || f.stock(t) != 6 {
		t.Fatalf("order %s, stock %d; want RESERVED, 6", o.Status, f.stock(t))
	}
	if p := f.payments(t); len(p) != 1 || !p[0].Equal(wims.PaymentRequest{OrderID: "o1", CustomerID: "c", SKU: "A", Quantity: 4,
		Lines: []wims.OrderLine{{SKU: "A", Quantity: 4}}}) {
		t.Fatalf("payments queue = %+v", p)
	}
	execs, err := f.store.Executions(ctx, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if len(execs) != 1 || execs[0].Status != wims.ExecutionSucceeded || len(execs[0].Steps) != 2 ||
		execs[0].Steps[0].Outcome != "RESERVED" || execs[0].Steps[1].Outcome != "enqueued" {
		t.Fatalf("executions = %+v", execs)
	}
}

// TestRedeliveryHasNoSecondEffect replays one event as JetStream would after
// the consumer died between the effect and the ack.
func TestRedeliveryHasNoSecondEffect(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	m := f.orderEvent(t, "o1", 4)
	for attempt := 1; attempt <= 3; attempt++ {
		m.Delivered = attempt
		if err := f.wf.Handle(ctx, m); err != nil {
			t.Fatalf("delivery %d: %v", attempt, err)
		}
	}
	if f.stock(t) != 6 {
		t.Fatalf("stock = %d after 3 deliveries, want 6 (decremented once)", f.stock(t))
	}
	if p := f.payments(t); len(p) != 1 {
		t.Fatalf("payments queued = %d, want 1", len(p))
	}
	execs, _ := f.store.Executions(ctx, "o1")
	if len(execs) != 3 || execs[2].Steps[1].Outcome != "already-enqueued" {
		t.Fatalf("executions = %+v, want one per delivery, the later ones finding the payment enqueued", execs)
	}
}

func TestInsufficientStockRejectsWithoutPayment(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if err := f.wf.Handle(ctx, f.orderEvent(t, "big", 11)); err != nil {
		t.Fatal(err)
	}
	o, _ := f.store.GetOrder(ctx, "big")
	if o.Status != wims.OrderRejected || o.Reason == "" || f.stock(t) != 10 {
		t.Fatalf("order %+v, stock %d; want REJECTED with a reason, stock 10", o, f.stock(t))
	}
	if p := f.payments(t); len(p) != 0 {
		t.Fatalf("a rejected order was sent to payments: %+v", p)
	}
}

// flakyBus fails the first publish, as a bus that is briefly unreachable.
type flakyBus struct {
	workflow.Publisher
	fail int
}

func (b *flakyBus) Publish(ctx context.Context, m wims.Outgoing) (bool, error) {
	if b.fail > 0 {
		b.fail--
		return false, errors.New("injected: bus unreachable")
	}
	return b.Publisher.Publish(ctx, m)
}

// TestEnqueueFailureIsRetried: the stock is reserved, the enqueue fails, so
// the delivery fails and is retried; the retry enqueues without reserving again.
func TestEnqueueFailureIsRetried(t *testing.T) {
	fb := &flakyBus{fail: 1}
	f := newFixture(t, fb)
	fb.Publisher = f.bus
	ctx := context.Background()
	m := f.orderEvent(t, "o1", 3)
	if err := f.wf.Handle(ctx, m); err == nil || wims.IsPermanent(err) {
		t.Fatalf("first delivery: err = %v, want a retryable error", err)
	}
	m.Delivered = 2
	if err := f.wf.Handle(ctx, m); err != nil {
		t.Fatal(err)
	}
	if f.stock(t) != 7 || len(f.payments(t)) != 1 {
		t.Fatalf("stock %d, payments %d; want 7 and 1", f.stock(t), len(f.payments(t)))
	}
	execs, _ := f.store.Executions(ctx, "o1")
	if len(execs) != 2 || execs[0].Status != wims.ExecutionFailed || execs[1].Status != wims.ExecutionSucceeded {
		t.Fatalf("executions = %+v, want FAILED then SUCCEEDED", execs)
	}
}

func TestMalformedEventIsPermanent(t *testing.T) {
	f := newFixture(t, nil)
	for _, data := range []string{`not json`, `{"detail":{"data":{"table":"inventory","key":{"sku":"A"}}}}`, `{}`} {
		err := f.wf.Handle(context.Background(), &wims.Message{Data: []byte(data), ID: "x", Delivered: 1})
		if !wims.IsPermanent(err) {
			t.Errorf("Handle(%s) = %v, want a permanent error", data, err)
		}
	}
}
