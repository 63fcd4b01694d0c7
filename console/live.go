package console

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	wimshttp "github.com/wims/wims/http"
)

// Stats is one reading of the running system's counters, as the overview's
// live figures need them. Counters and histograms are cumulative (as
// Prometheus keeps them): the console turns the difference between two
// readings into rates and quantiles, so one reading alone says nothing about
// "per second" and the reader need not keep any window itself.
type Stats struct {
	// OrdersAccepted counts the orders accepted so far (POST /orders 202).
	OrdersAccepted float64
	// Accept is the time to answer POST /orders.
	Accept Histogram
	// Reserved and Paid are the times from an order's acceptance to its
	// RESERVED and PAID status.
	Reserved, Paid Histogram
	// RelayLag is the time from a commit to its publication on the bus.
	RelayLag Histogram
	// PaymentRequests counts the calls to the payments API so far, and
	// PaymentsLimit is the most per second the dispatcher may send (0:
	// unknown).
	PaymentRequests float64
	PaymentsLimit   float64
	// Backlogs are the durable consumers' backlogs, as of the reading.
	Backlogs []Backlog
	// DeadLetters is the number of messages in the dead-letter stream, -1
	// when unknown.
	DeadLetters int64
}

// Histogram is a cumulative histogram: Counts[i] observations were at most
// Upper[i] (ascending; the implicit last bucket, +Inf, is Count).
type Histogram struct {
	Upper  []float64
	Counts []uint64
	Count  uint64
}

// Backlog is what waits for one durable consumer.
type Backlog struct {
	Consumer string
	// Pending is not yet delivered, AckPending delivered and not yet
	// acknowledged.
	Pending, AckPending int64
	// OldestAge is how long the oldest unacknowledged message has waited.
	OldestAge time.Duration
}

// StatsFunc reads the system's counters (Options.Stats). It is called at
// most once per StreamInterval, while a page that shows them is open.
type StatsFunc func(ctx context.Context) (Stats, error)

// Ring bounds: the plots show the last liveWindow, the figures the last
// minute.
const (
	liveWindow     = 10 * time.Minute
	figureWindow   = time.Minute
	maxSamples     = 1200 // 10 minutes at 0.5 s; a shorter interval thins the plot
	maxSampledSKUs = 100  // the inventory page's SKUs whose stock is plotted
	// maxStockPages is how many inventory pages the ring samples at once:
	// the pages most recently watched, so a few open tabs each see their
	// own SKUs' plots while the sampling cost stays bounded.
	maxStockPages = 8
)

// sample is one reading of the ring.
type sample struct {
	at    time.Time
	stats Stats
	ok    bool // stats was read (Options.Stats set and it answered)
	// read says whether stats was asked for: a sample is filled in by what
	// its askers need, so a page that shows only the stock does not wait
	// for the counters (a scrape of the bus), and one that shows both
	// finds the counters in the sample the other took.
	read bool
	// stock is the quantity of the SKUs of each watched inventory page,
	// by the page's cursor (the SKU it starts after, "" for the first).
	stock map[string]map[string]int64
}

// ring keeps the recent samples, taken at most once per interval by
// whichever page or stream asks first: there is no background goroutine, so
// nothing runs (and nothing is sampled) while nobody watches, and a gap in
// watching is a straight segment in the plots, placed by time.
type ring struct {
	store    wimshttp.Store
	stats    StatsFunc
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	samples []sample // oldest first
	// pages are the inventory pages whose stock is sampled, by cursor,
	// with when a page or stream last asked for each.
	pages map[string]time.Time
}

func newRing(store wimshttp.Store, stats StatsFunc, interval time.Duration) *ring {
	return &ring{store: store, stats: stats, interval: interval, now: time.Now, pages: map[string]time.Time{}}
}

