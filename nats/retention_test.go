package nats_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// A message is queued until the consumer acknowledges it, though it stays
// stored; one the consumer has not seen yet (or with no consumer at all) is
// queued.
func TestQueuedFollowsTheAckFloor(t *testing.T) {
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir()})
	first, second := b.Subject("payments", "requests", "o1"), b.Subject("payments", "requests", "o2")
	if queued, err := b.Queued(ctxT(t), "payments", first); err != nil || queued {
		t.Fatalf("nothing published: queued %v, %v", queued, err)
	}
	mustPublish(t, b, nats.Outgoing{Subject: first, ID: "p1"})
	if queued, err := b.Queued(ctxT(t), "payments", first); err != nil || !queued {
		t.Fatalf("no consumer yet: queued %v, %v; want true", queued, err)
	}
	release := make(chan struct{})
	consume(t, b, paymentsSpec(b), func(ctx context.Context, m *wims.Message) error {
		if m.Subject == second {
			<-release
		}
		return nil
	})
	waitFor(t, 10*time.Second, func() error {
		if queued, err := b.Queued(ctxT(t), "payments", first); err != nil || queued {
			return fmt.Errorf("handled message still queued (%v, %v)", queued, err)
		}
		return nil
	})
	mustPublish(t, b, nats.Outgoing{Subject: second, ID: "p2"})
	if queued, err := b.Queued(ctxT(t), "payments", second); err != nil || !queued {
		t.Fatalf("message in its handler: queued %v, %v; want true", queued, err)
	}
	close(release)
	waitFor(t, 10*time.Second, func() error {
		if queued, err := b.Queued(ctxT(t), "payments", second); err != nil || queued {
			return fmt.Errorf("handled message still queued (%v, %v)", queued, err)
		}
		return nil
	})
	if n := streamMsgs(t, b, nats.Payments); n != 2 {
		t.Fatalf("stream holds %d messages, want both kept (Limits retention)", n)
	}
}

// A payments stream left by an older wims as a WorkQueue is recreated with
// Limits retention at start, keeping the requests still in it.
func TestPaymentsWorkQueueMigrated(t *testing.T) {
	dir := t.TempDir()
	old := natstest.OpenConfig(t, nats.Config{StoreDir: dir, Namespace: "mig"})
	js := old.JetStream()
	name := old.Stream(nats.Payments)
	if err := js.DeleteStream(ctxT(t), name); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{
		Name: name, Subjects: []string{old.Subject("payments", ">")}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustPublish(t, old, nats.Outgoing{Subject: old.Subject("payments", "requests", "o"+strconv.Itoa(i)), ID: "p" + strconv.Itoa(i), Data: []byte{byte('a' + i)}})
	}
	old.Close()

	b := natstest.OpenConfig(t, nats.Config{StoreDir: dir, Namespace: "mig"})
	s, err := b.JetStream().Stream(ctxT(t), b.Stream(nats.Payments))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Retention; got != jetstream.LimitsPolicy {
		t.Fatalf("retention %v after the migration, want Limits", got)
	}
	for i := range 3 {
		subj := b.Subject("payments", "requests", "o"+strconv.Itoa(i))
		m, err := b.LastMessage(ctxT(t), subj)
		if err != nil || m == nil || m.ID != "p"+strconv.Itoa(i) || string(m.Data) != string([]byte{byte('a' + i)}) {
			t.Fatalf("request %d after the migration: %+v, %v", i, m, err)
		}
	}
}
