package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

func paymentsSpec(b *nats.Bus) nats.ConsumerSpec {
	return nats.ConsumerSpec{
		Stream:        nats.Payments,
		Durable:       "payments",
		FilterSubject: b.Subject("payments", ">"),
		Backoff:       []time.Duration{10 * time.Millisecond},
	}
}

func TestConsume_Ack(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir(), Registry: reg})
	subj := b.Subject("payments", "order")
	for i := range 20 {
		mustPublish(t, b, nats.Outgoing{Subject: subj, ID: "p" + strconv.Itoa(i), Data: []byte(strconv.Itoa(i)), Header: map[string]string{"A": "b"}})
	}
	var r recorder
	consume(t, b, paymentsSpec(b), r.handle)
	waitCalls(t, &r, 20)
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	waitFor(t, 10*time.Second, func() error {
		if queued, err := b.Queued(ctxT(t), "payments", subj); err != nil || queued {
			return fmt.Errorf("last message still queued (%v, %v)", queued, err)
		}
		return nil
	})
	calls, _ := r.snapshot()
	// One worker: stream order.
	for i, m := range calls {
		if string(m.Data) != strconv.Itoa(i) || m.Seq != uint64(i+1) || m.ID != "p"+strconv.Itoa(i) ||
			m.Delivered != 1 || m.Subject != subj || m.Header["A"] != "b" {
			t.Fatalf("call %d: %+v", i, m)
		}
	}
	if got := counter(t, reg, "wims_bus_messages_handled_total", map[string]string{"consumer": "payments", "result": "ack"}); got != 20 {
		t.Fatalf("ack counter = %v, want 20", got)
	}
}

func TestConsume_RetryWithBackoff(t *testing.T) {
	b := natstest.Open(t)
	r := recorder{fn: func(_ context.Context, _ *wims.Message, n int) error {
		if n <= 2 {
			return errors.New("flaky")
		}
		return nil
	}}
	consume(t, b, paymentsSpec(b), r.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1", Data: []byte("x")})
	waitCalls(t, &r, 3)
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	calls, _ := r.snapshot()
	if len(calls) != 3 {
		t.Fatalf("%d deliveries, want 3", len(calls))
	}
	for i, m := range calls {
		if m.Delivered != i+1 {
			t.Fatalf("delivery %d has Delivered=%d", i, m.Delivered)
		}
	}
	if got := len(mustDeadLetters(t, b)); got != 0 {
		t.Fatalf("%d dead letters, want 0", got)
	}
}

func TestConsume_DefaultBackoff(t *testing.T) {
	// The default backoff starts at ~100 ms: a failing message is retried
	// soon, but not at once.
	b := natstest.Open(t)
	r := recorder{fn: func(_ context.Context, _ *wims.Message, n int) error {
		if n == 1 {
			return errors.New("flaky")
		}
		return nil
	}}
	spec := paymentsSpec(b)
	spec.Backoff = nil
	consume(t, b, spec, r.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	waitCalls(t, &r, 2)
	_, at := r.snapshot()
	if d := at[1].Sub(at[0]); d < 70*time.Millisecond {
		t.Fatalf("redelivered after %s, want about 100 ms", d)
	}
}

func TestConsume_MaxDeliverDeadLetters(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir(), Registry: reg})
	r := recorder{fn: func(context.Context, *wims.Message, int) error { return errors.New("card reader on fire") }}
	spec := paymentsSpec(b)
	spec.MaxDeliver = 10
	consume(t, b, spec, r.handle)
	subj := b.Subject("payments", "order")
	mustPublish(t, b, nats.Outgoing{Subject: subj, ID: "poison", Data: []byte(`{"orderId":"o1"}`), Header: map[string]string{"traceparent": "00-abc-def-01"}})

	var dl []*wims.Message
	waitFor(t, 20*time.Second, func() error {
		dl = mustDeadLetters(t, b)
		if len(dl) == 0 {
			return errors.New("no dead letter yet")
		}
		return nil
	})
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	if queued, err := b.Queued(ctxT(t), "payments", subj); err != nil || queued {
		t.Fatalf("original still queued (%v, %v)", queued, err)
	}
	if got := r.count(); got != 10 {
		t.Fatalf("%d handler calls, want 10", got)
	}
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dl))
	}
	m := dl[0]
	for k, want := range map[string]string{
		wims.HeaderDLQSubject:  subj,
		wims.HeaderDLQAttempts: "10",
		wims.HeaderDLQConsumer: "payments",
		wims.HeaderDLQReason:   "card reader on fire",
		nats.HeaderDLQMsgID:    "poison",
		"traceparent":          "00-abc-def-01",
	} {
		if got := m.Header[k]; got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, m.Header[wims.HeaderDLQTime]); err != nil {
		t.Errorf("header %s: %v", wims.HeaderDLQTime, err)
	}
	if want := b.Stream(nats.Payments) + ":" + b.Namespace() + "_payments:1"; m.ID != want {
		t.Errorf("dead letter id %q, want %q", m.ID, want)
	}
	if m.Subject != b.Subject("dlq", "payments") || string(m.Data) != `{"orderId":"o1"}` {
		t.Errorf("dead letter %s %q", m.Subject, m.Data)
	}
	if got := counter(t, reg, "wims_bus_messages_handled_total", map[string]string{"result": "deadletter"}); got != 1 {
		t.Errorf("deadletter counter = %v", got)
	}
	if got := counter(t, reg, "wims_bus_messages_handled_total", map[string]string{"result": "retry"}); got != 9 {
		t.Errorf("retry counter = %v", got)
	}
}