// take adds a sample unless the newest is younger than the interval, fills
// in what the caller needs and the newest sample lacks, and returns a copy
// of the samples within liveWindow, oldest first. withStats reads the
// counters into the newest sample if nobody has; withStock marks the
// inventory page after page as watched, so the samples from now on hold
// its SKUs' stock, and reads it into the newest sample if missing (fresh:
// re-reads every watched page's stock, for a page just rendered from the
// store after an adjust, which its stream must not then overwrite with an
// older reading).
func (r *ring) take(ctx context.Context, fresh bool, page string, withStats, withStock bool) ([]sample, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if withStock {
		r.watch(page, now)
	}
	if n := len(r.samples); n == 0 || now.Sub(r.samples[n-1].at) >= r.interval {
		r.samples = append(r.samples, sample{at: now})
		fresh = true // a new sample holds every watched page
	}
	newest := &r.samples[len(r.samples)-1]
	if withStats && !newest.read && r.stats != nil {
		// A failed reading is a gap in the figures, not a failed page:
		// the counts and the stock still show.
		st, err := r.stats(ctx)
		newest.stats, newest.ok, newest.read = st, err == nil, true
	}
	if withStock {
		// A new map, never an update: copies handed out earlier share
		// the old one.
		stock := make(map[string]map[string]int64, len(r.pages))
		for p, q := range newest.stock {
			stock[p] = q
		}
		for p := range r.pages {
			if _, has := stock[p]; has && !fresh {
				continue
			}
			items, err := listItemPage(ctx, r.store, p, maxSampledSKUs)
			if err != nil {
				return nil, err
			}
			q := make(map[string]int64, len(items))
			for _, it := range items {
				q[it.SKU] = it.Quantity
			}
			stock[p] = q
		}
		newest.stock = stock
	}
	// Drop what left the window, and the oldest beyond the cap.
	drop := 0
	for drop < len(r.samples)-1 && now.Sub(r.samples[drop].at) > liveWindow {
		drop++
	}
	drop = max(drop, len(r.samples)-maxSamples)
	if drop > 0 {
		r.samples = append(r.samples[:0], r.samples[drop:]...)
	}
	return append([]sample(nil), r.samples...), nil
}

// live is the overview's live figures and plots, as the page renders them
// and the stream pushes them.
type live struct {
	// Available says whether any reading of the figures succeeded
	// (Options.Stats set, and it answered).
	Available bool `json:"available"`
	// Figures are the current values, as text, by id.
	Figures map[string]string `json:"figures"`
	// Plots are the sparklines' polyline points, by id.
	Plots map[string]string `json:"plots"`
	// Backlogs are the consumers' backlogs, by consumer name.
	Backlogs []backlogRow `json:"backlogs"`
	// Stock is the sparkline of each sampled SKU's stock, by SKU, and
	// Quantities its newest quantity, as text.
	Stock      map[string]string `json:"stock,omitempty"`
	Quantities map[string]string `json:"quantities,omitempty"`
}

// Figure returns the text of the figure id ("—" when unknown).
func (l live) Figure(id string) string {
	if v, ok := l.Figures[id]; ok {
		return v
	}
	return "—"
}

// Plot returns the points of the sparkline id.
func (l live) Plot(id string) string { return l.Plots[id] }

// StockPlot returns the points of sku's stock sparkline ("" when the SKU is
// not sampled).
func (l live) StockPlot(sku string) string { return l.Stock[sku] }

// backlogRow is one consumer's backlog, as text.
type backlogRow struct {
	Consumer   string `json:"consumer"`
	Pending    string `json:"pending"`
	AckPending string `json:"ackPending"`
	OldestAge  string `json:"oldestAge"`
}

// The sparklines' drawing box: the SVG's viewBox is 0 0 sparkWidth sparkHeight.
const (
	sparkWidth  = 120
	sparkHeight = 32
)

