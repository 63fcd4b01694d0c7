package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/notify"
	"github.com/wims/wims/webhook"
)

// TestThrottlingWebhookIsDeadLettered: a webhook that answers every call
// with 429 and Retry-After: 1 is not waited on forever. Each throttled answer
// counts as a failed attempt (the wait capped by the client's MaxRetryAfter),
// and after MaxAttempts the event goes to the dead letters, as any event out
// of attempts does.
func TestThrottlingWebhookIsDeadLettered(t *testing.T) {
	const attempts = 3
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)

	n := newNotifierWith(t, notify.Options{
		Webhooks: []string{srv.URL}, MaxAttempts: attempts,
		Client: &webhook.Client{MaxRetryAfter: 10 * time.Millisecond},
	})
	b := natstest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := b.Consume(ctx, nats.ConsumerSpec{
		Stream: nats.Events, Durable: "target-notifications", FilterSubject: b.Subject("events", ">"),
		MaxDeliver: attempts, Backoff: []time.Duration{10 * time.Millisecond},
	}, n.Handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	m := inventoryEvent(t, "ev-throttled", 150, 50, 100)
	if _, err := b.Publish(ctx, nats.Outgoing{Subject: b.Subject("events", "cdc"), ID: m.ID, Data: m.Data, Header: m.Header}); err != nil {
		t.Fatal(err)
	}

	var dl []*wims.Message
	natstest.WaitFor(t, 30*time.Second, func() error {
		if dl, err = b.DeadLetters(ctx, 10); err != nil {
			return err
		}
		if len(dl) == 0 {
			return fmt.Errorf("no dead letter yet after %d calls to the webhook", calls.Load())
		}
		return nil
	})
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dl))
	}
	h := dl[0].Header
	if h[wims.HeaderDLQAttempts] != fmt.Sprint(attempts) || h[wims.HeaderDLQConsumer] != "target-notifications" {
		t.Fatalf("dead letter headers = %v, want %d attempts by target-notifications", h, attempts)
	}
	if r := h[wims.HeaderDLQReason]; !strings.Contains(r, "429") || !strings.Contains(r, "still throttled after 3 attempts") {
		t.Fatalf("dead-letter reason = %q", r)
	}
	if got := calls.Load(); got != attempts {
		t.Fatalf("webhook called %d times, want %d", got, attempts)
	}
}
