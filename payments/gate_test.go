package payments

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestGateSpacing checks the limiter's exact invariant on the times it let
// requests through, as recorded by the gate itself: consecutive grants are
// at least 1/rate apart, whatever the scheduler does, so no interval of
// length T holds more than 1 + rate·T of them.
func TestGateSpacing(t *testing.T) {
	const rate, workers, n = 100.0, 8, 60
	g := newGate(rate, 3)
	var mu sync.Mutex
	var grants []time.Time
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range n / workers {
				if _, err := g.acquire(context.Background()); err != nil {
					t.Error(err)
					return
				}
				g.mu.Lock()
				at := g.last
				g.mu.Unlock()
				mu.Lock()
				grants = append(grants, at)
				mu.Unlock()
				g.release()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(grants, func(a, b time.Time) int { return a.Compare(b) })
	grants = slices.CompactFunc(grants, time.Time.Equal)
	if len(grants) != n/workers*workers {
		t.Fatalf("%d distinct grants, want %d", len(grants), n/workers*workers)
	}
	for i := 1; i < len(grants); i++ {
		if gap := grants[i].Sub(grants[i-1]); gap < g.interval {
			t.Fatalf("grants %d and %d %s apart, want >= %s", i-1, i, gap, g.interval)
		}
	}
}

// TestGatePause checks that a pause holds back every sender until it ends.
func TestGatePause(t *testing.T) {
	g := newGate(1000, 2)
	g.pause(300 * time.Millisecond)
	start := time.Now()
	if _, err := g.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.release()
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("let through after %s, inside a 300ms pause", waited)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.pause(time.Hour)
	cancel()
	if _, err := g.acquire(ctx); err == nil {
		t.Fatal("acquire during a pause with a canceled context succeeded")
	}
	if len(g.sem) != 0 || len(g.turn) != 0 {
		t.Fatal("a failed acquire kept its slot")
	}
}