// liveFrom computes the figures and plots from the samples (oldest first).
// Rates and quantiles over "the last minute" come from the difference
// between the newest sample and the newest one at least a minute older (or
// the oldest, when the page has been open for less).
// withStock adds the plots and quantities of the inventory page after page.
func liveFrom(samples []sample, page string, withStock bool) live {
	l := live{Figures: map[string]string{}, Plots: map[string]string{}, Backlogs: []backlogRow{}}
	if withStock {
		l.Stock = stockPlots(samples, page)
		if n := len(samples); n > 0 {
			l.Quantities = map[string]string{}
			for sku, q := range samples[n-1].stock[page] {
				l.Quantities[sku] = group(q)
			}
		}
	}
	var st []sample
	for _, s := range samples {
		if s.ok {
			st = append(st, s)
		}
	}
	if len(st) == 0 {
		return l
	}
	l.Available = true
	last := st[len(st)-1]
	first := st[0]
	for _, s := range st {
		if last.at.Sub(s.at) >= figureWindow {
			first = s
		}
	}
	l.Figures["dead-letters"] = "—"
	if last.stats.DeadLetters >= 0 {
		l.Figures["dead-letters"] = group(last.stats.DeadLetters)
	}
	for _, b := range last.stats.Backlogs {
		l.Backlogs = append(l.Backlogs, backlogRow{
			Consumer: b.Consumer, Pending: group(b.Pending), AckPending: group(b.AckPending), OldestAge: formatSeconds(b.OldestAge.Seconds()),
		})
	}
	limit := last.stats.PaymentsLimit
	l.Figures["payments-limit"] = "—"
	if limit > 0 {
		l.Figures["payments-limit"] = strconv.FormatFloat(limit, 'f', -1, 64) + "/s"
	}
	if first.at.Equal(last.at) {
		return l // one reading: no rate yet
	}
	l.Figures["orders-rate"] = formatRate(counterRate(first, last, func(s Stats) float64 { return s.OrdersAccepted }))
	l.Figures["payments-rate"] = formatRate(counterRate(first, last, func(s Stats) float64 { return s.PaymentRequests }))
	hists := []struct {
		id  string
		get func(Stats) Histogram
	}{
		{"accept", func(s Stats) Histogram { return s.Accept }},
		{"reserved", func(s Stats) Histogram { return s.Reserved }},
		{"paid", func(s Stats) Histogram { return s.Paid }},
		{"relay-lag", func(s Stats) Histogram { return s.RelayLag }},
	}
	for _, h := range hists {
		d := delta(h.get(first.stats), h.get(last.stats))
		l.Figures[h.id+"-p50"] = formatSeconds(quantile(d, 0.5))
		l.Figures[h.id+"-p99"] = formatSeconds(quantile(d, 0.99))
	}

	// The plots: one point per pair of consecutive samples.
	series := map[string][]point{}
	for i := 1; i < len(st); i++ {
		a, b := st[i-1], st[i]
		series["orders-rate"] = append(series["orders-rate"], point{b.at, counterRate(a, b, func(s Stats) float64 { return s.OrdersAccepted })})
		series["payments-rate"] = append(series["payments-rate"], point{b.at, counterRate(a, b, func(s Stats) float64 { return s.PaymentRequests })})
		for _, h := range hists {
			series[h.id] = append(series[h.id], point{b.at, zeroNaN(quantile(delta(h.get(a.stats), h.get(b.stats)), 0.99))})
		}
		var backlog float64
		for _, bl := range b.stats.Backlogs {
			backlog += float64(bl.Pending + bl.AckPending)
		}
		series["backlog"] = append(series["backlog"], point{b.at, backlog})
		series["dead-letters"] = append(series["dead-letters"], point{b.at, float64(max(b.stats.DeadLetters, 0))})
	}
	start, end := st[1].at, last.at // the plots' first point is the first pair's
	for id, pts := range series {
		// The payments plot shares its scale with the limit, so a line at
		// the top means "at the limit".
		floor := 0.0
		if id == "payments-rate" {
			floor = limit
		}
		l.Plots[id] = polyline(pts, start, end, floor)
	}
	return l
}

// stockPlots is the sparkline of the stock of each SKU of the inventory
// page after page, over the samples that hold that page.
func stockPlots(samples []sample, page string) map[string]string {
	if len(samples) == 0 {
		return nil
	}
	start, end := samples[0].at, samples[len(samples)-1].at
	series := map[string][]point{}
	for _, s := range samples {
		for sku, q := range s.stock[page] {
			series[sku] = append(series[sku], point{s.at, float64(q)})
		}
	}
	out := make(map[string]string, len(series))
	for sku, pts := range series {
		out[sku] = polyline(pts, start, end, 0)
	}
	return out
}

// point is one value of a plot.
type point struct {
	at time.Time
	v  float64
}

// polyline returns the SVG points of pts: time on x, from start (the
// ring's oldest sample, at most liveWindow old) to end, so a page open for
// a minute uses the whole width; the value on y, scaled to the larger of
// the series' maximum and floor, 0 at the bottom.
func polyline(pts []point, start, end time.Time, floor float64) string {
	top := floor
	for _, p := range pts {
		top = math.Max(top, p.v)
	}
	if top <= 0 {
		top = 1 // a flat line at the bottom
	}
	// At most two points per unit of width, the highest of those that fall
	// there (a spike stays visible): 10 minutes at one sample a second would
	// otherwise send 600 points per plot per snapshot to every open page.
	type col struct{ x, v float64 }
	var cols []col
	for _, p := range pts {
		x := float64(sparkWidth)
		if span := end.Sub(start); span > 0 {
			x = math.Max(sparkWidth*(1-end.Sub(p.at).Seconds()/span.Seconds()), 0)
		}
		x = math.Round(x*2) / 2
		if n := len(cols); n > 0 && cols[n-1].x == x {
			cols[n-1].v = math.Max(cols[n-1].v, p.v)
			continue
		}
		cols = append(cols, col{x, p.v})
	}
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(c.x, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat((sparkHeight-1)-(sparkHeight-2)*c.v/top, 'f', 1, 64))
	}
	return b.String()
}

