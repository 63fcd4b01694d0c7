// Package bench is the load generator behind `wims bench`: it drives a
// running wims over its HTTP API, the same way for both architectures, and
// reports throughput, status codes, accept latency and end-to-end latency
// read back from the orders.
//
// Three modes:
//
//   - course: the course's benchmark, 100 rounds of 10 concurrent orders of
//     random quantity 1–10 (1,000 orders), with the time taken, the status
//     codes, and how much of the sold quantity the inventory shows right
//     after the last answer and 500 ms later;
//   - closed: Concurrency workers, each sending its next order when the last
//     is answered (throughput at a given concurrency);
//   - open: orders start at a fixed Rate for a Duration whatever the answers
//     do (request i starts at t0 + i/rate) and latency is measured from the
//     scheduled start, so a stall shows in the latency of every request it
//     delayed: no coordinated omission.
//
// Percentiles are exact, by nearest rank over all samples ([Percentile]).
//
// A run whose context is cancelled (Ctrl-C) stops at once: no new orders,
// requests in flight abandoned (counted as "interrupted", not as errors),
// and the end-to-end read-back and course mode's inventory check skipped
// (or cut short, if they were under way). Run then returns the partial
// report, marked Interrupted, with an error wrapping ErrInterrupted.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Modes.
const (
	ModeCourse = "course"
	ModeClosed = "closed"
	ModeOpen   = "open"
)

// ErrInterrupted is wrapped in Run's error when its context was cancelled
// during the load: the report covers what was sent until then.
var ErrInterrupted = errors.New("bench: interrupted")

// StatusInterrupted is the Report.Statuses key of requests abandoned when
// the run was interrupted (the server may or may not have accepted them).
const StatusInterrupted = "interrupted"

// Options configures a run.
type Options struct {
	// URL is the wims HTTP API, e.g. http://127.0.0.1:8080. Required.
	URL string
	// Mode is ModeCourse, ModeClosed or ModeOpen.
	Mode string
	// Concurrency is the number of workers in closed mode (default 10).
	Concurrency int
	// Rate is the open loop's orders/s. Required in open mode.
	Rate float64
	// Duration bounds open mode (default 10s) and, when Orders is 0,
	// closed mode.
	Duration time.Duration
	// Orders is how many orders to send: closed mode (default 1,000 unless
	// Duration is set) and an optional cap in open mode. Course mode always
	// sends Rounds×RoundSize.
	Orders int
	// Rounds and RoundSize shape course mode (default 100 × 10).
	Rounds, RoundSize int
	// SKU is ordered (default MACGUFFIN-LX).
	SKU string
	// MaxQuantity: each order is for a random 1..MaxQuantity (default 10).
	MaxQuantity int
	// APIKey, if set, is sent as Authorization: Bearer.
	APIKey string
	// E2ESample is how many accepted orders are read back for end-to-end
	// latency (default 200; negative: none).
	E2ESample int
	// E2ETimeout bounds the read-back and the drain (default 30s).
	E2ETimeout time.Duration
	// Drain measures, after the load, how long until every accepted order
	// is RESERVED and PAID (Report.Drain).
	Drain bool
	// MaxInFlight bounds open mode's concurrent requests (default 4,096);
	// a request over it starts late, and its lateness counts in its latency.
	MaxInFlight int
	// Progress, if set, receives a progress line every second: elapsed
	// time, orders sent, accepted (per second in the last second and on
	// average so far) and failed.
	Progress io.Writer
	// Client sends the requests (default: a client with pooled connections).
	Client *http.Client
	// Seed makes the quantities repeatable (default 1).
	Seed uint64
	// Clock paces the open loop (default: real time).
	Clock Clock
}

