package console

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestQuantile: interpolation within the bucket, as histogram_quantile.
func TestQuantile(t *testing.T) {
	h := Histogram{Upper: []float64{0.01, 0.1, 1}, Counts: []uint64{50, 90, 100}, Count: 100}
	for _, c := range []struct{ q, want float64 }{{0.5, 0.01}, {0.7, 0.055}, {0.99, 0.91}, {0.25, 0.005}} {
		if got := quantile(h, c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := quantile(Histogram{Upper: h.Upper, Counts: make([]uint64, 3)}, 0.5); !math.IsNaN(got) {
		t.Errorf("empty: %v, want NaN", got)
	}
	over := Histogram{Upper: []float64{1}, Counts: []uint64{0}, Count: 3} // all in +Inf
	if got := quantile(over, 0.5); got != 1 {
		t.Errorf("+Inf bucket: %v, want the highest bound 1", got)
	}
}

// TestLiveFromDeltas: the figures are over the difference between the
// newest reading and the one a minute before, not over everything since
// the start.
func TestLiveFromDeltas(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bounds := []float64{0.001, 0.01, 0.1}
	read := func(at time.Duration, accepted float64, fast, slow uint64) sample {
		return sample{at: t0.Add(at), ok: true, stats: Stats{
			OrdersAccepted: accepted, PaymentsLimit: 5, DeadLetters: 2,
			Accept:   Histogram{Upper: bounds, Counts: []uint64{fast, fast + slow, fast + slow}, Count: fast + slow},
			Backlogs: []Backlog{{Consumer: "order-workflow", Pending: 3, OldestAge: 1500 * time.Millisecond}},
		}}
	}
	samples := []sample{
		read(0, 0, 0, 0),
		read(30*time.Second, 1000, 0, 1000), // slow, but more than a minute before the newest
		read(90*time.Second, 1600, 600, 1000),
		read(100*time.Second, 1700, 700, 1000),
	}
	l := liveFrom(samples, "", false)
	if !l.Available {
		t.Fatal("not available")
	}
	for id, want := range map[string]string{
		"orders-rate": "10/s", "accept-p50": "0.5 ms", "accept-p99": "1.0 ms",
		"dead-letters": "2", "payments-limit": "5/s",
	} {
		if got := l.Figure(id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if len(l.Backlogs) != 1 || l.Backlogs[0].Pending != "3" || l.Backlogs[0].OldestAge != "1.5 s" {
		t.Errorf("backlogs %+v", l.Backlogs)
	}
	if pts := strings.Fields(l.Plot("orders-rate")); len(pts) != 3 || !strings.HasPrefix(pts[2], "120.0,") {
		t.Errorf("orders plot %q: want 3 points ending at the right edge", l.Plot("orders-rate"))
	}
}

// TestPolylineBounded: however many samples, a plot has at most two points
// per unit of width, and keeps a spike.
func TestPolylineBounded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []point
	for i := range 1200 {
		v := 1.0
		if i == 600 {
			v = 50
		}
		pts = append(pts, point{t0.Add(time.Duration(i) * 500 * time.Millisecond), v})
	}
	got := strings.Fields(polyline(pts, t0, pts[len(pts)-1].at, 0))
	if len(got) > 2*sparkWidth+1 {
		t.Errorf("%d points, want at most %d", len(got), 2*sparkWidth+1)
	}
	if !strings.Contains(strings.Join(got, " "), ",1.0") { // the spike at the top: y = 1
		t.Errorf("the spike is lost: %v", got)
	}
}