// counterRate is the per-second increase of a counter between two samples.
func counterRate(a, b sample, get func(Stats) float64) float64 {
	dt := b.at.Sub(a.at).Seconds()
	d := get(b.stats) - get(a.stats)
	if dt <= 0 || d < 0 { // d < 0: the counters restarted
		return 0
	}
	return d / dt
}

// delta is the histogram of the observations between two readings. A
// reading with other buckets, or fewer observations (a restart), gives
// the later one whole.
func delta(a, b Histogram) Histogram {
	if len(a.Upper) != len(b.Upper) || a.Count > b.Count {
		return b
	}
	d := Histogram{Upper: b.Upper, Counts: make([]uint64, len(b.Counts)), Count: b.Count - a.Count}
	for i := range b.Counts {
		if i < len(a.Counts) && a.Counts[i] <= b.Counts[i] {
			d.Counts[i] = b.Counts[i] - a.Counts[i]
		}
	}
	return d
}

// quantile estimates the q-quantile of h as Prometheus' histogram_quantile
// does: linear interpolation within the bucket that holds it (the first
// bucket's lower bound is 0; a quantile in +Inf is the highest bound). NaN
// when h holds no observations.
func quantile(h Histogram, q float64) float64 {
	if h.Count == 0 || len(h.Upper) == 0 || len(h.Upper) != len(h.Counts) {
		return math.NaN()
	}
	rank := q * float64(h.Count)
	i := sort.Search(len(h.Counts), func(i int) bool { return float64(h.Counts[i]) >= rank })
	if i == len(h.Counts) {
		return h.Upper[len(h.Upper)-1]
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = h.Upper[i-1], float64(h.Counts[i-1])
	}
	in := float64(h.Counts[i]) - below
	if in <= 0 {
		return h.Upper[i]
	}
	return lower + (h.Upper[i]-lower)*(rank-below)/in
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// formatRate shows a per-second rate.
func formatRate(v float64) string {
	switch {
	case v == 0:
		return "0/s"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "/s"
	default:
		return strconv.FormatFloat(v, 'f', 0, 64) + "/s"
	}
}

// formatSeconds shows a duration given in seconds, in the unit that reads
// best; "—" for NaN (nothing observed).
func formatSeconds(s float64) string {
	switch {
	case math.IsNaN(s):
		return "—"
	case s == 0:
		return "0"
	case s < 1:
		return strconv.FormatFloat(s*1000, 'f', 1, 64) + " ms"
	case s < 120:
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	default:
		return (time.Duration(s) * time.Second).String()
	}
}

// liveFigures returns the live figures (withStats) and the stock plots (withStock)
// from a look at the ring. fresh takes a new sample whatever the newest's
// age: a page just rendered from the store (the inventory after an adjust)
// must not then be overwritten by its stream with a sample from before.
// The stock is that of the inventory page after page.
func (h *Handler) liveFigures(ctx context.Context, page string, withStats, withStock, fresh bool) (live, error) {
	samples, err := h.ring.take(ctx, fresh, page, withStats, withStock)
	if err != nil {
		return live{}, err
	}
	return liveFrom(samples, page, withStock), nil
}

// overviewView is the overview page's data: the counts and the live figures.
type overviewView struct {
	overview
	Live live
}

// liveTile is one live figure of the overview: its label, the ids of its
// figures (shown joined) and of its plot.
type liveTile struct {
	Label   string
	Figures []string
	Plot    string
	Hint    string // what the plot shows
}

// liveTiles are the overview's live figures, in the order shown.
var liveTiles = []liveTile{
	{"Orders accepted", []string{"orders-rate"}, "orders-rate", "orders per second"},
	{"Accept latency p50 / p99", []string{"accept-p50", "accept-p99"}, "accept", "p99 accept latency"},
	{"Accepted → RESERVED p50 / p99", []string{"reserved-p50", "reserved-p99"}, "reserved", "p99 time to RESERVED"},
	{"Accepted → PAID p50 / p99", []string{"paid-p50", "paid-p99"}, "paid", "p99 time to PAID"},
	{"Payments rate / limit", []string{"payments-rate", "payments-limit"}, "payments-rate", "payment calls per second, scaled to the limit"},
	{"Relay lag p50 / p99", []string{"relay-lag-p50", "relay-lag-p99"}, "relay-lag", "p99 commit-to-publish lag"},
	{"Dead letters", []string{"dead-letters"}, "dead-letters", "dead letters"},
	{"Backlog (all consumers)", nil, "backlog", "messages waiting"},
}