// Report is the result of a run.
type Report struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency,omitempty"`
	TargetRate  float64 `json:"targetRate,omitempty"`
	// Interrupted reports a run cut short by its context (Ctrl-C): a
	// partial report, without end-to-end latency or the inventory check.
	Interrupted bool `json:"interrupted,omitempty"`
	// Sent counts requests started; Accepted those answered 2xx.
	Sent     int `json:"sent"`
	Accepted int `json:"accepted"`
	// Statuses counts answers by HTTP status; "error" counts requests with
	// no answer (connection refused, timeout), StatusInterrupted those
	// abandoned by an interrupt.
	Statuses map[string]int `json:"statuses"`
	// Seconds is from the first request's start to the last answer.
	Seconds      float64 `json:"seconds"`
	AcceptedPerS float64 `json:"acceptedPerSecond"`
	SentPerS     float64 `json:"sentPerSecond"`
	// Accept is the latency of every request (any answer), from its start
	// (open mode: its scheduled start) to its answer.
	Accept Latency `json:"acceptLatency"`
	// Reserved and Paid are end-to-end latencies of sampled accepted
	// orders: from the order's createdAt to the time it became RESERVED or
	// PAID, as the server recorded them.
	Reserved *EndToEnd `json:"reserved,omitempty"`
	Paid     *EndToEnd `json:"paid,omitempty"`
	// Inventory is course mode's consistency check.
	Inventory *Inventory `json:"inventory,omitempty"`
	// Drain is how long the pipeline took to catch up (Options.Drain).
	Drain *Drain `json:"drain,omitempty"`
}

// EndToEnd is the end-to-end latency of the sampled orders that reached a
// status within the read-back deadline.
type EndToEnd struct {
	Sampled int     `json:"sampled"`
	Reached int     `json:"reached"`
	P50     float64 `json:"p50Ms"`
	P99     float64 `json:"p99Ms"`
	Max     float64 `json:"maxMs"`
	// Source says where the RESERVED times came from: history,
	// executions, updatedAt or a mix.
	Source string `json:"source,omitempty"`
	// PerSecond is how fast the sampled orders reached the status: (n-1)
	// over the span from the first to the last one to get there. With all
	// orders sampled and a backlog, for PAID it is the payments throughput.
	PerSecond float64 `json:"perSecond,omitempty"`
}

// Inventory compares the quantity sold (sum over accepted orders) with the
// drop in the SKU's stock seen right after the last answer and 500 ms later.
type Inventory struct {
	SKU    string `json:"sku"`
	Before int64  `json:"before"`
	// Ordered sums the quantities of every order sent, Sold those answered
	// 2xx. They differ when orders fail (V1 with a throttled payments API,
	// which keeps the stock of orders it answered with an error).
	Ordered      int64   `json:"ordered"`
	Sold         int64   `json:"sold"`
	AtOnce       int64   `json:"shownAtOnce"`
	After500ms   int64   `json:"shownAfter500ms"`
	AtOncePct    float64 `json:"shownAtOncePct"`
	After500msPc float64 `json:"shownAfter500msPct"`
}

