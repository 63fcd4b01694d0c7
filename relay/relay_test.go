package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runRelay runs a relay until the returned stop function is called.
func runRelay(t *testing.T, opt relay.Options) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	r := relay.New(opt)
	go func() { done <- r.Run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("relay Run returned %v, want context.Canceled", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// published returns every change event on subject, oldest first.
func published(t *testing.T, bus *nats.Bus, subject string) []*wims.Message {
	t.Helper()
	msgs, err := bus.Recent(context.Background(), subject, 100_000, 100_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs
}

// checkExactlyOnceInOrder asserts that the stream holds every change of the
// log exactly once, in Seq order, as well-formed events.
func checkExactlyOnceInOrder(t *testing.T, store *sqlite.Store, bus *nats.Bus, subject string) {
	t.Helper()
	changes, err := store.ReadChanges(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	msgs := published(t, bus, subject)
	if len(msgs) != len(changes) {
		t.Fatalf("stream has %d events, change log %d", len(msgs), len(changes))
	}
	for i, m := range msgs {
		c := changes[i]
		if m.Header[wims.HeaderChangeSeq] != strconv.FormatInt(c.Seq, 10) || m.ID != c.EventID {
			t.Fatalf("event %d: seq header %s id %s, want change %d %s", i, m.Header[wims.HeaderChangeSeq], m.ID, c.Seq, c.EventID)
		}
		var ev wims.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		var d wims.ChangeDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if ev.ID != c.EventID || ev.DetailType != wims.CDCDetailType || d.Data.Table != c.Table || d.Meta.Seq != c.Seq {
			t.Fatalf("event %d = %+v / %+v, want change %+v", i, ev, d, c)
		}
	}
}

func waitPublished(t *testing.T, bus *nats.Bus, subject string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := len(published(t, bus, subject))
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events published before the deadline", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeChanges(t *testing.T, store *sqlite.Store, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, err := store.AdjustStock(ctx, wims.DefaultSKU, wims.Adjustment{Delta: int64(i%7 + 1), Reason: "test"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRelayPublishesEveryChangeOnceInCommitOrder(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject := bus.Subject("events", "cdc")
	writeChanges(t, store, 250) // plus the seed's insert
	runRelay(t, relay.Options{Log: store, Bus: bus, Subject: subject, BatchSize: 64})
	waitPublished(t, bus, subject, 251)
	checkExactlyOnceInOrder(t, store, bus, subject)
}

// TestRelayIsPushedByCommits sets the fallback poll to an hour: changes
// written while the relay idles can only arrive through the commit signal.
func TestRelayIsPushedByCommits(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject := bus.Subject("events", "cdc")
	runRelay(t, relay.Options{Log: store, Bus: bus, Subject: subject, IdlePoll: time.Hour})
	waitPublished(t, bus, subject, 1) // the seed
	for round := 1; round <= 3; round++ {
		writeChanges(t, store, 1)
		waitPublished(t, bus, subject, 1+round)
	}
	checkExactlyOnceInOrder(t, store, bus, subject)
}

// TestRelayResumesFromStreamTail stops and restarts the relay around new
// writes: the second relay starts from the stream's tail, so nothing is
// skipped, and its rewind over recent changes is absorbed by deduplication.
func TestRelayResumesFromStreamTail(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject := bus.Subject("events", "cdc")
	writeChanges(t, store, 40)
	stop := runRelay(t, relay.Options{Log: store, Bus: bus, Subject: subject})
	waitPublished(t, bus, subject, 41)
	stop()
	writeChanges(t, store, 60)
	runRelay(t, relay.Options{Log: store, Bus: bus, Subject: subject})
	waitPublished(t, bus, subject, 101)
	checkExactlyOnceInOrder(t, store, bus, subject)
}

// failingBus stores only part of each batch before failing, like a bus that
// loses its connection mid-batch, for the first failures batches of more
// than one message whose first subject starts with prefix ("" for any).
type failingBus struct {
	*nats.Bus
	prefix   string
	failures atomic.Int32
}

func (f *failingBus) PublishBatch(ctx context.Context, ms []wims.Outgoing) (int, error) {
	if len(ms) > 1 && strings.HasPrefix(ms[0].Subject, f.prefix) && f.failures.Add(-1) >= 0 {
		n, err := f.Bus.PublishBatch(ctx, ms[:len(ms)/2])
		if err != nil {
			return n, err
		}
		return n, fmt.Errorf("injected failure after %d", n)
	}
	return f.Bus.PublishBatch(ctx, ms)
}

func TestRelayRetriesPartialBatches(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject := bus.Subject("events", "cdc")
	writeChanges(t, store, 99)
	failing := &failingBus{Bus: bus}
	failing.failures.Store(3)
	runRelay(t, relay.Options{Log: store, Bus: failing, Subject: subject, BatchSize: 40})
	waitPublished(t, bus, subject, 100)
	checkExactlyOnceInOrder(t, store, bus, subject)
}

// TestRelayRebuildsLostBus points a relay at an empty bus (as after losing the
// bus's data): it republishes the whole change log from the database.
func TestRelayRebuildsLostBus(t *testing.T) {
	store := openStore(t)
	writeChanges(t, store, 30)
	first := natstest.Open(t)
	stop := runRelay(t, relay.Options{Log: store, Bus: first, Subject: first.Subject("events", "cdc")})
	waitPublished(t, first, first.Subject("events", "cdc"), 31)
	stop()
	second := natstest.Open(t)
	runRelay(t, relay.Options{Log: store, Bus: second, Subject: second.Subject("events", "cdc")})
	waitPublished(t, second, second.Subject("events", "cdc"), 31)
	checkExactlyOnceInOrder(t, store, second, second.Subject("events", "cdc"))
}

func TestRelayPrunesOnlyPublishedOldChanges(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject := bus.Subject("events", "cdc")
	writeChanges(t, store, 10)
	now := time.Now().Add(48 * time.Hour) // every change is older than the retention
	runRelay(t, relay.Options{Log: store, Bus: bus, Subject: subject, Retention: time.Hour,
		Now: func() time.Time { return now }, IdlePoll: 10 * time.Millisecond})
	waitPublished(t, bus, subject, 11)
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, err := store.ReadChanges(context.Background(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d published changes older than the retention were not pruned", len(left))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRelayDomainEventsOncePerChange: the relay publishes each change's
// domain events once, before the change event itself (so a crash between
// the two republishes the domain events, deduplicated, rather than skipping
// them), with the ids DomainEvents derives; a restarted relay's rewind adds
// no copies.
func TestRelayDomainEventsOncePerChange(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	ctx := context.Background()
	subject, domain := bus.Subject("events", "cdc"), bus.Subject("events", "bus", "default")
	opt := relay.Options{Log: store, Bus: bus, Subject: subject, DomainSubject: domain}
	// 1,000,000 → 50 crosses the low-stock threshold (100); → 0 runs out.
	if _, err := store.AdjustStock(ctx, wims.DefaultSKU, wims.Adjustment{Delta: -999_950, Reason: "t"}); err != nil {
		t.Fatal(err)
	}
	stop := runRelay(t, opt)
	waitPublished(t, bus, domain, 1)
	stop()
	if _, err := store.AdjustStock(ctx, wims.DefaultSKU, wims.Adjustment{Delta: -50, Reason: "t"}); err != nil {
		t.Fatal(err)
	}
	runRelay(t, opt)
	waitPublished(t, bus, subject, 3)
	waitPublished(t, bus, domain, 2)

	changes, err := store.ReadChanges(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	changeSeq := map[string]uint64{} // domain event id → its change event's stream seq
	cdc := published(t, bus, subject)
	for i, c := range changes {
		evs, err := wims.DomainEvents(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			want = append(want, ev.DetailType+" "+ev.ID)
			changeSeq[ev.ID] = cdc[i].Seq
		}
	}
	var got []string
	for _, m := range published(t, bus, domain) {
		var ev wims.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.DetailType+" "+ev.ID)
		if m.Seq >= changeSeq[ev.ID] {
			t.Errorf("domain event %s at seq %d, not before its change event (seq %d)", ev.ID, m.Seq, changeSeq[ev.ID])
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("domain events = %v, want %v", got, want)
	}
	checkExactlyOnceInOrder(t, store, bus, subject)
}
