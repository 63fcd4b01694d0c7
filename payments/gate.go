package payments

import (
	"context"
	"sync"
	"time"
)

// gate is what a request passes before it is sent: a slot among the
// Concurrency in flight, then its turn in the rate limit, and no pause
// ordered by a throttled answer. One gate serves every goroutine calling
// Handle, which is what makes the rate global.
//
// The rate limit spaces sends 1/rate apart on a schedule that makes up a
// timer's oversleep but never more than one interval, so at most 2 + rate·T
// requests leave in any interval of length T, and the long-run rate is the
// configured one. It is driven by the times requests actually leave rather
// than by reserved times, as golang.org/x/time/rate does. With reservations, goroutines that wake late
// (a loaded machine, a GC pause) all send at once when they do wake, and an
// API with a burst of 5 throttles the sixth; here a late sender only delays
// the ones after it.
type gate struct {
	sem      chan struct{} // a slot per request in flight
	turn     chan struct{} // held by the one goroutine waiting to send next
	interval time.Duration

	mu          sync.Mutex
	last        time.Time // when the last request was let through
	pausedUntil time.Time
}

func newGate(perSecond float64, concurrency int) *gate {
	return &gate{
		sem:      make(chan struct{}, concurrency),
		turn:     make(chan struct{}, 1),
		interval: time.Duration(float64(time.Second) / perSecond),
	}
}

// acquire waits for a slot and then for the right to send now. The slot is
// taken first so that a request let through is sent at once: queueing for a
// slot after passing the rate limit would let requests pile up and leave in
// a burst. The caller must call release unless an error is returned. wait is
// the time spent on the rate limit and pauses.
func (g *gate) acquire(ctx context.Context) (wait time.Duration, err error) {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	start := time.Now()
	// Goroutines blocked sending on a channel are served in order, so
	// payments go out in the order they arrived.
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		<-g.sem
		return time.Since(start), ctx.Err()
	}
	defer func() { <-g.turn }()
	for {
		now := time.Now()
		g.mu.Lock()
		at := g.last.Add(g.interval)
		if g.pausedUntil.After(at) {
			at = g.pausedUntil
		}
		if !now.Before(at) {
			// Timers oversleep (about 2 ms here): counting the next interval
			// from when this one was due, not from now, keeps the rate at
			// the configured value instead of 1/(interval+oversleep). Only
			// a lateness under one interval is made up, so sends never
			// bunch: at most 2 + rate·T leave in any T.
			prev := g.last
			g.last = now
			if late := now.Sub(at); !prev.IsZero() && late < g.interval && at.After(g.pausedUntil) {
				g.last = at
			}
			g.mu.Unlock()
			return time.Since(start), nil
		}
		g.mu.Unlock()
		// Look again after sleeping: a throttled answer may have ordered
		// a pause meanwhile.
		if err := sleep(ctx, at.Sub(now)); err != nil {
			<-g.sem
			return time.Since(start), err
		}
	}
}

// release frees the slot taken by acquire.
func (g *gate) release() { <-g.sem }

// pause stops every sender for d from now; a longer pause already in force
// is kept.
func (g *gate) pause(d time.Duration) { g.pauseUntil(time.Now().Add(d)) }

// pauseUntil stops every sender until the time until; a longer pause
// already in force is kept.
func (g *gate) pauseUntil(until time.Time) {
	g.mu.Lock()
	if until.After(g.pausedUntil) {
		g.pausedUntil = until
	}
	g.mu.Unlock()
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
