package payments

import (
	"testing"
	"time"
)

// noStore is a Store the test never reaches.
type noStore struct{ Store }

// TestStartTermQuietSecond: a new term sends nothing until a second after
// the previous sender may last have sent, and at once when none has (a
// fresh start), instead of always waiting a second.
func TestStartTermQuietSecond(t *testing.T) {
	d, err := New(Options{Store: noStore{}, URL: "http://127.0.0.1:1/payments", Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	d.StartTerm(time.Time{})
	if !d.gate.pausedUntil.IsZero() {
		t.Fatalf("no previous sender: paused until %s", d.gate.pausedUntil)
	}
	ended := time.Now().Add(-300 * time.Millisecond)
	d.StartTerm(ended)
	if want := ended.Add(time.Second); !d.gate.pausedUntil.Equal(want) {
		t.Fatalf("previous sender ended at %s: paused until %s, want %s", ended, d.gate.pausedUntil, want)
	}
}
