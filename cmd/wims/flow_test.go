package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/internal/smtptest"
	"github.com/wims/wims/paymentsmock"
)

// TestPoisonPaymentDeadLettersAfterTenAttempts points wims at a payments API
// that always fails: the payment is tried exactly 10 times, then lands in the
// dead-letter stream, visible; the order keeps its stock and stays RESERVED.
func TestPoisonPaymentDeadLettersAfterTenAttempts(t *testing.T) {
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(api.Close)
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = api.URL
		c.PaymentsMaxBackoff = 20 * time.Millisecond
	})
	a.putItem("POISON", 50, 5)
	o := a.placeOrder("p1", 7, "POISON")

	var dl []deadLetter
	eventually(t, 60*time.Second, func() error {
		code, body := a.do("GET", "/dead-letters", nil)
		if code != http.StatusOK {
			return fmt.Errorf("GET /dead-letters = %d %s", code, body)
		}
		var resp struct{ DeadLetters []deadLetter }
		if err := json.Unmarshal(body, &resp); err != nil {
			return err
		}
		if dl = resp.DeadLetters; len(dl) == 0 {
			return fmt.Errorf("no dead letter yet (%d API calls)", calls.Load())
		}
		return nil
	})
	if len(dl) != 1 || dl[0].Consumer == "" {
		t.Fatalf("dead letters = %+v, want one", dl)
	}
	var req wims.PaymentRequest
	if err := json.Unmarshal(dl[0].Message, &req); err != nil || req.OrderID != o.ID {
		t.Fatalf("dead letter holds %s (%v), want the payment of %s", dl[0].Message, err, o.ID)
	}
	if n := calls.Load(); n != wims.MaxPaymentFailures {
		t.Fatalf("payments API called %d times, want exactly %d", n, wims.MaxPaymentFailures)
	}
	got := a.order(o.ID)
	if got.Status != wims.OrderReserved || len(got.Payments) != wims.MaxPaymentFailures {
		t.Fatalf("order %s with %d attempts, want RESERVED with %d", got.Status, len(got.Payments), wims.MaxPaymentFailures)
	}
	if q := a.item("POISON").Quantity; q != 43 {
		t.Fatalf("stock = %d, want 43: a dead-lettered payment keeps its stock", q)
	}
}

type deadLetter struct {
	Seq      uint64
	Consumer string
	Reason   string
	Attempts int
	Message  json.RawMessage
}

// webhookSink records notifications, answering 500 to the first few so
// delivery has to retry.
type webhookSink struct {
	mu       sync.Mutex
	received []wims.Notification
	failures int
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures > 0 {
		s.failures--
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	var n wims.Notification
	if err := json.Unmarshal(body, &n); err == nil {
		s.received = append(s.received, n)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *webhookSink) kinds() map[wims.NotificationKind]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[wims.NotificationKind]int{}
	for _, n := range s.received {
		m[n.Kind]++
	}
	return m
}

// TestOneNotificationPerCrossing drives a SKU across its threshold and to 0,
// back up and down again, with a webhook that fails at first: each crossing
// is reported exactly once, with the DESIGN's shape.
func TestOneNotificationPerCrossing(t *testing.T) {
	sink := &webhookSink{failures: 2}
	hook := httptest.NewServer(sink)
	t.Cleanup(hook.Close)
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		c.NotifyWebhooks = []string{hook.URL}
	})
	a.putItem("LOWS", 120, 100)
	adjust := func(delta int64) {
		t.Helper()
		code, body := a.do("POST", "/inventory/LOWS/adjustments", map[string]any{"delta": delta, "reason": "test"})
		if code != http.StatusOK {
			t.Fatalf("adjust %d = %d %s", delta, code, body)
		}
	}
	waitKinds := func(low, out int) {
		t.Helper()
		eventually(t, 30*time.Second, func() error {
			k := sink.kinds()
			if k[wims.LowStock] > low || k[wims.OutOfStock] > out {
				t.Fatalf("notifications = %v, want at most %d LOW_STOCK and %d OUT_OF_STOCK", k, low, out)
			}
			if k[wims.LowStock] != low || k[wims.OutOfStock] != out {
				return fmt.Errorf("notifications = %v, want %d LOW_STOCK and %d OUT_OF_STOCK", k, low, out)
			}
			return nil
		})
	}
	adjust(-10) // 110: above the threshold, nothing
	adjust(-15) // 95: crossed
	adjust(-5)  // 90: still below, nothing new
	waitKinds(1, 0)
	o := a.placeOrder("c", 90, "LOWS") // 0: out of stock
	waitStatus(t, a, o.ID, wims.OrderPaid)
	waitKinds(1, 1)
	adjust(500)  // 500: back above
	adjust(-450) // 50: crossed again
	waitKinds(2, 1)

	sink.mu.Lock()
	defer sink.mu.Unlock()
	ids := map[string]bool{}
	for _, n := range sink.received {
		if ids[n.ID] {
			t.Fatalf("notification %s delivered twice", n.ID)
		}
		ids[n.ID] = true
		if n.SKU != "LOWS" || len(n.Event) == 0 {
			t.Fatalf("notification = %+v", n)
		}
		if n.Kind == wims.LowStock && n.Threshold != 100 {
			t.Fatalf("LOW_STOCK threshold = %d, want 100", n.Threshold)
		}
	}
	first := sink.received[0]
	if first.Quantity != 95 {
		t.Fatalf("first crossing reported quantity %d, want 95", first.Quantity)
	}
}

