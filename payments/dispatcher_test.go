package payments_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims"
	"github.com/wims/wims/payments"
	"github.com/wims/wims/paymentsmock"
)

// env is a dispatcher wired to a store and a real HTTP server.
type env struct {
	store testStore
	d     *payments.Dispatcher
	url   string
}

// newEnv starts h behind httptest and a dispatcher on it; opt's URL and
// Store are filled in.
func newEnv(tb testing.TB, h http.Handler, opt payments.Options) *env {
	tb.Helper()
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	e := &env{store: newTestStore(tb), url: ts.URL}
	if opt.URL == "" {
		opt.URL = ts.URL
	}
	opt.Store = e.store
	d, err := payments.New(opt)
	if err != nil {
		tb.Fatal(err)
	}
	e.d = d
	return e
}

// fastMock is a mock that never throttles, for tests about other things.
func fastMock(opt paymentsmock.Options) *paymentsmock.Server {
	opt.Rate, opt.Burst = 1e6, 1e6
	return paymentsmock.New(opt)
}

// order stores a RESERVED order and returns its queue message.
func (e *env) order(tb testing.TB, id, customer string) *wims.Message {
	tb.Helper()
	o := e.store.put(tb, wims.Order{ID: id, CustomerID: customer, Status: wims.OrderReserved})
	b, err := payments.EncodeRequest(o)
	if err != nil {
		tb.Fatal(err)
	}
	return &wims.Message{Subject: "payments", Data: b, Delivered: 1,
		Header: map[string]string{wims.HeaderTraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
}

func (e *env) status(tb testing.TB, id string) wims.Order {
	tb.Helper()
	o, err := e.store.GetOrder(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func (e *env) attempts(tb testing.TB, id string) []wims.PaymentAttempt {
	tb.Helper()
	a, err := e.store.PaymentAttempts(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// retryDelay returns the delay of a wims.RetryAfter error, failing otherwise.
func retryDelay(tb testing.TB, err error) time.Duration {
	tb.Helper()
	var ra *wims.RetryAfterError
	if !errors.As(err, &ra) || wims.IsPermanent(err) {
		tb.Fatalf("err=%v, want a RetryAfter error", err)
	}
	return ra.Delay
}

func TestPaidOnceDespiteRedelivery(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	e := newEnv(t, mock, payments.Options{})
	m := e.order(t, "order-1", "123")
	for i := range 5 {
		if err := e.d.Handle(context.Background(), m); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if got := e.status(t, "order-1").Status; got != wims.OrderPaid {
		t.Fatalf("status=%s, want PAID", got)
	}
	if got := mock.Charges("order-1"); got != 1 {
		t.Fatalf("Charges=%d, want 1", got)
	}
	// Once PAID, redeliveries do not even call the API.
	a := e.attempts(t, "order-1")
	if len(a) != 1 || a[0].Outcome != wims.PaymentPaid || a[0].Attempt != 1 || a[0].StatusCode != 200 {
		t.Fatalf("attempts=%+v", a)
	}
}

// TestConcurrentRedelivery hands the same message to several goroutines of
// two dispatchers (as two wims instances would), against a slow API, and
// redelivers whatever asks for a retry.
func TestConcurrentRedelivery(t *testing.T) {
	mock := fastMock(paymentsmock.Options{Latency: 200 * time.Millisecond})
	e := newEnv(t, mock, payments.Options{})
	other, err := payments.New(payments.Options{URL: e.url, Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	m := e.order(t, "order-1", "123")
	var wg sync.WaitGroup
	for i := range 6 {
		d := e.d
		if i%2 == 1 {
			d = other
		}
		wg.Go(func() {
			for {
				err := d.Handle(context.Background(), m)
				if err == nil {
					return
				}
				retryDelay(t, err) // anything else is a bug; redeliver at once
			}
		})
	}
	wg.Wait()
	if got := e.status(t, "order-1").Status; got != wims.OrderPaid {
		t.Fatalf("status=%s, want PAID", got)
	}
	if got := mock.Charges("order-1"); got != 1 {
		t.Fatalf("Charges=%d, want 1", got)
	}
	for _, a := range e.attempts(t, "order-1") {
		if a.Outcome == wims.PaymentDeclined || a.Outcome == wims.PaymentError {
			t.Fatalf("attempt %+v: a duplicate must not count as declined or failed", a)
		}
	}
}

func TestDeclined(t *testing.T) {
	mock := fastMock(paymentsmock.Options{DeclineCustomers: []string{"bad"}})
	e := newEnv(t, mock, payments.Options{})
	m := e.order(t, "order-1", "bad")
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	o := e.status(t, "order-1")
	if o.Status != wims.OrderPaymentFailed || o.Reason != "declined: 402" {
		t.Fatalf("order=%+v, want PAYMENT_FAILED, declined: 402", o)
	}
	a := e.attempts(t, "order-1")
	if len(a) != 1 || a[0].Outcome != wims.PaymentDeclined || a[0].StatusCode != 402 {
		t.Fatalf("attempts=%+v", a)
	}
	if err := e.d.Handle(context.Background(), m); err != nil || len(e.attempts(t, "order-1")) != 1 {
		t.Fatalf("redelivery of a declined payment: err=%v, attempts=%d", err, len(e.attempts(t, "order-1")))
	}
}

func TestFailuresDeadLetter(t *testing.T) {
	mock := fastMock(paymentsmock.Options{FailRate: 1})
	e := newEnv(t, mock, payments.Options{})
	m := e.order(t, "order-1", "123")
	for i := range wims.MaxPaymentFailures {
		err := e.d.Handle(context.Background(), m)
		if d := retryDelay(t, err); d < 100*time.Millisecond || d > 30*time.Second {
			t.Fatalf("attempt %d: delay=%s, want within the 200ms..30s backoff", i+1, d)
		}
	}
	err := e.d.Handle(context.Background(), m)
	if !wims.IsPermanent(err) || !errors.Is(err, payments.ErrTooManyFailures) {
		t.Fatalf("11th delivery: err=%v, want Permanent(ErrTooManyFailures)", err)
	}
	a := e.attempts(t, "order-1")
	if len(a) != wims.MaxPaymentFailures {
		t.Fatalf("recorded %d attempts, want %d", len(a), wims.MaxPaymentFailures)
	}
	for i, at := range a {
		if at.Attempt != i+1 || at.Outcome != wims.PaymentError || at.StatusCode != 500 || at.Error == "" {
			t.Fatalf("attempt %d=%+v", i, at)
		}
	}
	if got := mock.Stats().Failed; got != wims.MaxPaymentFailures {
		t.Fatalf("API called %d times, want %d: the dead-lettering delivery must not call", got, wims.MaxPaymentFailures)
	}
	if got := e.status(t, "order-1").Status; got != wims.OrderReserved {
		t.Fatalf("status=%s, want RESERVED (keeps its stock)", got)
	}
}

// throttler answers the first n requests with status (429 or 503) and the
// Retry-After values in turn, then passes requests to next.
type throttler struct {
	n          int32
	status     int
	retryAfter []string
	next       http.Handler
	calls      atomic.Int32
	times      []time.Time
	mu         sync.Mutex
}

func (h *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := h.calls.Add(1) - 1
	h.mu.Lock()
	h.times = append(h.times, time.Now())
	h.mu.Unlock()
	if i >= h.n {
		h.next.ServeHTTP(w, r)
		return
	}
	if int(i) < len(h.retryAfter) && h.retryAfter[i] != "" {
		w.Header().Set("Retry-After", h.retryAfter[i])
	}
	w.WriteHeader(h.status)
}

func TestThrottledNotCounted(t *testing.T) {
	t.Run("ManyThrottles", func(t *testing.T) {
		// More throttles than MaxPaymentFailures: still paid in the end.
		mock := fastMock(paymentsmock.Options{})
		n := wims.MaxPaymentFailures + 2
		h := &throttler{n: int32(n), status: 429, retryAfter: repeat("0", n), next: mock}
		e := newEnv(t, h, payments.Options{Rate: 1000})
		m := e.order(t, "order-1", "123")
		for i := range n {
			if d := retryDelay(t, e.d.Handle(context.Background(), m)); d != 0 {
				t.Fatalf("throttle %d: delay=%s, want the Retry-After of 0", i+1, d)
			}
		}
		if err := e.d.Handle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		a := e.attempts(t, "order-1")
		if len(a) != n+1 || a[n].Outcome != wims.PaymentPaid || a[0].Outcome != wims.PaymentThrottled || a[0].StatusCode != 429 {
			t.Fatalf("attempts=%+v", a)
		}
		if e.status(t, "order-1").Status != wims.OrderPaid || mock.Charges("order-1") != 1 {
			t.Fatal("not paid exactly once")
		}
	})

	t.Run("RetryAfterPausesEverySender", func(t *testing.T) {
		mock := fastMock(paymentsmock.Options{})
		h := &throttler{n: 2, status: 503, retryAfter: []string{"1", ""}, next: mock}
		e := newEnv(t, h, payments.Options{Rate: 1000})
		m1, m2 := e.order(t, "order-1", "123"), e.order(t, "order-2", "123")
		if d := retryDelay(t, e.d.Handle(context.Background(), m1)); d != time.Second {
			t.Fatalf("delay=%s, want the Retry-After of 1s", d)
		}
		// Another order, right away: it must wait out the pause, then gets
		// a 503 without Retry-After, and falls back to a backoff.
		if d := retryDelay(t, e.d.Handle(context.Background(), m2)); d <= 0 {
			t.Fatalf("delay=%s, want a backoff", d)
		}
		h.mu.Lock()
		gap := h.times[1].Sub(h.times[0])
		h.mu.Unlock()
		if gap < 900*time.Millisecond { // the pause is 1 s; allow for where the clocks were read
			t.Fatalf("second request %s after the throttled one, want >= the 1s Retry-After", gap)
		}
		for _, m := range []*wims.Message{m1, m2} {
			for {
				err := e.d.Handle(context.Background(), m)
				if err == nil {
					break
				}
				retryDelay(t, err)
			}
		}
		if mock.Charges("order-1") != 1 || mock.Charges("order-2") != 1 {
			t.Fatal("not paid exactly once")
		}
	})
}

// TestRetryAfterCappedAtMaxBackoff: a 429 asking for 999999999 s delays
// the payment (and every sender) by --payments-max-backoff at most, and the
// cap is counted in the metrics.
func TestRetryAfterCappedAtMaxBackoff(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	h := &throttler{n: 1, status: 429, retryAfter: []string{"999999999"}, next: mock}
	reg := prometheus.NewRegistry()
	e := newEnv(t, h, payments.Options{Rate: 1000, MaxBackoff: 2 * time.Second, Registry: reg})
	m := e.order(t, "order-1", "123")
	if d := retryDelay(t, e.d.Handle(context.Background(), m)); d != 2*time.Second {
		t.Fatalf("delay=%s, want the 2s cap", d)
	}
	if got := counterValue(t, reg, "wims_payments_retry_after_capped_total"); got != 1 {
		t.Fatalf("capped counter = %v, want 1", got)
	}
}

// counterValue reads a registered counter by name.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestRateNeverExceeded drives 30 payments from 8 goroutines through a
// dispatcher at 5/s into an API limited to 5/s with a burst of 5 that takes
// 300 ms per answer, so the rate can only be kept with several in flight.
//
// The invariant: a token bucket of rate r and burst b lets through at most
// b + r·T requests in any interval of length T. The dispatcher's bucket has
// b = 1, so the API sees at most 1 + 5 = 6 in any closed one-second window
// (5 in a half-open one, less network jitter), well within its own 5 + 5,
// and never answers 429. The test takes about 30/5 = 6 s.
func TestRateNeverExceeded(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 6 s")
	}
	const n, rate, workers = 30, 5, 8
	mock := paymentsmock.New(paymentsmock.Options{Rate: rate, Burst: 5, Latency: 300 * time.Millisecond})
	e := newEnv(t, mock, payments.Options{Rate: rate})
	queue := make(chan *wims.Message, n)
	for i := range n {
		queue <- e.order(t, fmt.Sprintf("order-%02d", i), "123")
	}
	close(queue)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for m := range queue {
				if err := e.d.Handle(context.Background(), m); err != nil {
					t.Errorf("Handle: %v", err)
				}
			}
		})
	}
	wg.Wait()

	st := mock.Stats()
	if st.Throttled != 0 {
		t.Fatalf("API throttled %d requests, want 0", st.Throttled)
	}
	if st.MaxObservedRate > 1+rate {
		t.Fatalf("MaxObservedRate=%d, want <= 1 + %d (dispatcher burst + rate × 1 s)", st.MaxObservedRate, rate)
	}
	if st.Charged != n {
		t.Fatalf("Charged=%d, want %d", st.Charged, n)
	}
	for i := range n {
		id := fmt.Sprintf("order-%02d", i)
		if e.status(t, id).Status != wims.OrderPaid || mock.Charges(id) != 1 {
			t.Fatalf("%s: status=%s charges=%d", id, e.status(t, id).Status, mock.Charges(id))
		}
	}
}

// TestRequest checks what the API receives.
func TestRequest(t *testing.T) {
	var got *http.Request
	var body []byte
	e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r.Clone(context.Background()), must(io.ReadAll(r.Body))
		w.WriteHeader(201)
	}), payments.Options{})
	m := e.order(t, "order-1", "123")
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": "order-1",
		"Traceparent":     m.Header[wims.HeaderTraceParent],
	} {
		if got.Header.Get(h) != want {
			t.Errorf("%s=%q, want %q", h, got.Header.Get(h), want)
		}
	}
	if got.Method != http.MethodPost {
		t.Errorf("method=%s", got.Method)
	}
	req, err := payments.DecodeRequest(body)
	if err != nil || !req.Equal(wims.PaymentRequest{OrderID: "order-1", CustomerID: "123", SKU: plentySKU, Quantity: 3,
		Lines: []wims.OrderLine{{SKU: plentySKU, Quantity: 3}}}) {
		t.Fatalf("body=%s: %+v, %v", body, req, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestTransportErrors(t *testing.T) {
	t.Run("ConnectionRefused", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		secretURL := strings.Replace(dead.URL, "http://", "http://user:hunter2@", 1) + "/pay?token=s3cret"
		e := newEnv(t, http.NotFoundHandler(), payments.Options{URL: secretURL})
		m := e.order(t, "order-1", "cust-42")
		retryDelay(t, e.d.Handle(context.Background(), m))
		a := e.attempts(t, "order-1")
		if len(a) != 1 || a[0].Outcome != wims.PaymentError || a[0].StatusCode != 0 || a[0].Error == "" {
			t.Fatalf("attempts=%+v", a)
		}
		for _, secret := range []string{"hunter2", "s3cret", "cust-42"} {
			if strings.Contains(a[0].Error, secret) {
				t.Fatalf("recorded error %q leaks %q", a[0].Error, secret)
			}
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Reading the body to its end is what lets the server notice
			// that the client hung up.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}), payments.Options{Timeout: 50 * time.Millisecond})
		m := e.order(t, "order-1", "123")
		retryDelay(t, e.d.Handle(context.Background(), m))
		a := e.attempts(t, "order-1")
		if len(a) != 1 || a[0].Outcome != wims.PaymentError || !strings.Contains(a[0].Error, "timed out") {
			t.Fatalf("attempts=%+v", a)
		}
	})
	t.Run("CanceledIsNotAFailure", func(t *testing.T) {
		started := make(chan struct{})
		e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			close(started)
			<-r.Context().Done()
		}), payments.Options{})
		m := e.order(t, "order-1", "123")
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		if err := e.d.Handle(ctx, m); !errors.Is(err, context.Canceled) {
			t.Fatalf("err=%v, want context.Canceled", err)
		}
		if a := e.attempts(t, "order-1"); len(a) != 0 {
			t.Fatalf("attempts=%+v, want none: shutting down is not the API failing", a)
		}
	})
}

func TestHandleWithoutCall(t *testing.T) {
	var calls atomic.Int32
	e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }), payments.Options{})

	t.Run("Malformed", func(t *testing.T) {
		for _, b := range []string{``, `{`, `[]`, `{"customerId":"1"}`, `{"orderId":""}`, `{"orderId":"a"}x`} {
			if err := e.d.Handle(context.Background(), &wims.Message{Data: []byte(b)}); !wims.IsPermanent(err) {
				t.Errorf("body %q: err=%v, want Permanent", b, err)
			}
		}
	})
	t.Run("UnknownOrder", func(t *testing.T) {
		err := e.d.Handle(context.Background(), &wims.Message{Data: []byte(`{"orderId":"nope"}`)})
		if !wims.IsPermanent(err) {
			t.Fatalf("err=%v, want Permanent", err)
		}
	})
	message := func(o wims.Order) *wims.Message {
		b, err := payments.EncodeRequest(o)
		if err != nil {
			t.Fatal(err)
		}
		return &wims.Message{Data: b, Delivered: 1}
	}
	t.Run("Pending", func(t *testing.T) {
		o := e.store.put(t, wims.Order{ID: "order-p", CustomerID: "123", Status: wims.OrderPending})
		retryDelay(t, e.d.Handle(context.Background(), message(o)))
	})
	t.Run("Final", func(t *testing.T) {
		for _, s := range []wims.OrderStatus{wims.OrderPaid, wims.OrderPaymentFailed, wims.OrderRejected} {
			o := e.store.put(t, wims.Order{ID: "order-" + string(s), CustomerID: "123", Status: s})
			if err := e.d.Handle(context.Background(), message(o)); err != nil {
				t.Fatalf("%s: err=%v", s, err)
			}
		}
	})
	// A crash after recording a final answer but before completing the order:
	// the redelivery completes it from the record, without calling again.
	t.Run("AnsweredBeforeCrash", func(t *testing.T) {
		for _, tc := range []struct {
			outcome wims.PaymentOutcome
			want    wims.OrderStatus
		}{{wims.PaymentPaid, wims.OrderPaid}, {wims.PaymentDeclined, wims.OrderPaymentFailed}} {
			o := e.store.put(t, wims.Order{ID: "order-crash-" + string(tc.outcome), CustomerID: "123", Status: wims.OrderReserved})
			if err := e.store.RecordPaymentAttempt(context.Background(), wims.PaymentAttempt{
				OrderID: o.ID, Attempt: 1, Outcome: tc.outcome, StatusCode: 200, At: time.Now(),
			}); err != nil {
				t.Fatal(err)
			}
			if err := e.d.Handle(context.Background(), message(o)); err != nil {
				t.Fatal(err)
			}
			if got := e.status(t, o.ID).Status; got != tc.want {
				t.Fatalf("after a recorded %s answer: order %s, want %s", tc.outcome, got, tc.want)
			}
			if n := len(e.attempts(t, o.ID)); n != 1 {
				t.Fatalf("%d attempts recorded, want the one from before the crash", n)
			}
		}
	})
	if calls.Load() != 0 {
		t.Fatalf("API called %d times", calls.Load())
	}
}

