package payments

import (
	"math/rand/v2"
	"time"
)

// Backoff bounds for failed calls: short enough that a blip costs little,
// long enough that ten failures span minutes, giving a struggling API room
// to recover before the payment is dead-lettered.
const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// backoff returns the delay before retrying after the n-th failure (n ≥ 1):
// 200 ms doubling up to 30 s, with "equal jitter" (half fixed, half random)
// so that payments failing together do not retry in lockstep, while the
// delay still grows with n.
func backoff(n int, ceiling time.Duration) time.Duration {
	floor := min(minBackoff, ceiling)
	d := floor
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return max(floor, d/2+rand.N(d/2+1))
}

// backoff is the package backoff with the dispatcher's ceiling.
func (d *Dispatcher) backoff(n int) time.Duration { return backoff(n, d.opt.MaxBackoff) }
