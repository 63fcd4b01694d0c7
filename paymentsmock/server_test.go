package paymentsmock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims/paymentsmock"
)

// clock is a settable clock, so token-bucket tests do not depend on how fast
// the machine is.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mustServe runs s behind a real HTTP server for the test's lifetime.
func mustServe(tb testing.TB, s *paymentsmock.Server) string {
	tb.Helper()
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return ts.URL
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// post sends one request; key "" sends no Idempotency-Key.
func post(tb testing.TB, url, key, body string) answer {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func payment(orderID string) string {
	return fmt.Sprintf(`{"orderId":%q,"customerId":"123","sku":"MACGUFFIN-LX","quantity":3}`, orderID)
}

// problemOf decodes and checks a problem+json answer.
func problemOf(tb testing.TB, a answer) map[string]any {
	tb.Helper()
	if got, want := a.header.Get("Content-Type"), "application/problem+json"; got != want {
		tb.Fatalf("Content-Type=%q, want %q", got, want)
	}
	var p map[string]any
	if err := json.Unmarshal(a.body, &p); err != nil {
		tb.Fatalf("problem body %q: %v", a.body, err)
	}
	if p["status"] != float64(a.status) || !strings.HasPrefix(p["type"].(string), "https://") {
		tb.Fatalf("problem=%v for status %d", p, a.status)
	}
	return p
}

func TestRateLimit(t *testing.T) {
	c := newClock()
	s := paymentsmock.New(paymentsmock.Options{Rate: 5, Burst: 5, Now: c.Now})
	url := mustServe(t, s)

	t.Run("SixthOfBurstThrottled", func(t *testing.T) {
		for i := range 5 {
			if a := post(t, url, fmt.Sprint("o", i), payment(fmt.Sprint("o", i))); a.status != http.StatusOK {
				t.Fatalf("request %d: status=%d, want 200", i, a.status)
			}
		}
		a := post(t, url, "o5", payment("o5"))
		if a.status != http.StatusTooManyRequests {
			t.Fatalf("6th: status=%d, want 429", a.status)
		}
		problemOf(t, a)
		ra, err := strconv.Atoi(a.header.Get("Retry-After"))
		if err != nil || ra < 1 {
			t.Fatalf("Retry-After=%q, want an integer >= 1", a.header.Get("Retry-After"))
		}
		if got := s.Charges("o5"); got != 0 {
			t.Fatalf("throttled order charged %d times", got)
		}
	})

	t.Run("ThrottledKeyNotRemembered", func(t *testing.T) {
		c.Advance(time.Second)
		a := post(t, url, "o5", payment("o5"))
		if a.status != http.StatusOK || a.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("retry after throttle: status=%d replayed=%q, want a fresh 200", a.status, a.header.Get("Idempotent-Replayed"))
		}
		st := s.Stats()
		if st.Throttled != 1 || st.Charged != 6 || st.Charges["o5"] != 1 {
			t.Fatalf("stats=%+v", st)
		}
	})
}

// TestMaxObservedRate checks the token bucket's invariant: in any closed
// one-second window it admits at most Burst + Rate·1s requests — not Burst,
// because the bucket refills while it is being drained.
func TestMaxObservedRate(t *testing.T) {
	c := newClock()
	s := paymentsmock.New(paymentsmock.Options{Rate: 5, Burst: 5, Now: c.Now})
	url := mustServe(t, s)
	for i := range 300 { // 3 s of a client hammering every 10 ms
		post(t, url, fmt.Sprint("k", i), payment(fmt.Sprint("o", i)))
		c.Advance(10 * time.Millisecond)
	}
	st := s.Stats()
	if st.MaxObservedRate > 5+5 {
		t.Fatalf("MaxObservedRate=%d, want <= Burst+Rate = 10", st.MaxObservedRate)
	}
	if st.MaxObservedRate <= 5 {
		t.Fatalf("MaxObservedRate=%d: a full bucket drained for 1 s admits more than its burst", st.MaxObservedRate)
	}
	if st.Throttled == 0 || st.Accepted+st.Throttled != 300 {
		t.Fatalf("stats=%+v", st)
	}
}

func TestIdempotentReplay(t *testing.T) {
	s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000})
	url := mustServe(t, s)

	first := post(t, url, "order-1", payment("order-1"))
	if first.status != http.StatusOK {
		t.Fatalf("status=%d body=%s", first.status, first.body)
	}
	var r map[string]any
	if err := json.Unmarshal(first.body, &r); err != nil {
		t.Fatal(err)
	}
	if r["status"] != "PAID" || r["orderId"] != "order-1" || r["paymentId"] == "" || r["amount"] == nil {
		t.Fatalf("receipt=%v", r)
	}

	for range 3 {
		again := post(t, url, "order-1", payment("order-1"))
		if again.status != http.StatusOK || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: status=%d Idempotent-Replayed=%q", again.status, again.header.Get("Idempotent-Replayed"))
		}
		if !bytes.Equal(again.body, first.body) {
			t.Fatalf("replay body=%s, want %s", again.body, first.body)
		}
	}
	if got := s.Charges("order-1"); got != 1 {
		t.Fatalf("Charges=%d, want 1", got)
	}
	if st := s.Stats(); st.Duplicates != 3 || st.Charged != 1 {
		t.Fatalf("stats=%+v", st)
	}

	t.Run("KeyReusedWithOtherRequest", func(t *testing.T) {
		a := post(t, url, "order-1", payment("order-2"))
		if a.status != http.StatusUnprocessableEntity {
			t.Fatalf("status=%d, want 422", a.status)
		}
		problemOf(t, a)
		if s.Charges("order-2") != 0 {
			t.Fatal("order-2 charged")
		}
	})
}

