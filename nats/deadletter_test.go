package nats_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

func TestRedrive(t *testing.T) {
	b := natstest.Open(t)
	ctx := ctxT(t)
	var broken = true
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	isBroken := func() bool { <-mu; defer func() { mu <- struct{}{} }(); return broken }
	r := recorder{fn: func(context.Context, *wims.Message, int) error {
		if isBroken() {
			return wims.Permanent(errors.New("payments API says no"))
		}
		return nil
	}}
	consume(t, b, paymentsSpec(b), r.handle)
	subj := b.Subject("payments", "order")
	mustPublish(t, b, nats.Outgoing{Subject: subj, ID: "p1", Data: []byte("pay me"), Header: map[string]string{"traceparent": "tp"}})
	var dl []*wims.Message
	waitFor(t, 10*time.Second, func() error {
		if dl = mustDeadLetters(t, b); len(dl) != 1 {
			return errors.New("no dead letter yet")
		}
		return nil
	})

	<-mu
	broken = false
	mu <- struct{}{}
	if err := b.Redrive(ctx, dl[0].Seq); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, &r, 2)
	waitBacklogEmpty(t, b, nats.Payments, "payments")
	calls, _ := r.snapshot()
	m := calls[1]
	if m.Subject != subj || string(m.Data) != "pay me" || m.Header["traceparent"] != "tp" || m.ID != "p1:redrive:1" {
		t.Fatalf("redriven message %+v", m)
	}
	if _, ok := m.Header[wims.HeaderDLQReason]; ok {
		t.Fatal("redriven message keeps dead-letter headers")
	}
	if got := len(mustDeadLetters(t, b)); got != 0 {
		t.Fatalf("%d dead letters after redrive", got)
	}
	if err := b.Redrive(ctx, dl[0].Seq); wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("second redrive: %v, want ENOTFOUND", err)
	}
}

func TestDeadLetters_NewestFirst(t *testing.T) {
	b := natstest.Open(t)
	r := recorder{fn: func(context.Context, *wims.Message, int) error { return wims.Permanent(errors.New("no")) }}
	consume(t, b, paymentsSpec(b), r.handle)
	for _, id := range []string{"a", "b", "c"} {
		mustPublish(t, b, nats.Outgoing{Subject: b.Subject("payments", "order"), ID: id, Data: []byte(id)})
	}
	waitFor(t, 10*time.Second, func() error {
		if len(mustDeadLetters(t, b)) != 3 {
			return errors.New("waiting for 3 dead letters")
		}
		return nil
	})
	dl, err := b.DeadLetters(ctxT(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 2 || string(dl[0].Data) != "c" || string(dl[1].Data) != "b" {
		t.Fatalf("dead letters %v", dl)
	}
}

// TestRedriveReachesOnlyTheConsumerThatGaveUp: two consumers read the same
// events subject; one dead-letters a message, the other handles it. The
// redriven copy goes to the first only: the second never sees it twice.
func TestRedriveReachesOnlyTheConsumerThatGaveUp(t *testing.T) {
	b := natstest.Open(t)
	ctx := ctxT(t)
	failing := recorder{fn: func(_ context.Context, _ *wims.Message, n int) error {
		if n == 1 {
			return wims.Permanent(errors.New("target down"))
		}
		return nil
	}}
	var fine recorder
	spec := func(name string) nats.ConsumerSpec {
		return nats.ConsumerSpec{Stream: nats.Events, Durable: name, FilterSubject: b.Subject("events", ">"), Backoff: []time.Duration{10 * time.Millisecond}}
	}
	consume(t, b, spec("target-a"), failing.handle)
	consume(t, b, spec("target-b"), fine.handle)
	mustPublish(t, b, nats.Outgoing{Subject: b.Subject("events", "cdc"), ID: "e1", Data: []byte(`{"id":"e1"}`)})
	var dl []*wims.Message
	waitFor(t, 10*time.Second, func() error {
		if dl = mustDeadLetters(t, b); len(dl) != 1 {
			return errors.New("no dead letter yet")
		}
		return nil
	})
	waitCalls(t, &fine, 1)
	if err := b.Redrive(ctx, dl[0].Seq); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, &failing, 2)
	waitBacklogEmpty(t, b, nats.Events, "target-b")
	if n := fine.count(); n != 1 {
		t.Fatalf("the consumer that succeeded handled the event %d times, want 1", n)
	}
}