func TestConsume_PermanentDeadLettersAtOnce(t *testing.T) {
	b := natstest.Open(t)
	r := recorder{fn: func(context.Context, *wims.Message, int) error {
		return fmt.Errorf("charge: %w", wims.Permanent(errors.New("card declined")))
	}}
	consume(t, b, paymentsSpec(b), r.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	waitFor(t, 10*time.Second, func() error {
		if len(mustDeadLetters(t, b)) != 1 {
			return errors.New("no dead letter yet")
		}
		return nil
	})
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	dl := mustDeadLetters(t, b)
	if got := r.count(); got != 1 {
		t.Fatalf("%d handler calls, want 1", got)
	}
	if got := dl[0].Header[wims.HeaderDLQAttempts]; got != "1" {
		t.Fatalf("attempts %q", got)
	}
}

func TestConsume_UnlimitedDeliveries(t *testing.T) {
	// MaxDeliver -1: plain errors retry beyond 10; the handler gives up.
	b := natstest.Open(t)
	r := recorder{fn: func(_ context.Context, _ *wims.Message, n int) error {
		if n < 12 {
			return errors.New("again")
		}
		return wims.Permanent(errors.New("enough"))
	}}
	spec := paymentsSpec(b)
	spec.MaxDeliver = -1
	spec.Backoff = []time.Duration{time.Millisecond}
	consume(t, b, spec, r.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	waitFor(t, 10*time.Second, func() error {
		if len(mustDeadLetters(t, b)) != 1 {
			return errors.New("no dead letter yet")
		}
		return nil
	})
	if got := r.count(); got != 12 {
		t.Fatalf("%d handler calls, want 12", got)
	}
}

func TestConsume_RetryAfter(t *testing.T) {
	b := natstest.Open(t)
	const delay = 300 * time.Millisecond
	r := recorder{fn: func(_ context.Context, _ *wims.Message, n int) error {
		if n <= 2 {
			return wims.RetryAfter(delay, errors.New("429"))
		}
		return nil
	}}
	spec := paymentsSpec(b)
	spec.MaxDeliver = 2 // RetryAfter is honoured even past MaxDeliver
	consume(t, b, spec, r.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	waitCalls(t, &r, 3)
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	calls, at := r.snapshot()
	for i := 1; i < 3; i++ {
		if calls[i].Delivered != i+1 {
			t.Fatalf("delivery %d: Delivered=%d", i, calls[i].Delivered)
		}
		// Only a lower bound: timing upper bounds make flaky tests.
		if d := at[i].Sub(at[i-1]); d < delay*9/10 {
			t.Fatalf("redelivery %d after %s, want >= %s", i, d, delay)
		}
	}
	if got := len(mustDeadLetters(t, b)); got != 0 {
		t.Fatalf("%d dead letters", got)
	}
}

func TestConsume_Concurrency(t *testing.T) {
	b := natstest.Open(t)
	const n = 300
	var inFlight, maxInFlight atomic.Int32
	r := recorder{fn: func(context.Context, *wims.Message, int) error {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		time.Sleep(time.Millisecond) // simulated work, so handlers overlap
		return nil
	}}
	spec := paymentsSpec(b)
	spec.Concurrency = 8
	consume(t, b, spec, r.handle)
	ms := make([]nats.Outgoing, n)
	for i := range ms {
		ms[i] = nats.Outgoing{Subject: b.Subject("payments", "order"), ID: strconv.Itoa(i)}
	}
	if got, err := b.PublishBatch(ctxT(t), ms); err != nil || got != n {
		t.Fatal(got, err)
	}
	waitCalls(t, &r, n)
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	calls, _ := r.snapshot()
	seen := map[string]bool{}
	for _, m := range calls {
		seen[m.ID] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages handled, want %d", len(seen), n)
	}
	t.Logf("max handlers in flight: %d", maxInFlight.Load())
}

func TestConsumer_StopWaitsForInFlight(t *testing.T) {
	b := natstest.Open(t)
	started := make(chan struct{})
	var finished atomic.Bool
	var ctxErr atomic.Value
	r := recorder{fn: func(ctx context.Context, _ *wims.Message, _ int) error {
		close(started)
		// Keep working past Stop; the context must stay alive (grace).
		time.Sleep(200 * time.Millisecond)
		if ctx.Err() != nil {
			ctxErr.Store(ctx.Err())
		}
		finished.Store(true)
		return nil
	}}
	c, err := b.Consume(ctxT(t), paymentsSpec(b), r.handle)
	if err != nil {
		t.Fatal(err)
	}
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	<-started
	c.Stop()
	if !finished.Load() {
		t.Fatal("Stop returned before the handler finished")
	}
	if err := ctxErr.Load(); err != nil {
		t.Fatalf("handler context cancelled within the grace: %v", err)
	}
	waitBacklogEmpty(t, b, nats.Payments, "payments") // it was acked
	c.Stop()                                          // idempotent
}

func TestConsumer_StopCancelsAfterGrace(t *testing.T) {
	b := natstest.Open(t)
	started := make(chan struct{})
	r := recorder{fn: func(ctx context.Context, _ *wims.Message, _ int) error {
		close(started)
		<-ctx.Done() // a handler stuck until cancelled
		return ctx.Err()
	}}
	spec := paymentsSpec(b)
	spec.StopGrace = 50 * time.Millisecond
	c, err := b.Consume(ctxT(t), spec, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	<-started
	c.Stop()
	// The message was nacked, so a new consumer gets it again at once.
	var r2 recorder
	consume(t, b, spec, r2.handle)
	waitCalls(t, &r2, 1)
	if calls, _ := r2.snapshot(); calls[0].Delivered != 2 {
		t.Fatalf("Delivered=%d, want 2", calls[0].Delivered)
	}
}

func TestConsume_ContextEndsConsumer(t *testing.T) {
	b := natstest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	var r recorder
	c, err := b.Consume(ctx, paymentsSpec(b), r.handle)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("consumer still running after its context ended")
	}
}

func TestConsume_LongHandlerGetsInProgress(t *testing.T) {
	// A handler running 2.5× AckWait is not redelivered meanwhile. AckWait
	// is 2 s so that a loaded CI machine still sends InProgress (every 1 s)
	// in time.
	b := natstest.Open(t)
	r := recorder{fn: func(context.Context, *wims.Message, int) error {
		time.Sleep(5 * time.Second)
		return nil
	}}
	spec := paymentsSpec(b)
	spec.AckWait = 2 * time.Second
	spec.Concurrency = 2 // a redelivery would reach the idle worker
	consume(t, b, spec, r.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	waitCalls(t, &r, 1)
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	if got := r.count(); got != 1 {
		t.Fatalf("%d handler calls, want 1", got)
	}
}

func TestConsume_PanicIsAnError(t *testing.T) {
	b := natstest.Open(t)
	r := recorder{fn: func(_ context.Context, _ *wims.Message, n int) error {
		if n == 1 {
			panic("boom")
		}
		return nil
	}}
	consume(t, b, paymentsSpec(b), r.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "p1"})
	waitCalls(t, &r, 2)
	waitBacklogEmpty(t, b, nats.Payments, "payments")
}

func TestConsume_InvalidSpec(t *testing.T) {
	b := natstest.Open(t)
	var r recorder
	for name, spec := range map[string]nats.ConsumerSpec{
		"NoStream":   {Durable: "x", FilterSubject: b.Subject("payments", ">")},
		"BadDurable": {Stream: nats.Payments, Durable: "a.b", FilterSubject: b.Subject("payments", ">")},
		"TinyMAP":    {Stream: nats.Payments, Durable: "x", FilterSubject: b.Subject("payments", ">"), Concurrency: 4, MaxAckPending: 4},
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := b.Consume(ctxT(t), spec, r.handle); err == nil {
				c.Stop()
				t.Fatal("Consume succeeded")
			}
		})
	}
}

func TestNamespaces_Isolated(t *testing.T) {
	url, _ := natstest.Server(t)
	a := natstest.OpenConfig(t, nats.Config{URLs: []string{url}, Namespace: "alpha"})
	b := natstest.OpenConfig(t, nats.Config{URLs: []string{url}, Namespace: "beta"})
	ctx := ctxT(t)
	mustPublish(t, a, nats.Outgoing{Subject: a.Subject("payments", "order"), ID: "same", Data: []byte("a")})
	// Same id, other namespace: not a duplicate.
	if dup, err := b.Publish(ctx, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: "same", Data: []byte("b")}); err != nil || dup {
		t.Fatalf("dup=%v err=%v", dup, err)
	}
	var ra, rb recorder
	consume(t, a, paymentsSpec(a), ra.handle)
	consume(t, b, paymentsSpec(b), rb.handle)
	waitCalls(t, &ra, 1)
	waitCalls(t, &rb, 1)
	waitBacklogEmpty(t, a, nats.Payments, "payments")
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	ca, _ := ra.snapshot()
	cb, _ := rb.snapshot()
	if len(ca) != 1 || string(ca[0].Data) != "a" || len(cb) != 1 || string(cb[0].Data) != "b" {
		t.Fatalf("alpha got %v, beta got %v", ca, cb)
	}
	if _, err := a.Recent(ctx, b.Subject("eventlog", ">"), 1, 1, nil); err == nil {
		t.Fatal("alpha reads beta's subjects")
	}
}

