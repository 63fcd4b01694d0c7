package main

import (
	"log/slog"
	"runtime/debug"
	"testing"
)

// TestTuneGC: serve raises the collector's target unless GOGC is set, in
// which case the runtime's reading of it stands.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	log := slog.New(slog.DiscardHandler)
	if got := tuneGC("", log); got != serveGCPercent || debug.SetGCPercent(100) != serveGCPercent {
		t.Fatalf("without GOGC: %d, want %d in force", got, serveGCPercent)
	}
	if got := tuneGC("150", log); got != 100 || debug.SetGCPercent(100) != 100 {
		t.Fatalf("with GOGC set: %d, want the runtime's 100 kept", got)
	}
}
