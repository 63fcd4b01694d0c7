// Package platformtest builds the real event platform for tests of the
// packages around it: platform.Service over a given store (or a fresh
// SQLite one in a temp dir) and an embedded JetStream bus.
package platformtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/sqlite"
)

// Store opens a SQLite store (seeded like a fresh data dir) in a temp dir
// and closes it when the test ends.
func Store(tb testing.TB) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(tb.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// New returns the platform over store on a new embedded bus.
func New(tb testing.TB, store wims.ResourceStore) *platform.Service {
	tb.Helper()
	return OnBus(tb, store, natstest.Open(tb))
}

// OnBus returns the platform over store on bus.
func OnBus(tb testing.TB, store wims.ResourceStore, bus *nats.Bus) *platform.Service {
	tb.Helper()
	sealer, err := platform.NewSealer("platformtest-secrets-key-0123456789")
	if err != nil {
		tb.Fatal(err)
	}
	return platform.New(platform.Options{Store: store, Bus: bus, Sealer: sealer, Archives: bus,
		Subjects: platform.Subjects{Events: bus.Subject("events"), Deliveries: bus.Subject("deliveries", "targets")}})
}