// TestPaymentsRateNeverExceeded runs the course's setting: the payments API
// allows 5 requests/s with a burst of 5 and answers 429 beyond; a burst of
// orders is accepted at once and paid at the API's pace, with no 429.
func TestPaymentsRateNeverExceeded(t *testing.T) {
	mock, payURL := fastPayments(t, paymentsmock.Options{Rate: 5, Burst: 5})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		c.PaymentsRate = 5
	})
	const n = 15
	ids := make([]string, n)
	for i := range n {
		ids[i] = a.placeOrder(fmt.Sprintf("r%d", i), 1, "").ID
	}
	for _, id := range ids {
		waitStatus(t, a, id, wims.OrderPaid)
	}
	st := mock.Stats()
	if st.Throttled != 0 {
		t.Fatalf("payments API answered 429 %d times; the dispatcher exceeded its rate", st.Throttled)
	}
	for _, id := range ids {
		if c := mock.Charges(id); c != 1 {
			t.Fatalf("order %s charged %d times", id, c)
		}
	}
}

// TestBacklogIsVisible: a dead letter and consumer backlogs show in /metrics.
func TestBacklogIsVisible(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	t.Cleanup(api.Close)
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = api.URL
		c.PaymentsMaxBackoff = 10 * time.Millisecond
	})
	a.placeOrder("m", 1, "")
	eventually(t, 60*time.Second, func() error {
		_, body := a.do("GET", "/metrics", nil)
		for _, want := range []string{"wims_dead_letters 1", `wims_consumer_pending_messages{consumer="target-order-workflow"}`,
			`wims_consumer_ack_pending_messages{consumer="payments-dispatcher"}`,
			`wims_consumer_backlog_age_seconds{consumer="platform-deliveries"}`} {
			if !bytes.Contains(body, []byte(want)) {
				return fmt.Errorf("/metrics lacks %q", want)
			}
		}
		return nil
	})
}

