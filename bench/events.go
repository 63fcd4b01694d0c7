package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// EventsOptions configures `wims bench events`: PutEvents through the
// EventBridge wire API of a running wims, with Rules rules on a bus of its
// own and one of them delivering to an API destination served by the bench
// itself, which measures put → delivery latency.
type EventsOptions struct {
	// URL is the wims API (the wire API is POST / on the same port). Required.
	URL string
	// Rules on the bench's bus (default 10); one matches every event.
	Rules int
	// Rate, if > 0, is an open loop of single-entry PutEvents at Rate
	// events/s (latency mode). 0: closed loop of Concurrency workers each
	// sending BatchSize entries per request (throughput mode).
	Rate        float64
	Concurrency int
	BatchSize   int
	Duration    time.Duration
	// Drain bounds the wait for deliveries after the last put (default 30s).
	Drain time.Duration
	// Settle is a pause between creating the rules and the load (default
	// 5s): the setup's own resource changes are events too (on the default
	// bus, into the event log), and the load should not compete with them.
	Settle time.Duration
	// SinkAddr is where the bench's receiver listens (default 127.0.0.1:0);
	// wims must be able to reach it.
	SinkAddr string
	Progress io.Writer
}

// EventsReport is the outcome of an events run.
type EventsReport struct {
	Mode string `json:"mode"`
	// Interrupted reports a run cut short by its context (Ctrl-C): the
	// figures cover the load until then, deliveries not waited for.
	Interrupted bool    `json:"interrupted,omitempty"`
	Rules       int     `json:"rules"`
	TargetRate  float64 `json:"targetRate,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	BatchSize   int     `json:"batchSize"`
	Seconds     float64 `json:"seconds"`
	// Entries counts entries accepted (with an event id), Failed those
	// refused per entry or in failed requests.
	Entries      int     `json:"entries"`
	Failed       int     `json:"failed"`
	EntriesPerS  float64 `json:"entriesPerSecond"`
	PutLatency   Latency `json:"putLatency"`
	Delivered    int     `json:"delivered"`
	DeliveryTime Latency `json:"putToDelivery"`
}

// RunEvents sets up the bench's bus, rules and API destination, runs the
// load, waits for the deliveries and removes what it created.
func RunEvents(ctx context.Context, opt EventsOptions) (*EventsReport, error) {
	if opt.URL == "" {
		return nil, fmt.Errorf("bench: --url is required")
	}
	if opt.Rules <= 0 {
		opt.Rules = 10
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.BatchSize <= 0 || opt.BatchSize > 10 {
		opt.BatchSize = 10
	}
	if opt.Rate > 0 {
		opt.BatchSize = 1
	}
	if opt.Duration <= 0 {
		opt.Duration = 10 * time.Second
	}
	if opt.Drain <= 0 {
		opt.Drain = 30 * time.Second
	}
	if opt.Settle == 0 {
		opt.Settle = 5 * time.Second
	}
	if opt.SinkAddr == "" {
		opt.SinkAddr = "127.0.0.1:0"
	}
	w := &wire{url: opt.URL, http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}}
	sink, err := newSink(opt.SinkAddr)
	if err != nil {
		return nil, err
	}
	defer sink.close()

	bus := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	names, err := setupEvents(ctx, w, bus, sink.url, opt.Rules)
	defer teardownEvents(context.WithoutCancel(ctx), w, bus, names)
	if err != nil {
		return nil, err
	}

	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(max(opt.Settle, 0)):
	}
	rep := &EventsReport{Rules: opt.Rules, BatchSize: opt.BatchSize}
	var (
		mu       sync.Mutex
		putLat   []time.Duration
		entries  atomic.Int64
		failed   atomic.Int64
		sequence atomic.Int64
	)
	put := func(ctx context.Context, scheduled time.Time) {
		batch := make([]map[string]any, opt.BatchSize)
		for i := range batch {
			n := sequence.Add(1)
			detail, _ := json.Marshal(map[string]any{"n": n, "sentAt": time.Now().UnixNano()})
			batch[i] = map[string]any{"EventBusName": bus, "Source": "bench", "DetailType": "tick", "Detail": string(detail)}
		}
		var out struct {
			FailedEntryCount int
			Entries          []struct {
				EventID string `json:"EventId"`
			}
		}
		err := w.call(ctx, "PutEvents", map[string]any{"Entries": batch}, &out)
		took := time.Since(scheduled)
		if err != nil {
			failed.Add(int64(len(batch)))
			return
		}
		entries.Add(int64(len(batch) - out.FailedEntryCount))
		failed.Add(int64(out.FailedEntryCount))
		mu.Lock()
		putLat = append(putLat, took)
		mu.Unlock()
	}

	start := time.Now()
	stopProgress := eventsProgress(opt.Progress, &entries, sink)
	runCtx, cancel := context.WithTimeout(ctx, opt.Duration)
	if opt.Rate > 0 {
		rep.Mode, rep.TargetRate = "open", opt.Rate
		interval := time.Duration(float64(time.Second) / opt.Rate)
		var wg sync.WaitGroup
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				select {
				case <-runCtx.Done():
				case <-time.After(d):
				}
			}
			if runCtx.Err() != nil {
				break
			}
			wg.Add(1)
			go func() { defer wg.Done(); put(ctx, at) }()
		}
		wg.Wait()
	} else {
		rep.Mode, rep.Concurrency = "closed", opt.Concurrency
		var wg sync.WaitGroup
		for range opt.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for runCtx.Err() == nil {
					put(ctx, time.Now())
				}
			}()
		}
		wg.Wait()
	}
	cancel()
	elapsed := time.Since(start)
	rep.Seconds = round3(elapsed.Seconds())
	rep.Entries, rep.Failed = int(entries.Load()), int(failed.Load())
	rep.EntriesPerS = round1(float64(rep.Entries) / elapsed.Seconds())
	rep.PutLatency = Summarize(putLat)

	deadline := time.Now().Add(opt.Drain)
	for sink.count() < rep.Entries && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	stopProgress()
	lat := sink.latencies()
	rep.Delivered = len(lat)
	rep.DeliveryTime = Summarize(lat)
	if ctx.Err() != nil {
		rep.Interrupted = true
		return rep, fmt.Errorf("%w after %.1fs of load: %w", ErrInterrupted, rep.Seconds, context.Cause(ctx))
	}
	if rep.Delivered < rep.Entries {
		return rep, fmt.Errorf("bench: %d of %d accepted events delivered within %s", rep.Delivered, rep.Entries, opt.Drain)
	}
	return rep, nil
}

// setupEvents creates the bus, a no-auth connection, the API destination
// pointing at the sink and the rules; it returns the rule names.
func setupEvents(ctx context.Context, w *wire, bus, sinkURL string, rules int) ([]string, error) {
	steps := []struct {
		op string
		in map[string]any
	}{
		{"CreateEventBus", map[string]any{"Name": bus}},
		{"CreateConnection", map[string]any{"Name": bus, "AuthorizationType": "API_KEY",
			"AuthParameters": map[string]any{"ApiKeyAuthParameters": map[string]any{"ApiKeyName": "X-Bench", "ApiKeyValue": "bench"}}}},
		{"CreateApiDestination", map[string]any{"Name": bus, "ConnectionArn": "arn:aws:events:local:000000000000:connection/" + bus,
			"InvocationEndpoint": sinkURL, "HttpMethod": "POST", "InvocationRateLimitPerSecond": 1_000_000}},
	}
	for _, s := range steps {
		if err := w.call(ctx, s.op, s.in, nil); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", s.op, err)
		}
	}
	var names []string
	target := []map[string]any{{"Id": "sink", "Arn": "arn:aws:events:local:000000000000:api-destination/" + bus}}
	for i := range rules {
		name := fmt.Sprintf("rule-%04d", i)
		pattern := `{"source":["bench"],"detail-type":["tick"]}`
		if i > 0 { // the others look at the same events and never match
			pattern = fmt.Sprintf(`{"source":["bench"],"detail-type":["tick-%d"],"detail":{"n":[{"numeric":[">",%d]}]}}`, i, i)
		}
		if err := w.call(ctx, "PutRule", map[string]any{"Name": name, "EventBusName": bus, "EventPattern": pattern}, nil); err != nil {
			return names, fmt.Errorf("bench: PutRule: %w", err)
		}
		names = append(names, name)
		if err := w.call(ctx, "PutTargets", map[string]any{"Rule": name, "EventBusName": bus, "Targets": target}, nil); err != nil {
			return names, fmt.Errorf("bench: PutTargets: %w", err)
		}
	}
	return names, nil
}

func teardownEvents(ctx context.Context, w *wire, bus string, rules []string) {
	for _, r := range rules {
		_ = w.call(ctx, "DeleteRule", map[string]any{"Name": r, "EventBusName": bus, "Force": true}, nil)
	}
	_ = w.call(ctx, "DeleteApiDestination", map[string]any{"Name": bus}, nil)
	_ = w.call(ctx, "DeleteConnection", map[string]any{"Name": bus}, nil)
	_ = w.call(ctx, "DeleteEventBus", map[string]any{"Name": bus}, nil)
}

// wire calls the EventBridge JSON 1.1 API, unsigned (wims without API keys).
type wire struct {
	url  string
	http *http.Client
}

func (w *wire) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSEvents."+op)
	resp, err := w.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", op, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// sink is the API destination's receiver: it reads detail.sentAt from each
// delivered event and records how long the event took.
type sink struct {
	srv *http.Server
	url string
	mu  sync.Mutex
	lat []time.Duration
	n   atomic.Int64
}

func newSink(addr string) (*sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bench: sink: %w", err)
	}
	s := &sink{url: "http://" + ln.Addr().String() + "/deliveries"}
	s.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Detail struct {
				SentAt int64 `json:"sentAt"`
			} `json:"detail"`
		}
		err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev)
		now := time.Now()
		if err == nil && ev.Detail.SentAt > 0 {
			s.mu.Lock()
			s.lat = append(s.lat, now.Sub(time.Unix(0, ev.Detail.SentAt)))
			s.mu.Unlock()
			s.n.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) count() int { return int(s.n.Load()) }

func (s *sink) latencies() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.lat...)
}

func (s *sink) close() { _ = s.srv.Close() }

// eventsProgress prints a line every second until the returned func is called.
func eventsProgress(w io.Writer, entries *atomic.Int64, s *sink) func() {
	start := time.Now()
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n, elapsed := entries.Load(), time.Since(start).Seconds()
				fmt.Fprintf(w, "bench events: %5.1fs  put %d (%.0f/s so far), delivered %d\n", elapsed, n, float64(n)/elapsed, s.count())
			}
		}
	}()
	return func() { close(done) }
}

// WriteEventsText prints an events report for people.
func WriteEventsText(w io.Writer, r *EventsReport) error {
	if r.Interrupted {
		if _, err := fmt.Fprintf(w, "interrupted: partial report (%.1fs of load); deliveries not waited for\n", r.Seconds); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, `mode %s, %d rules, batch %d
accepted %d entries in %.1fs: %.0f entries/s (%d failed)
put latency        p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms
put → delivery     p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (%d delivered)
`, r.Mode, r.Rules, r.BatchSize, r.Entries, r.Seconds, r.EntriesPerS, r.Failed,
		r.PutLatency.P50, r.PutLatency.P90, r.PutLatency.P99, r.PutLatency.Max,
		r.DeliveryTime.P50, r.DeliveryTime.P90, r.DeliveryTime.P99, r.DeliveryTime.Max, r.Delivered)
	return err
}
