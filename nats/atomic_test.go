package nats_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// outgoing returns n messages for subj with ids prefix-0 … prefix-(n-1).
func outgoing(subj, prefix string, n int) []nats.Outgoing {
	ms := make([]nats.Outgoing, n)
	for i := range ms {
		ms[i] = nats.Outgoing{Subject: subj, ID: prefix + "-" + strconv.Itoa(i), Data: []byte(strconv.Itoa(i))}
	}
	return ms
}

func TestPublishBatch_GoesAsAtomicBatches(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir(), Registry: reg, SyncAlways: true})
	ms := outgoing(b.Subject("events", "cdc"), "a", 2500)
	if n, err := b.PublishBatch(ctxT(t), ms); err != nil || n != len(ms) {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	// 1000 + 1000 + 500: the server's limit per batch.
	if got := counter(t, reg, "wims_bus_atomic_batches_total", map[string]string{"result": "stored"}); got != 3 {
		t.Fatalf("stored atomic batches = %v, want 3", got)
	}
	if got := streamMsgs(t, b, nats.Events); got != 2500 {
		t.Fatalf("stream has %d messages, want 2500", got)
	}
}

// A relay that restarts republishes what the bus already holds: the server
// refuses an atomic batch holding a known id, so the rest goes one by one,
// storing only what is new and counting the known ones as stored.
func TestPublishBatch_DuplicateFallsBackToEach(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir(), Registry: reg, SyncAlways: true})
	ctx := ctxT(t)
	ms := outgoing(b.Subject("events", "cdc"), "d", 30)
	if n, err := b.PublishBatch(ctx, ms[:10]); err != nil || n != 10 {
		t.Fatalf("first batch = %d, %v", n, err)
	}
	if n, err := b.PublishBatch(ctx, ms); err != nil || n != 30 {
		t.Fatalf("overlapping batch = %d, %v", n, err)
	}
	if got := counter(t, reg, "wims_bus_atomic_batches_total", map[string]string{"result": "rejected"}); got != 1 {
		t.Fatalf("rejected atomic batches = %v, want 1", got)
	}
	if got := counter(t, reg, "wims_bus_publish_total", map[string]string{"result": "duplicate"}); got != 10 {
		t.Fatalf("duplicates = %v, want 10", got)
	}
	recent, err := b.Recent(ctx, b.Subject("events", "cdc"), 100, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 30 {
		t.Fatalf("stream holds %d messages, want 30", len(recent))
	}
	for j, m := range recent { // newest first, each id once, in order
		if want := "d-" + strconv.Itoa(29-j); m.ID != want {
			t.Fatalf("recent[%d] = %s, want %s", j, m.ID, want)
		}
	}
}

// Messages for two streams cannot share an atomic batch; they go one by one.
func TestPublishBatch_MixedStreams(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir(), Registry: reg, SyncAlways: true})
	ms := append(outgoing(b.Subject("events", "cdc"), "e", 5), outgoing(b.Subject("eventlog", "x"), "l", 5)...)
	if n, err := b.PublishBatch(ctxT(t), ms); err != nil || n != 10 {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	if got := counter(t, reg, "wims_bus_atomic_batches_total", nil); got != 0 {
		t.Fatalf("atomic batches = %v, want 0", got)
	}
	if streamMsgs(t, b, nats.Events) != 5 || streamMsgs(t, b, nats.EventLog) != 5 {
		t.Fatal("messages missing")
	}
}

// An external server (whose sync policy wims does not set) and one without
// atomic batches (before 2.12, such as Debian's) get one-by-one publishes,
// with the same result.
func TestPublishBatch_ExternalServer(t *testing.T) {
	url := natstest.External(t)
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{URLs: []string{url}, Registry: reg})
	ctx := ctxT(t)
	t.Cleanup(func() { deleteStreams(t, url, b) })
	ms := outgoing(b.Subject("events", "cdc"), "x", 1500)
	if n, err := b.PublishBatch(ctx, ms[:500]); err != nil || n != 500 {
		t.Fatalf("first batch = %d, %v", n, err)
	}
	if n, err := b.PublishBatch(ctx, ms); err != nil || n != len(ms) {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	// (Recent needs batched direct gets, which servers before 2.11 lack.)
	if got := streamMsgs(t, b, nats.Events); got != uint64(len(ms)) {
		t.Fatalf("stream holds %d messages, want %d", got, len(ms))
	}
	if got := counter(t, reg, "wims_bus_publish_total", map[string]string{"result": "duplicate"}); got != 500 {
		t.Fatalf("duplicates = %v, want 500", got)
	}
}

// deleteStreams removes b's streams from the shared external server.
func deleteStreams(t *testing.T, url string, b *nats.Bus) {
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, kind := range []string{nats.Events, nats.Payments, nats.EventLog, nats.Deliveries, nats.DeadLetter} {
		if err := js.DeleteStream(context.Background(), b.Stream(kind)); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("cleanup %s: %v", b.Stream(kind), err)
		}
	}
}
