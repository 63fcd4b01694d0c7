package postgres_test

import (
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
)

// waitSignal fails the test unless sig fires within a generous deadline.
func waitSignal(t *testing.T, sig <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-sig:
	case <-time.After(10 * time.Second):
		t.Fatalf("ChangeSignal did not fire within 10s of %s", what)
	}
}

// drain empties a coalesced signal channel.
func drain(sig <-chan struct{}) {
	select {
	case <-sig:
	default:
	}
}

// TestChangeSignal checks that a commit by one instance wakes another
// instance's ChangeSignal through LISTEN/NOTIFY, and that a write that
// appends no change (a failed one) does not.
func TestChangeSignal(t *testing.T) {
	url := pgtest.URL(t)
	listener := mustOpen(t, postgres.Options{URL: url})
	writer := mustOpen(t, postgres.Options{URL: url})
	sig := listener.ChangeSignal()
	drain(sig)

	if _, err := writer.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, sig, "another instance's commit")
	cs, err := listener.ReadChanges(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("woken with %d changes to read, want 1", len(cs))
	}

	// Signals coalesce but are never lost: after more commits, at least one
	// more arrives.
	for range 3 {
		if _, err := writer.AdjustStock(t.Context(), "A", wims.Adjustment{Delta: 1}); err != nil {
			t.Fatal(err)
		}
	}
	waitSignal(t, sig, "three more commits")
}

// TestChangeSignal_Reconnect kills the listener's connection on the server:
// the store reconnects, signals once for what it may have missed, and then
// hears other instances' commits again.
func TestChangeSignal_Reconnect(t *testing.T) {
	url := pgtest.URL(t)
	listener := mustOpen(t, postgres.Options{URL: url})
	writer := mustOpen(t, postgres.Options{URL: url})
	admin := rawConn(t, url)
	sig := listener.ChangeSignal()
	drain(sig)

	// listeners returns the pids of the backends listening for changes.
	listeners := func() map[int32]bool {
		rows, err := admin.Query(t.Context(), `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN wims_changes' AND pid <> pg_backend_pid()`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		pids := map[int32]bool{}
		for rows.Next() {
			var pid int32
			if err := rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			pids[pid] = true
		}
		return pids
	}
	before := listeners()
	if len(before) != 2 {
		t.Fatalf("%d listening backends, want 2 (one per store)", len(before))
	}
	if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN wims_changes'`); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, sig, "the listener reconnected")

	// Poll until both stores listen again on new connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		after := listeners()
		fresh := 0
		for pid := range after {
			if !before[pid] {
				fresh++
			}
		}
		if fresh == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listeners did not come back: before %v, now %v", before, after)
		}
		time.Sleep(10 * time.Millisecond)
	}
	drain(sig)
	if _, err := writer.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, sig, "a commit after the reconnect")
}