func TestNewValidates(t *testing.T) {
	store := newTestStore(t)
	for _, opt := range []payments.Options{
		{URL: "http://127.0.0.1:1/"},
		{URL: "", Store: store},
		{URL: "127.0.0.1:8080", Store: store},
		{URL: "ftp://x/", Store: store},
	} {
		if _, err := payments.New(opt); wims.ErrorCode(err) != wims.EINVALID {
			t.Errorf("New(%+v): err=%v, want EINVALID", opt, err)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	mock := fastMock(paymentsmock.Options{})
	e := newEnv(t, mock, payments.Options{Registry: reg})
	// A second dispatcher on the same registry shares the collectors.
	if _, err := payments.New(payments.Options{URL: e.url, Store: e.store, Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Handle(context.Background(), e.order(t, "order-1", "123")); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		seen[mf.GetName()] = true
		if mf.GetName() == "wims_payments_requests_total" {
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == "paid" && m.GetCounter().GetValue() != 1 {
					t.Errorf("paid=%v, want 1", m.GetCounter().GetValue())
				}
			}
		}
	}
	for _, name := range []string{"wims_payments_requests_total", "wims_payments_request_duration_seconds", "wims_payments_rate_limit_wait_seconds"} {
		if !seen[name] {
			t.Errorf("metric %s missing", name)
		}
	}
}

// TestStartTermHoldsOffOneSecond: a dispatcher that just became the sender
// sends nothing for a second, so its first requests cannot join the last
// second of a previous leader's.
func TestStartTermHoldsOffOneSecond(t *testing.T) {
	mock := fastMock(paymentsmock.Options{})
	var first time.Time
	var once sync.Once
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { first = time.Now() })
		mock.ServeHTTP(w, r)
	})
	e := newEnv(t, h, payments.Options{Rate: 1000})
	m := e.order(t, "order-1", "123")
	start := time.Now()
	e.d.StartTerm(start)
	if err := e.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if gap := first.Sub(start); gap < time.Second {
		t.Fatalf("first request %s after the term started, want >= 1s", gap)
	}
}
