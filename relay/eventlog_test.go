package relay_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/eventlog"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/sqlite"
)

// logUpdates is an Options.EventLog that logs the UPDATE changes (as a rule
// of the event-log target would) through log's entries.
func logUpdates(log *eventlog.Log) func(*wims.Message) (wims.Outgoing, bool, error) {
	return func(m *wims.Message) (wims.Outgoing, bool, error) {
		if !bytes.Contains(m.Data, []byte(`"eventType":"UPDATE"`)) {
			return wims.Outgoing{}, false, nil
		}
		e, err := log.Entry(m)
		return e, err == nil, err
	}
}

// checkLogged asserts that the log holds exactly one entry per UPDATE
// change event, with the event's bytes, and that every change event is
// marked as decided by the relay.
func checkLogged(t *testing.T, store *sqlite.Store, bus *nats.Bus, subject, logSubject string) {
	t.Helper()
	changes, err := store.ReadChanges(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	events := published(t, bus, subject)
	byID := map[string]*wims.Message{}
	want := 0
	for _, m := range events {
		if m.Header[wims.HeaderLogged] == "" {
			t.Fatalf("event %s is not marked %s", m.ID, wims.HeaderLogged)
		}
		byID[m.ID] = m
	}
	for _, c := range changes {
		if c.EventType == "UPDATE" {
			want++
		}
	}
	entries := published(t, bus, logSubject+".>")
	if len(entries) != want {
		t.Fatalf("log has %d entries, want %d (one per UPDATE change)", len(entries), want)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		ev := byID[e.ID]
		if ev == nil || seen[e.ID] || !bytes.Equal(e.Data, ev.Data) || !bytes.Contains(e.Data, []byte(`"eventType":"UPDATE"`)) {
			t.Fatalf("log entry %s: not one copy of an UPDATE event (seen before: %v)", e.ID, seen[e.ID])
		}
		seen[e.ID] = true
	}
}

// TestRelayAppendsItsEventsToTheEventLog: with Options.EventLog the relay
// logs the events the log takes, once each, and marks every event it asked
// about, so the event-log target skips them.
func TestRelayAppendsItsEventsToTheEventLog(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject, logSubject := bus.Subject("events", "cdc"), bus.Subject("eventlog", "events")
	log := &eventlog.Log{Bus: bus, Subject: logSubject}
	writeChanges(t, store, 120) // plus the seed's insert, which is not logged
	runRelay(t, relay.Options{Log: store, Bus: bus, Subject: subject, BatchSize: 32, EventLog: logUpdates(log)})
	waitPublished(t, bus, subject, 121)
	waitPublished(t, bus, logSubject+".>", 120)
	checkExactlyOnceInOrder(t, store, bus, subject)
	checkLogged(t, store, bus, subject, logSubject)
}

// TestRelayRetriesBatchesWhoseEntriesFailed: a batch whose entries were not
// all stored is published again, events and entries, although its events
// were: the cursor waits for both, and the copies are dropped as duplicates.
func TestRelayRetriesBatchesWhoseEntriesFailed(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject, logSubject := bus.Subject("events", "cdc"), bus.Subject("eventlog", "events")
	failing := &failingBus{Bus: bus, prefix: logSubject}
	failing.failures.Store(3)
	writeChanges(t, store, 99)
	runRelay(t, relay.Options{Log: store, Bus: failing, Subject: subject, BatchSize: 40,
		EventLog: logUpdates(&eventlog.Log{Bus: bus, Subject: logSubject})})
	waitPublished(t, bus, logSubject+".>", 99)
	if n := failing.failures.Load(); n >= 0 {
		t.Fatalf("%d injected failures left: the entries' batches were not all tried", n+1)
	}
	checkExactlyOnceInOrder(t, store, bus, subject)
	checkLogged(t, store, bus, subject, logSubject)
}

// TestRelayRebuildsLostEntries loses the event log's tail (as a power loss
// takes the unsynced tail of its stream) and restarts the bus and the
// relay: the rewind logs the recent changes again, and only what was lost
// is added.
func TestRelayRebuildsLostEntries(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	cfg := nats.Config{StoreDir: t.TempDir(), Namespace: natstest.Namespace()}
	bus := natstest.OpenConfig(t, cfg)
	subject, logSubject := bus.Subject("events", "cdc"), bus.Subject("eventlog", "events")
	options := func(bus *nats.Bus) relay.Options {
		return relay.Options{Log: store, Bus: bus, Subject: subject, EventLog: logUpdates(&eventlog.Log{Bus: bus, Subject: logSubject})}
	}
	writeChanges(t, store, 40)
	stop := runRelay(t, options(bus))
	waitPublished(t, bus, logSubject+".>", 40)
	stop()
	s, err := bus.JetStream().Stream(ctx, bus.Stream(nats.EventLog))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range published(t, bus, logSubject+".>")[30:] {
		if err := s.DeleteMsg(ctx, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	// A restarted server knows the ids of what it still holds only.
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	bus = natstest.OpenConfig(t, cfg)
	if n := len(published(t, bus, logSubject+".>")); n != 30 {
		t.Fatalf("after the loss the log has %d entries, want 30", n)
	}
	runRelay(t, options(bus))
	waitPublished(t, bus, logSubject+".>", 40)
	checkExactlyOnceInOrder(t, store, bus, subject)
	checkLogged(t, store, bus, subject, logSubject)
}

// TestRelayLeavesUnansweredEventsToTheTarget: an event EventLog fails on is
// published unmarked, for the event-log target to log or dead-letter, and
// the rest of the batch goes on.
func TestRelayLeavesUnansweredEventsToTheTarget(t *testing.T) {
	store, bus := openStore(t), natstest.Open(t)
	subject := bus.Subject("events", "cdc")
	writeChanges(t, store, 5)
	changes, err := store.ReadChanges(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	bad := changes[3].EventID
	runRelay(t, relay.Options{Log: store, Bus: bus, Subject: subject, EventLog: func(m *wims.Message) (wims.Outgoing, bool, error) {
		if m.ID == bad {
			return wims.Outgoing{}, false, errors.New("cannot tell")
		}
		return wims.Outgoing{}, false, nil
	}})
	waitPublished(t, bus, subject, 6)
	for _, m := range published(t, bus, subject) {
		if marked := m.Header[wims.HeaderLogged] != ""; marked == (m.ID == bad) {
			t.Fatalf("event %s: marked %v", m.ID, marked)
		}
	}
}
