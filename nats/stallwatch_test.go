package nats

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/wims/wims"
)

// lostRequest reports the server state of the stall: messages pending and
// no pull request waiting. Only the server's report is made up; the bus,
// the consumer and its iterator are real.
type lostRequest struct{ jetstream.Consumer }

func (lostRequest) Info(context.Context) (*jetstream.ConsumerInfo, error) {
	return &jetstream.ConsumerInfo{NumPending: 7, NumWaiting: 0}, nil
}

// poll calls f until it returns nil, failing the test after 20 s.
func poll(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The stall watch leaves a consumer alone while the server holds its pull
// request, and restarts its iterator, which then consumes again, when the
// server reports messages pending and no pull request.
func TestStallWatch_RestartsAConsumerWhosePullRequestIsLost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, Config{StoreDir: t.TempDir(), Namespace: "stall"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var handled atomic.Int64
	c, err := b.Consume(ctx, ConsumerSpec{Stream: Events, Durable: "watched", FilterSubject: b.Subject("events", ">")},
		func(context.Context, *wims.Message) error { handled.Add(1); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	publishAndWait := func(n int64) {
		t.Helper()
		if _, err := b.Publish(ctx, Outgoing{Subject: b.Subject("events", "cdc"), ID: fmt.Sprint("m", n), Data: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		poll(t, func() error {
			if got := handled.Load(); got < n {
				return fmt.Errorf("%d messages handled, want %d", got, n)
			}
			return nil
		})
	}
	waitingLong := func() error {
		if since := c.sw.waitingSince.Load(); since == 0 || time.Since(time.Unix(0, since)) < stallAfter {
			return fmt.Errorf("the iterator is not waiting for %s yet", stallAfter)
		}
		return nil
	}

	publishAndWait(1)
	poll(t, waitingLong)
	if c.stalled(ctx) {
		t.Fatal("a caught-up consumer whose pull request the server holds counts as stalled")
	}

	actual := c.sw.cons.Load()
	var fake jetstream.Consumer = lostRequest{*actual}
	c.sw.cons.Store(&fake)
	stalls := b.met.stalls.WithLabelValues("watched")
	poll(t, func() error {
		if n := testutil.ToFloat64(stalls); n < 1 {
			return fmt.Errorf("%v stalls counted", n)
		}
		return nil
	})
	// The restarted iterator reads the real consumer again, and consumes.
	publishAndWait(2)
}
