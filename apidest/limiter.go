package apidest

import (
	"context"
	"sync"

	"golang.org/x/time/rate"

	"github.com/wims/wims"
)

// Limiter keeps each API destination under its InvocationRateLimitPerSecond.
// It limits this process only: delivery runs on one elected leader, which
// makes the per-process limit the global one.
//
// The burst is 1: calls are evenly spaced, 1/rate apart, so any one-second
// window holds at most rate+1 calls even after an idle spell. A burst of
// rate would let a full bucket plus its refill put up to 2×rate calls into
// one second, which an API enforcing its per-second limit would throttle.
//
// The zero value is ready to use; it is safe for concurrent use.
type Limiter struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// Wait blocks until destination name may be called once at ratePerSecond
// (wims.DefaultInvocationRate if not positive), or ctx ends; then it
// returns ctx's error. A changed rate applies from this call on, to every
// waiter of the destination.
func (l *Limiter) Wait(ctx context.Context, name string, ratePerSecond int) error {
	return l.limiter(name, ratePerSecond).Wait(ctx)
}

func (l *Limiter) limiter(name string, ratePerSecond int) *rate.Limiter {
	if ratePerSecond <= 0 {
		ratePerSecond = wims.DefaultInvocationRate
	}
	lim := rate.Limit(ratePerSecond)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]*rate.Limiter)
	}
	r, ok := l.m[name]
	if !ok {
		r = rate.NewLimiter(lim, 1)
		l.m[name] = r
	} else if r.Limit() != lim {
		r.SetLimit(lim)
	}
	return r
}

// Limit returns the rate and burst in force for destination name, and
// false if it has not been called yet.
func (l *Limiter) Limit(name string) (rate.Limit, int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[name]
	if !ok {
		return 0, 0, false
	}
	return r.Limit(), r.Burst(), true
}

// Forget drops the limiter of a deleted destination, so a long-running
// process does not keep one for every destination it ever had.
func (l *Limiter) Forget(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, name)
}