// order is what bench reads of an order.
type order struct {
	ID        string    `json:"orderId"`
	Status    string    `json:"status"`
	Quantity  int64     `json:"quantity"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	History   []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	} `json:"history"`
	Executions []struct {
		Steps []struct {
			Name       string    `json:"name"`
			Outcome    string    `json:"outcome"`
			StartedAt  time.Time `json:"startedAt"`
			DurationMS float64   `json:"durationMs"`
		} `json:"steps"`
	} `json:"executions"`
}

// result is one request's outcome.
type result struct {
	status      int  // 0: no answer
	interrupted bool // no answer because the run's context ended
	latency     time.Duration
	qty         int64
	id          string
	done        time.Time
}

// runner holds a run's state.
type runner struct {
	opt    Options
	client *http.Client
	base   string
	// customer is the customer id of every order of the run, so that the
	// drain can select the run's orders.
	customer string

	mu      sync.Mutex
	results []result
	rng     *rand.Rand

	sent, ok, failed atomic.Int64
	start            time.Time
}

// Run performs the benchmark described by opt and returns its report.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	r := &runner{opt: opt, client: opt.Client, base: strings.TrimRight(opt.URL, "/"),
		rng:      rand.New(rand.NewPCG(opt.Seed, 0x5eed)),
		customer: "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	rep := &Report{Mode: opt.Mode, URL: opt.URL, Statuses: map[string]int{}}

	var inv *Inventory
	if opt.Mode == ModeCourse {
		q, err := r.stock(ctx)
		if err != nil {
			return nil, fmt.Errorf("read inventory before: %w", err)
		}
		inv = &Inventory{SKU: opt.SKU, Before: q}
	}

	stopProgress := r.progress()
	r.start = time.Now()
	var err error
	switch opt.Mode {
	case ModeCourse:
		r.course(ctx)
	case ModeClosed:
		rep.Concurrency = opt.Concurrency
		r.closed(ctx)
	case ModeOpen:
		rep.TargetRate = opt.Rate
		r.open(ctx)
	}
	end := time.Now()
	rep.Interrupted = ctx.Err() != nil
	if inv != nil && !rep.Interrupted {
		// Read at once, before anything else: this is the course's question.
		q, qerr := r.stock(ctx)
		if qerr == nil {
			inv.AtOnce = inv.Before - q
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
		}
		if q, qerr2 := r.stock(context.WithoutCancel(ctx)); qerr2 == nil {
			inv.After500ms = inv.Before - q
		} else if qerr == nil {
			qerr = qerr2
		}
		if qerr != nil {
			err = fmt.Errorf("read inventory after: %w", qerr)
		}
	}
	stopProgress()

	lat := make([]time.Duration, 0, len(r.results))
	var accepted []result
	for _, res := range r.results {
		rep.Sent++
		key := "error"
		if res.interrupted {
			key = StatusInterrupted
		} else if res.status != 0 {
			key = strconv.Itoa(res.status)
			lat = append(lat, res.latency)
		}
		rep.Statuses[key]++
		if res.status >= 200 && res.status < 300 {
			rep.Accepted++
			accepted = append(accepted, res)
			if res.done.After(end) {
				end = res.done
			}
		}
	}
	rep.Seconds = end.Sub(r.start).Seconds()
	if rep.Seconds > 0 {
		rep.AcceptedPerS = round1(float64(rep.Accepted) / rep.Seconds)
		rep.SentPerS = round1(float64(rep.Sent) / rep.Seconds)
	}
	rep.Seconds = round3(rep.Seconds)
	rep.Accept = Summarize(lat)
	if inv != nil && !rep.Interrupted {
		for _, res := range r.results {
			inv.Ordered += res.qty
		}
		for _, a := range accepted {
			inv.Sold += a.qty
		}
		if inv.Sold > 0 {
			inv.AtOncePct = round1(100 * float64(inv.AtOnce) / float64(inv.Sold))
			inv.After500msPc = round1(100 * float64(inv.After500ms) / float64(inv.Sold))
		}
		rep.Inventory = inv
	}
	if opt.Drain && len(accepted) > 0 && !rep.Interrupted {
		// Before the read-back, which would add its own time.
		rep.Drain = r.drain(ctx, end.Sub(r.start).Seconds())
	}
	if opt.E2ESample > 0 && len(accepted) > 0 && !rep.Interrupted {
		// An interrupt during the read-back (up to E2ETimeout) ends it too.
		rep.Reserved, rep.Paid = r.endToEnd(ctx, accepted)
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
		return rep, fmt.Errorf("%w after %.1fs of load (%d orders sent): %w", ErrInterrupted, rep.Seconds, rep.Sent, context.Cause(ctx))
	}
	return rep, err
}

func (o *Options) defaults() error {
	if o.URL == "" {
		return fmt.Errorf("bench: URL is required")
	}
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bench: --url %q is not an absolute http(s) URL", o.URL)
	}
	if o.SKU == "" {
		o.SKU = "MACGUFFIN-LX"
	}
	if o.MaxQuantity <= 0 {
		o.MaxQuantity = 10
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.E2ESample == 0 {
		o.E2ESample = 200
	}
	if o.E2ETimeout <= 0 {
		o.E2ETimeout = 30 * time.Second
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 4096
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns: 8192, MaxIdleConnsPerHost: 8192, IdleConnTimeout: 90 * time.Second,
			},
		}
	}
	switch o.Mode {
	case ModeCourse:
		if o.Rounds <= 0 {
			o.Rounds = 100
		}
		if o.RoundSize <= 0 {
			o.RoundSize = 10
		}
	case ModeClosed:
		if o.Concurrency <= 0 {
			o.Concurrency = 10
		}
		if o.Orders <= 0 && o.Duration <= 0 {
			o.Orders = 1000
		}
	case ModeOpen:
		if o.Rate <= 0 {
			return fmt.Errorf("bench: open mode needs --rate > 0")
		}
		if o.Duration <= 0 {
			o.Duration = 10 * time.Second
		}
	default:
		return fmt.Errorf("bench: --mode %q: want course, closed or open", o.Mode)
	}
	return nil
}

func (r *runner) quantity() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return 1 + r.rng.Int64N(int64(r.opt.MaxQuantity))
}

// course sends Rounds rounds of RoundSize concurrent orders, each round
// after the previous one is fully answered.
func (r *runner) course(ctx context.Context) {
	n := 0
	for range r.opt.Rounds {
		if ctx.Err() != nil {
			return
		}
		var wg sync.WaitGroup
		for range r.opt.RoundSize {
			i := n
			n++
			wg.Go(func() { r.send(ctx, i, time.Now()) })
		}
		wg.Wait()
	}
}

// closed runs Concurrency workers that each send one order after another.
func (r *runner) closed(ctx context.Context) {
	var next atomic.Int64
	var deadline time.Time
	if r.opt.Duration > 0 {
		deadline = r.start.Add(r.opt.Duration)
	}
	var wg sync.WaitGroup
	for range r.opt.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				if !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				i := int(next.Add(1)) - 1
				if r.opt.Orders > 0 && i >= r.opt.Orders {
					return
				}
				r.send(ctx, i, time.Now())
			}
		})
	}
	wg.Wait()
}

// open starts orders on the open-loop schedule.
func (r *runner) open(ctx context.Context) {
	sem := make(chan struct{}, r.opt.MaxInFlight)
	var wg sync.WaitGroup
	pace(r.opt.Clock, r.start, r.opt.Rate, r.opt.Duration, r.opt.Orders, ctx.Done(), func(i int, at time.Time) {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			r.send(ctx, i, at)
		})
	})
	wg.Wait()
}

// send places one order and records its outcome; latency runs from start.
func (r *runner) send(ctx context.Context, _ int, start time.Time) {
	qty := r.quantity()
	body := fmt.Sprintf(`{"customerId":%q,"quantity":%d,"sku":%q}`, r.customer, qty, r.opt.SKU)
	r.sent.Add(1)
	res := result{qty: qty}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/orders", strings.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		r.auth(req)
		var resp *http.Response
		resp, err = r.client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
			res.status = resp.StatusCode
			if res.status >= 200 && res.status < 300 {
				var o order
				if json.Unmarshal(b, &o) == nil {
					res.id = o.ID
				}
			}
		}
	}
	res.done = time.Now()
	res.latency = res.done.Sub(start)
	res.interrupted = res.status == 0 && ctx.Err() != nil
	if res.status >= 200 && res.status < 300 {
		r.ok.Add(1)
	} else {
		r.failed.Add(1)
	}
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
}

func (r *runner) auth(req *http.Request) {
	if r.opt.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.opt.APIKey)
	}
}

// get reads a JSON resource into v.
func (r *runner) get(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return err
	}
	r.auth(req)
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, v)
}

func (r *runner) stock(ctx context.Context) (int64, error) {
	var it struct {
		Quantity int64 `json:"quantity"`
	}
	err := r.get(ctx, "/inventory/"+url.PathEscape(r.opt.SKU), &it)
	return it.Quantity, err
}

// progress prints a line every second until the returned func is called.
func (r *runner) progress() func() {
	if r.opt.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ok, elapsed := r.ok.Load(), time.Since(r.start).Seconds()
				fmt.Fprintf(r.opt.Progress, "bench: %5.1fs  sent %d  accepted %d (%d/s now, %.1f/s so far)  failed %d\n",
					elapsed, r.sent.Load(), ok, ok-last, float64(ok)/elapsed, r.failed.Load())
				last = ok
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// endToEnd reads back a sample of the accepted orders until each is PAID
// (or final) or the deadline passes, and measures createdAt → RESERVED and
// createdAt → PAID from the server's own timestamps.
func (r *runner) endToEnd(ctx context.Context, accepted []result) (*EndToEnd, *EndToEnd) {
	// An even sample over the run, so early and late orders both count.
	n := min(r.opt.E2ESample, len(accepted))
	ids := make([]string, 0, n)
	for k := range n {
		if id := accepted[k*len(accepted)/n].id; id != "" {
			ids = append(ids, id)
		}
	}
	deadline := time.Now().Add(r.opt.E2ETimeout)
	var (
		mu       sync.Mutex
		reserved = map[string]time.Duration{}
		paid     = map[string]time.Duration{}
		paidAt   []time.Time
		final    = map[string]bool{}
		sources  = map[string]int{}
	)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var todo []string
		for _, id := range ids {
			if !final[id] {
				todo = append(todo, id)
			}
		}
		if len(todo) == 0 {
			break
		}
		work := make(chan string)
		var wg sync.WaitGroup
		for range min(8, len(todo)) {
			wg.Go(func() {
				for id := range work {
					var o order
					if err := r.get(ctx, "/orders/"+url.PathEscape(id), &o); err != nil {
						continue
					}
					polled := time.Now()
					mu.Lock()
					if _, ok := reserved[id]; !ok {
						if d, src, ok := reservedAfter(o, polled); ok {
							reserved[id] = d
							sources[src]++
						}
					}
					switch o.Status {
					case "PAID":
						paid[id] = o.UpdatedAt.Sub(o.CreatedAt)
						paidAt = append(paidAt, o.UpdatedAt)
						final[id] = true
					case "REJECTED", "PAYMENT_FAILED":
						final[id] = true
					}
					mu.Unlock()
				}
			})
		}
		for _, id := range todo {
			work <- id
		}
		close(work)
		wg.Wait()
		if len(final) < len(ids) {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
	var src []string
	for s := range sources {
		src = append(src, s)
	}
	slices.Sort(src)
	p := e2e(len(ids), paid, "")
	if len(paidAt) > 1 {
		first, last := slices.MinFunc(paidAt, time.Time.Compare), slices.MaxFunc(paidAt, time.Time.Compare)
		if span := last.Sub(first).Seconds(); span > 0 {
			p.PerSecond = round1(float64(len(paidAt)-1) / span)
		}
	}
	return e2e(len(ids), reserved, strings.Join(src, "+")), p
}

// reservedAfter finds when an order became RESERVED, relative to its
// createdAt: from its history if the API has one, else from the workflow's
// reserve-stock step, else from updatedAt while it is still RESERVED.
func reservedAfter(o order, _ time.Time) (time.Duration, string, bool) {
	for _, h := range o.History {
		if h.Status == "RESERVED" {
			return h.At.Sub(o.CreatedAt), "history", true
		}
	}
	for _, e := range o.Executions {
		for _, s := range e.Steps {
			if s.Name == "reserve-stock" && !s.StartedAt.IsZero() {
				at := s.StartedAt.Add(time.Duration(s.DurationMS * float64(time.Millisecond)))
				return at.Sub(o.CreatedAt), "executions", true
			}
		}
	}
	if o.Status == "RESERVED" {
		return o.UpdatedAt.Sub(o.CreatedAt), "updatedAt", true
	}
	return 0, "", false
}

func e2e(sampled int, m map[string]time.Duration, source string) *EndToEnd {
	d := make([]time.Duration, 0, len(m))
	for _, v := range m {
		d = append(d, v)
	}
	l := Summarize(d)
	return &EndToEnd{Sampled: sampled, Reached: len(d), P50: l.P50, P99: l.P99, Max: l.Max, Source: source}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
