package payments

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestGateSpacing checks the limiter's invariant on the times requests were
// let through: at most 2 + rate·T grants in any interval of length T (the
// schedule makes up a timer's oversleep, never more than one interval), and
// the long-run rate is not above the configured one.
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
				at := time.Now()
				mu.Lock()
				grants = append(grants, at)
				mu.Unlock()
				g.release()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(grants, func(a, b time.Time) int { return a.Compare(b) })
	for _, window := range []time.Duration{g.interval / 2, g.interval, 3 * g.interval, 10 * g.interval, 50 * g.interval} {
		allowed := 2 + int(window/g.interval)
		for i := range grants {
			inWindow := 0
			for j := i; j < len(grants) && grants[j].Sub(grants[i]) <= window; j++ {
				inWindow++
			}
			if inWindow > allowed {
				t.Fatalf("%d grants within %s from grant %d, want at most %d", inWindow, window, i, allowed)
			}
		}
	}
	if span, min := grants[len(grants)-1].Sub(grants[0]), time.Duration(len(grants)-2)*g.interval; span < min {
		t.Fatalf("%d grants in %s, faster than the rate allows (%s)", len(grants), span, min)
	}
}

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
