package bench

import (
	"testing"
	"time"
)

func durations(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

// TestPercentileNearestRank checks the definition: the ⌈p/100·n⌉-th smallest.
func TestPercentileNearestRank(t *testing.T) {
	ten := durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", durations(7), 99, 7 * time.Millisecond},
		{"p50 of 10", ten, 50, 5 * time.Millisecond},
		{"p90 of 10", ten, 90, 9 * time.Millisecond},
		{"p91 of 10 rounds up", ten, 91, 10 * time.Millisecond},
		{"p99 of 10 is the max", ten, 99, 10 * time.Millisecond},
		{"p100 is the max", ten, 100, 10 * time.Millisecond},
		{"p0 is the min", ten, 0, time.Millisecond},
		{"tiny p is the min", ten, 0.001, time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p99.9 of 100", hundred, 99.9, 100 * time.Millisecond},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p25 of 4", durations(10, 20, 30, 40), 25, 10 * time.Millisecond},
		{"p26 of 4", durations(10, 20, 30, 40), 26, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.samples, tc.p); got != tc.want {
				t.Fatalf("Percentile(%v, %v) = %v, want %v", tc.samples, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeSorts(t *testing.T) {
	l := Summarize(durations(9, 1, 5, 3, 7, 2, 8, 4, 10, 6))
	if l.N != 10 || l.P50 != 5 || l.P90 != 9 || l.P99 != 10 || l.Max != 10 {
		t.Fatalf("Summarize = %+v", l)
	}
	if l := Summarize(nil); l != (Latency{}) {
		t.Fatalf("Summarize(nil) = %+v", l)
	}
	if l := Summarize([]time.Duration{1500 * time.Microsecond}); l.P50 != 1.5 {
		t.Fatalf("Summarize(1.5ms).P50 = %v, want 1.5", l.P50)
	}
}

func TestSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		rate float64
		i    int
		want time.Duration
	}{
		{1000, 0, 0},
		{1000, 1, time.Millisecond},
		{1000, 1500, 1500 * time.Millisecond},
		{3, 1, 333333333 * time.Nanosecond},
		{3, 3, time.Second},
		{0.5, 2, 4 * time.Second},
	} {
		if got := Schedule(t0, tc.rate, tc.i).Sub(t0); got != tc.want {
			t.Errorf("Schedule(rate %v, %d) = t0+%v, want t0+%v", tc.rate, tc.i, got, tc.want)
		}
	}
}

// fakeClock advances only when slept on, and can be made to jump (a stall).
type fakeClock struct {
	now    time.Time
	sleeps int
	// stallAt, when sleeps reaches it, makes time jump by stall first.
	stallAt int
	stall   time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) SleepUntil(t time.Time, _ <-chan struct{}) {
	c.sleeps++
	if c.sleeps == c.stallAt {
		c.now = c.now.Add(c.stall)
	}
	if t.After(c.now) {
		c.now = t
	}
}

// TestPaceOpenLoop checks that requests are scheduled at t0 + i/rate for the
// whole duration, and fired at (never before) their scheduled time.
func TestPaceOpenLoop(t *testing.T) {
	t0 := time.Unix(1000, 0)
	clock := &fakeClock{now: t0}
	var sched, fired []time.Time
	n := pace(clock, t0, 100, time.Second, 0, nil, func(i int, at time.Time) {
		if i != len(sched) {
			t.Fatalf("fire(%d) out of order", i)
		}
		sched = append(sched, at)
		fired = append(fired, clock.Now())
	})
	if n != 100 || len(sched) != 100 {
		t.Fatalf("fired %d (returned %d), want 100 for 1s at 100/s", len(sched), n)
	}
	for i, at := range sched {
		want := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		if !at.Equal(want) {
			t.Fatalf("request %d scheduled at t0+%v, want t0+%v", i, at.Sub(t0), want.Sub(t0))
		}
		if fired[i].Before(at) {
			t.Fatalf("request %d fired %v early", i, at.Sub(fired[i]))
		}
	}
}

// TestPaceNoCoordinatedOmission stalls the sender for 250ms: the requests it
// delayed keep their scheduled times (so their latency includes the stall),
// they are sent at once rather than skipped, and the schedule after the
// stall is unchanged.
func TestPaceNoCoordinatedOmission(t *testing.T) {
	t0 := time.Unix(1000, 0)
	clock := &fakeClock{now: t0, stallAt: 11, stall: 250 * time.Millisecond}
	var sched, fired []time.Time
	n := pace(clock, t0, 100, time.Second, 0, nil, func(_ int, at time.Time) {
		sched = append(sched, at)
		fired = append(fired, clock.Now())
	})
	if n != 100 {
		t.Fatalf("fired %d, want 100: a stall must not drop requests", n)
	}
	late := 0
	for i, at := range sched {
		if want := t0.Add(time.Duration(i) * 10 * time.Millisecond); !at.Equal(want) {
			t.Fatalf("request %d scheduled at t0+%v, want t0+%v", i, at.Sub(t0), want.Sub(t0))
		}
		if fired[i].After(at) {
			late++
		}
	}
	// While waiting for request 10 (due at 100ms) the clock jumped from 90ms
	// to 340ms; 11..33 were due before 340ms and went out with it.
	if got := fired[10].Sub(sched[10]); got != 240*time.Millisecond {
		t.Fatalf("stalled request fired %v late, want 240ms", got)
	}
	if late != 24 {
		t.Fatalf("%d requests fired late, want 24 (those due during the stall)", late)
	}
}

func TestPaceCapAndStop(t *testing.T) {
	t0 := time.Unix(1000, 0)
	if n := pace(&fakeClock{now: t0}, t0, 1000, time.Hour, 7, nil, func(int, time.Time) {}); n != 7 {
		t.Fatalf("pace with max 7 fired %d", n)
	}
	done := make(chan struct{})
	close(done)
	if n := pace(&fakeClock{now: t0}, t0, 1000, time.Second, 0, done, func(int, time.Time) {}); n != 0 {
		t.Fatalf("pace after done fired %d", n)
	}
}
