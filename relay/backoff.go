package relay

import (
	"math/rand/v2"
	"time"
)

// backoff doubles a delay from 50 ms to 5 s, with jitter so that several
// relays recovering together do not retry in lockstep.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = 50 * time.Millisecond
	} else {
		b.d = min(2*b.d, 5*time.Second)
	}
	return b.d/2 + rand.N(b.d/2+1)
}

func (b *backoff) reset() { b.d = 0 }