func mustDeadLetters(t *testing.T, b *nats.Bus) []*wims.Message {
	t.Helper()
	dl, err := b.DeadLetters(ctxT(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	return dl
}

func TestBusClose_StopsConsumers(t *testing.T) {
	b, err := nats.Open(ctxT(t), nats.Config{StoreDir: t.TempDir(), Namespace: natstest.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	c, err := b.Consume(ctxT(t), paymentsSpec(b), r.handle)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("consumer still running after Close")
	}
	if _, err := b.Consume(ctxT(t), paymentsSpec(b), r.handle); err == nil {
		t.Fatal("Consume on a closed bus succeeded")
	}
}

// TestConsumerBacklogAge: a message the handler keeps failing is the
// consumer's oldest backlog, and its age grows; once handled, the age is 0.
func TestConsumerBacklogAge(t *testing.T) {
	b := natstest.Open(t)
	ctx := context.Background()
	var ok atomic.Bool
	r := recorder{fn: func(context.Context, *wims.Message, int) error {
		if ok.Load() {
			return nil
		}
		return wims.RetryAfter(50*time.Millisecond, errors.New("target down"))
	}}
	spec := paymentsSpec(b)
	spec.MaxDeliver = -1
	consume(t, b, spec, r.handle)
	if age, err := b.ConsumerBacklogAge(ctx, nats.Payments, "payments"); err != nil || age != 0 {
		t.Fatalf("empty backlog: age %s, %v", age, err)
	}
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "o1"), ID: "p1", Data: []byte("x")})
	waitCalls(t, &r, 2)
	first, err := b.ConsumerBacklogAge(ctx, nats.Payments, "payments")
	if err != nil || first <= 0 {
		t.Fatalf("stuck message: age %s, %v", first, err)
	}
	// One info request gives what the two calls give.
	if p, ap, age, ageErr, err := b.ConsumerBacklogWithAge(ctx, nats.Payments, "payments"); err != nil || ageErr != nil || p+uint64(ap) != 1 || age < first {
		t.Fatalf("ConsumerBacklogWithAge: pending %d, ack pending %d, age %s (first %s), %v %v", p, ap, age, first, ageErr, err)
	}
	waitFor(t, 10*time.Second, func() error {
		if age, _ := b.ConsumerBacklogAge(ctx, nats.Payments, "payments"); age <= first {
			return fmt.Errorf("age %s has not grown past %s", age, first)
		}
		return nil
	})
	ok.Store(true)
	waitFor(t, 10*time.Second, func() error {
		if age, err := b.ConsumerBacklogAge(ctx, nats.Payments, "payments"); err != nil || age != 0 {
			return fmt.Errorf("after handling: age %s, %v", age, err)
		}
		if p, ap, age, _, err := b.ConsumerBacklogWithAge(ctx, nats.Payments, "payments"); err != nil || p != 0 || ap != 0 || age != 0 {
			return fmt.Errorf("ConsumerBacklogWithAge after handling: %d %d %s %v", p, ap, age, err)
		}
		return nil
	})
}
