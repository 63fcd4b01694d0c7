package nats_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// waitFor polls f until it returns nil, failing the test after timeout.
var waitFor = natstest.WaitFor

func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func mustPublish(tb testing.TB, b *nats.Bus, m nats.Outgoing) {
	tb.Helper()
	if _, err := b.Publish(ctxT(tb), m); err != nil {
		tb.Fatal(err)
	}
}

// recorder is a handler that records every call and answers with fn.
type recorder struct {
	mu    sync.Mutex
	calls []*wims.Message
	at    []time.Time
	fn    func(ctx context.Context, m *wims.Message, n int) error // n: calls so far for this message id, from 1
	per   map[string]int
}

func (r *recorder) handle(ctx context.Context, m *wims.Message) error {
	r.mu.Lock()
	if r.per == nil {
		r.per = map[string]int{}
	}
	r.per[m.ID]++
	n := r.per[m.ID]
	r.calls = append(r.calls, m)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	if r.fn == nil {
		return nil
	}
	return r.fn(ctx, m, n)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *recorder) snapshot() ([]*wims.Message, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*wims.Message(nil), r.calls...), append([]time.Time(nil), r.at...)
}

func waitCalls(tb testing.TB, r *recorder, n int) {
	tb.Helper()
	waitFor(tb, 20*time.Second, func() error {
		if got := r.count(); got < n {
			return fmt.Errorf("%d handler calls, want %d", got, n)
		}
		return nil
	})
}

func streamMsgs(tb testing.TB, b *nats.Bus, kind string) uint64 {
	tb.Helper()
	s, err := b.JetStream().Stream(ctxT(tb), b.Stream(kind))
	if err != nil {
		tb.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}

func waitBacklogEmpty(tb testing.TB, b *nats.Bus, kind, durable string) {
	tb.Helper()
	waitFor(tb, 20*time.Second, func() error {
		p, ap, err := b.ConsumerBacklog(ctxT(tb), kind, durable)
		if err != nil {
			return err
		}
		if p != 0 || ap != 0 {
			return fmt.Errorf("backlog pending=%d ackPending=%d", p, ap)
		}
		return nil
	})
}

func consume(tb testing.TB, b *nats.Bus, spec nats.ConsumerSpec, h wims.Handler) *nats.Consumer {
	tb.Helper()
	c, err := b.Consume(ctxT(tb), spec, h)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Stop)
	return c
}