// TestDeadLetterCLI: a poison payment is listed by `wims dead-letters list`
// and, once the payments API works again, `redrive` gets the order PAID.
func TestDeadLetterCLI(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	mock := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		mock.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = api.URL
		c.PaymentsMaxBackoff = 10 * time.Millisecond
	})
	o := a.placeOrder("dl", 1, "")
	var list struct {
		DeadLetters []struct {
			Seq     uint64
			Message json.RawMessage
		}
	}
	eventually(t, 60*time.Second, func() error {
		code, out, errOut := runCLI(t, "", "dead-letters", "list", "--url", a.url, "--consumer", "payments-dispatcher", "--since", "1h", "--json")
		if code != 0 {
			return fmt.Errorf("exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return err
		}
		if len(list.DeadLetters) == 0 {
			return fmt.Errorf("no dead letter yet")
		}
		return nil
	})
	dls := list.DeadLetters
	// A bulk dry run names it and changes nothing; a purge whose filter
	// matches nothing purges nothing.
	code, out, errOut := runCLI(t, "", "dead-letters", "redrive", "--all", "--consumer", "payments-dispatcher", "--dry-run", "--url", a.url, "--json")
	if code != 0 || !strings.Contains(out, `"would-redrive"`) || !strings.Contains(out, strconv.FormatUint(dls[0].Seq, 10)) {
		t.Fatalf("bulk dry run: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "dead-letters", "purge", "--all", "--reason", "no such reason", "--url", a.url)
	if code != 0 || !strings.Contains(out, "purged: 0") {
		t.Fatalf("purge matching nothing: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "dead-letters", "redrive", strconv.FormatUint(dls[0].Seq, 10), "--dry-run", "--url", a.url)
	if code != 0 || !strings.Contains(out, "would redrive") {
		t.Fatalf("single dry run: exit %d %q %q", code, out, errOut)
	}
	if !bytes.Contains(dls[0].Message, []byte(o.ID)) {
		t.Fatalf("dead letter %s is not the payment of %s", dls[0].Message, o.ID)
	}
	failing.Store(false) // the cause is fixed; the redriven payment gets 10 attempts anew
	if code, out, errOut := runCLI(t, "", "dead-letters", "redrive", strconv.FormatUint(dls[0].Seq, 10), "--url", a.url); code != 0 || !strings.Contains(out, "redriven") {
		t.Fatalf("redrive: exit %d, %q %q", code, out, errOut)
	}
	paid := waitStatus(t, a, o.ID, wims.OrderPaid)
	if mock.Charges(o.ID) != 1 || len(paid.Payments) != wims.MaxPaymentFailures+1 {
		t.Fatalf("after redrive: %d charges, %d attempts; want 1 charge after %d failures", mock.Charges(o.ID), len(paid.Payments), wims.MaxPaymentFailures)
	}
	code, out, _ = runCLI(t, "", "dead-letters", "list", "--url", a.url, "--json")
	if code != 0 || !strings.Contains(out, `"deadLetters": []`) {
		t.Fatalf("dead letters after redrive: exit %d %s, want none", code, out)
	}
	if code, _, _ := runCLI(t, "", "dead-letters", "redrive", "x", "--url", a.url); code != 2 {
		t.Fatalf("redrive x: exit %d, want 2", code)
	}
}

// TestOverstockOncePerCrossing: restocks that take a SKU above its
// highStockThreshold report OVERSTOCK once per upward crossing (webhook and
// a "Stock High" domain event); staying above, or the threshold changing,
// reports nothing.
func TestOverstockOncePerCrossing(t *testing.T) {
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	t.Cleanup(hook.Close)
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		c.NotifyWebhooks = []string{hook.URL}
	})
	code, body := a.do("PUT", "/inventory/HIGH", map[string]any{"productName": "H", "quantity": 400, "lowStockThreshold": 10, "highStockThreshold": 500})
	if code != http.StatusOK || !strings.Contains(string(body), `"highStockThreshold":500`) {
		t.Fatalf("put item: %d %s", code, body)
	}
	if code, body := a.do("PUT", "/inventory/BAD", map[string]any{"productName": "B", "quantity": 1, "lowStockThreshold": 10, "highStockThreshold": 10}); code != http.StatusBadRequest || !strings.Contains(string(body), "highStockThreshold") {
		t.Fatalf("high threshold not above the low one: %d %s", code, body)
	}
	adjust := func(delta int64) {
		t.Helper()
		code, body := a.do("POST", "/inventory/HIGH/adjustments", map[string]any{"delta": delta, "reason": "test"})
		if code != http.StatusOK {
			t.Fatalf("adjust %d = %d %s", delta, code, body)
		}
	}
	waitOver := func(n int) {
		t.Helper()
		eventually(t, 30*time.Second, func() error {
			if k := sink.kinds(); k[wims.Overstock] != n {
				return fmt.Errorf("notifications = %v, want %d OVERSTOCK", k, n)
			}
			return nil
		})
	}
	adjust(100) // 500: at the threshold, not above
	adjust(1)   // 501: crossed
	adjust(300) // 801: still above
	waitOver(1)
	adjust(-400) // 401: back under
	adjust(200)  // 601: crossed again
	waitOver(2)
	sink.mu.Lock()
	for _, n := range sink.received {
		if n.Kind == wims.Overstock && (n.Threshold != 500 || n.SKU != "HIGH") {
			t.Errorf("OVERSTOCK notification = %+v", n)
		}
	}
	sink.mu.Unlock()
	eventually(t, 20*time.Second, func() error {
		code, body := a.do("GET", "/events?detail-type=Stock%20High&sku=HIGH", nil)
		if code != http.StatusOK || strings.Count(string(body), `"detail-type":"Stock High"`) != 2 {
			return fmt.Errorf("Stock High events: %d %s", code, body)
		}
		return nil
	})
}

// TestNotificationMails: with --smtp-url and two --notify-email addresses,
// each crossing is mailed once to each address through a real SMTP server,
// also when the server refuses the first attempts (they are retried).
func TestNotificationMails(t *testing.T) {
	srv := smtptest.Start(t)
	srv.FailNext(2)
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.PaymentsURL = payURL
		c.SMTPURL = "smtp://" + srv.Addr
		c.NotifyEmails = []string{"ops@example.com", "buyer@example.com"}
		c.NotifyEmailFrom = "wims@example.com"
	})
	a.putItem("MAIL", 120, 100)
	for _, delta := range []int64{-30, -5} { // 90: one crossing; 85: none
		if code, body := a.do("POST", "/inventory/MAIL/adjustments", map[string]any{"delta": delta}); code != http.StatusOK {
			t.Fatalf("adjust: %d %s", code, body)
		}
	}
	eventually(t, 60*time.Second, func() error {
		got := map[string]int{}
		for _, m := range srv.Mails() {
			if !strings.Contains(m.Data, "Subject: wims: LOW_STOCK MAIL (quantity 90)") || m.From != "wims@example.com" {
				t.Fatalf("mail = %+v", m)
			}
			for _, to := range m.To {
				got[to]++
			}
		}
		if got["ops@example.com"] > 1 || got["buyer@example.com"] > 1 {
			t.Fatalf("a crossing mailed twice: %v", got)
		}
		if got["ops@example.com"] != 1 || got["buyer@example.com"] != 1 {
			return fmt.Errorf("mails per address: %v", got)
		}
		return nil
	})
}
