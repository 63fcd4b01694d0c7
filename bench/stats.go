package bench

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of samples by the
// nearest-rank method: the smallest sample such that at least p percent of
// the samples are less than or equal to it, i.e. the ⌈p/100·n⌉-th smallest.
// p ≤ 0 gives the minimum. samples must be sorted ascending; an empty slice
// gives 0. Nearest rank never interpolates, so every percentile reported is
// a latency some request really had.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Latency summarizes a set of latencies, in milliseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50Ms"`
	P90 float64 `json:"p90Ms"`
	P99 float64 `json:"p99Ms"`
	Max float64 `json:"maxMs"`
}

// Summarize sorts samples in place and returns their nearest-rank
// percentiles.
func Summarize(samples []time.Duration) Latency {
	slices.Sort(samples)
	return Latency{
		N:   len(samples),
		P50: ms(Percentile(samples, 50)),
		P90: ms(Percentile(samples, 90)),
		P99: ms(Percentile(samples, 99)),
		Max: ms(Percentile(samples, 100)),
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// Schedule returns the start time of the i-th request (from 0) of an open
// loop at rate requests/s started at t0: t0 + i/rate. The schedule does not
// depend on when earlier requests complete, which is what keeps a slow
// answer from delaying (and so hiding) the requests behind it.
func Schedule(t0 time.Time, rate float64, i int) time.Time {
	return t0.Add(time.Duration(float64(i) * float64(time.Second) / rate))
}

// Clock is the time source of the open loop, replaceable in tests.
type Clock interface {
	Now() time.Time
	// SleepUntil returns at t or when done is closed, whichever is first.
	SleepUntil(t time.Time, done <-chan struct{})
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(t time.Time, done <-chan struct{}) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-done:
	}
}

// pace runs an open loop: it calls fire(i, scheduled) for i = 0, 1, … at
// Schedule(t0, rate, i) for every scheduled time before t0+duration (and at
// most max times when max > 0), without waiting for earlier calls to finish.
// fire must not block; it is called late (never early) when the caller fell
// behind, with the scheduled time, so the latency it measures from that time
// includes the lateness. It returns the number of calls.
func pace(clock Clock, t0 time.Time, rate float64, duration time.Duration, max int, done <-chan struct{}, fire func(i int, scheduled time.Time)) int {
	end := t0.Add(duration)
	i := 0
	for ; max <= 0 || i < max; i++ {
		at := Schedule(t0, rate, i)
		if duration > 0 && !at.Before(end) {
			break
		}
		clock.SleepUntil(at, done)
		select {
		case <-done:
			return i
		default:
		}
		fire(i, at)
	}
	return i
}
