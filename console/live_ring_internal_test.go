package console

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wims/wims/sqlite"
)

// TestRingFillsWhatIsAsked: a look for the stock alone (the inventory
// page) does not read the counters, which can take a scrape of the bus;
// a look for the figures within the same interval reads them into that
// same sample, once; a fresh look re-reads the stock only.
func TestRingFillsWhatIsAsked(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	reads := 0
	stats := func(context.Context) (Stats, error) { reads++; return Stats{PaymentsLimit: 5}, nil }
	r := newRing(db, stats, time.Hour)
	s, err := r.take(ctx, true, "", false, true)
	if err != nil || len(s) != 1 || len(s[0].stock[""]) != 1 || reads != 0 {
		t.Fatalf("stock look: %d samples, stock %v, %d stats reads, %v", len(s), s[0].stock, reads, err)
	}
	s, err = r.take(ctx, false, "", true, false)
	if err != nil || len(s) != 1 || !s[0].ok || reads != 1 {
		t.Fatalf("figures look: %d samples, ok %v, %d stats reads, %v", len(s), s[0].ok, reads, err)
	}
	s, err = r.take(ctx, true, "", true, true)
	if err != nil || len(s) != 1 || reads != 1 || len(s[0].stock[""]) != 1 {
		t.Fatalf("fresh look: %d samples, %d stats reads, %v", len(s), reads, err)
	}
}