func TestInFlightDuplicate(t *testing.T) {
	s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000, Latency: 2 * time.Second})
	url := mustServe(t, s)

	done := make(chan answer, 1)
	go func() { done <- post(t, url, "order-1", payment("order-1")) }()
	waitFor(t, 10*time.Second, func() bool { return s.Stats().InFlight == 1 })

	a := post(t, url, "order-1", payment("order-1"))
	if a.status != http.StatusConflict {
		t.Fatalf("duplicate in flight: status=%d, want 409", a.status)
	}
	problemOf(t, a)
	if first := <-done; first.status != http.StatusOK {
		t.Fatalf("first: status=%d", first.status)
	}
	if got := s.Charges("order-1"); got != 1 {
		t.Fatalf("Charges=%d, want 1", got)
	}
}

func TestValidation(t *testing.T) {
	s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000})
	url := mustServe(t, s)
	for _, tc := range []struct {
		name, key, body string
		status          int
		field           string
	}{
		{"NoKey", "", payment("o1"), 400, "Idempotency-Key"},
		{"LongKey", strings.Repeat("k", 256), payment("o1"), 400, "Idempotency-Key"},
		{"NotJSON", "k", `orderId=o1`, 400, ""},
		{"Empty", "k", ``, 400, ""},
		{"Array", "k", `[]`, 400, ""},
		{"Trailing", "k", payment("o1") + `{}`, 400, ""},
		{"NoOrderID", "k", `{"customerId":"1","sku":"A","quantity":1}`, 400, "orderId"},
		{"NoCustomer", "k", `{"orderId":"o","sku":"A","quantity":1}`, 400, "customerId"},
		{"NoSKU", "k", `{"orderId":"o","customerId":"1","quantity":1}`, 400, "sku"},
		{"ZeroQuantity", "k", `{"orderId":"o","customerId":"1","sku":"A","quantity":0}`, 400, "quantity"},
		{"NegativeQuantity", "k", `{"orderId":"o","customerId":"1","sku":"A","quantity":-2}`, 400, "quantity"},
		{"StringQuantity", "k", `{"orderId":"o","customerId":"1","sku":"A","quantity":"2"}`, 400, ""},
		{"TooLarge", "k", `{"orderId":"` + strings.Repeat("x", paymentsmock.MaxBodyBytes) + `"}`, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, url, tc.key, tc.body)
			if a.status != tc.status {
				t.Fatalf("status=%d, want %d (%s)", a.status, tc.status, a.body)
			}
			p := problemOf(t, a)
			if tc.field != "" && p["field"] != tc.field {
				t.Fatalf("field=%v, want %q", p["field"], tc.field)
			}
		})
	}
	if st := s.Stats(); st.Charged != 0 || len(st.Charges) != 0 {
		t.Fatalf("invalid requests charged: %+v", st)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := paymentsmock.New(paymentsmock.Options{})
	url := mustServe(t, s)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a := answer{resp.StatusCode, resp.Header, b}
	if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != http.MethodPost {
		t.Fatalf("status=%d Allow=%q", a.status, a.header.Get("Allow"))
	}
	problemOf(t, a)
}

func TestDecline(t *testing.T) {
	s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000, DeclineCustomers: []string{"123"}})
	url := mustServe(t, s)
	a := post(t, url, "o1", payment("o1"))
	if a.status != http.StatusPaymentRequired {
		t.Fatalf("status=%d, want 402", a.status)
	}
	problemOf(t, a)
	again := post(t, url, "o1", payment("o1"))
	if again.status != http.StatusPaymentRequired || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed decline: status=%d replayed=%q", again.status, again.header.Get("Idempotent-Replayed"))
	}
	if st := s.Stats(); st.Declined != 1 || st.Charged != 0 {
		t.Fatalf("stats=%+v", st)
	}
}

func TestFailRate(t *testing.T) {
	t.Run("AlwaysFails", func(t *testing.T) {
		s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000, FailRate: 1})
		url := mustServe(t, s)
		for range 3 { // the same key: failures are not remembered, each is processed anew
			if a := post(t, url, "o1", payment("o1")); a.status != http.StatusInternalServerError {
				t.Fatalf("status=%d, want 500", a.status)
			}
		}
		if st := s.Stats(); st.Failed != 3 || st.Duplicates != 0 || st.Charged != 0 {
			t.Fatalf("stats=%+v", st)
		}
	})
	t.Run("SameSeedSameFailures", func(t *testing.T) {
		run := func() string {
			s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000, FailRate: 0.5, Seed: 42})
			url := mustServe(t, s)
			var out strings.Builder
			for i := range 40 {
				fmt.Fprint(&out, post(t, url, fmt.Sprint("k", i), payment(fmt.Sprint("o", i))).status/100)
			}
			return out.String()
		}
		a, b := run(), run()
		if a != b || !strings.Contains(a, "2") || !strings.Contains(a, "5") {
			t.Fatalf("runs %s and %s: want equal, mixing 2xx and 5xx", a, b)
		}
	})
}

func TestListenAndServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, addr, err := paymentsmock.ListenAndServe(ctx, ":0", paymentsmock.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if !strings.HasPrefix(addr.String(), "127.0.0.1:") {
		t.Fatalf("addr=%s, want loopback", addr)
	}
	url := "http://" + addr.String() + "/"
	if a := post(t, url, "o1", payment("o1")); a.status != http.StatusOK {
		t.Fatalf("status=%d", a.status)
	}
	if got := srv.Handler.(*paymentsmock.Server).Charges("o1"); got != 1 {
		t.Fatalf("Charges=%d", got)
	}
	cancel()
	waitFor(t, 10*time.Second, func() bool {
		resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
}

// waitFor polls cond until it holds, failing the test at the deadline.
func waitFor(tb testing.TB, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAmountLines: a charge and its refund cost Σ quantity × unit price over
// the request's lines; a line out of bounds is a 400 at its field.
func TestAmountLines(t *testing.T) {
	s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000})
	url := mustServe(t, s)
	body := `{"orderId":"o-1","customerId":"1","sku":"A","quantity":5,"lines":[{"sku":"A","quantity":2},{"sku":"B","quantity":3}]}`
	for _, path := range []string{"", "/refunds"} {
		a := post(t, url+path, "k"+path, body)
		var r map[string]any
		if err := json.Unmarshal(a.body, &r); err != nil || a.status != http.StatusOK || r["amount"] != 5*1999.0 {
			t.Fatalf("%q: status=%d body=%s, want amount %d", path, a.status, a.body, 5*1999)
		}
	}
	bad := post(t, url, "k2", `{"orderId":"o-2","customerId":"1","sku":"A","quantity":1,"lines":[{"sku":"A","quantity":0}]}`)
	if p := problemOf(t, bad); bad.status != http.StatusBadRequest || p["field"] != "lines[0].quantity" {
		t.Fatalf("status=%d problem=%v", bad.status, p)
	}
}
