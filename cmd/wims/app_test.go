package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// testApp is a wims started in-process on a temp data dir, the way `wims
// serve` starts it, with the HTTP API on a random loopback port.
type testApp struct {
	*App
	url string
	t   testing.TB
}

func startTestApp(t testing.TB, edit func(*Config)) *testApp {
	t.Helper()
	cfg := Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Namespace: "wims", NATSReplicas: 1,
		PaymentsRate: 1000, Architecture: "v2", ShutdownGrace: 5 * time.Second, NoSync: true,
	}
	if edit != nil {
		edit(&cfg)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("WIMS_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	app, err := StartApp(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start wims: %v", err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return &testApp{App: app, url: "http://" + app.Addr().String(), t: t}
}

// fastPayments serves a mock payments API that lets a test's orders through quickly.
func fastPayments(t testing.TB, opt paymentsmock.Options) (*paymentsmock.Server, string) {
	t.Helper()
	if opt.Rate == 0 {
		opt.Rate, opt.Burst = 10_000, 10_000
	}
	mock := paymentsmock.New(opt)
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	return mock, srv.URL + "/payments"
}

func (a *testApp) do(method, path string, body any, hdr ...string) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (a *testApp) placeOrder(customer string, qty int64, sku string) wims.Order {
	a.t.Helper()
	req := map[string]any{"customerId": customer, "quantity": qty}
	if sku != "" {
		req["sku"] = sku
	}
	code, body := a.do("POST", "/orders", req)
	if code != http.StatusAccepted {
		a.t.Fatalf("POST /orders = %d %s", code, body)
	}
	var o wims.Order
	if err := json.Unmarshal(body, &o); err != nil {
		a.t.Fatal(err)
	}
	return o
}

func (a *testApp) order(id string) orderView {
	a.t.Helper()
	code, body := a.do("GET", "/orders/"+id, nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET /orders/%s = %d %s", id, code, body)
	}
	var o orderView
	if err := json.Unmarshal(body, &o); err != nil {
		a.t.Fatal(err)
	}
	return o
}

func (a *testApp) item(sku string) wims.Item {
	a.t.Helper()
	code, body := a.do("GET", "/inventory/"+sku, nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET /inventory/%s = %d %s", sku, code, body)
	}
	var it wims.Item
	if err := json.Unmarshal(body, &it); err != nil {
		a.t.Fatal(err)
	}
	return it
}

func (a *testApp) putItem(sku string, qty, threshold int64) {
	a.t.Helper()
	code, body := a.do("PUT", "/inventory/"+sku, map[string]any{
		"productName": "Test " + sku, "model": "T", "quantity": qty, "lowStockThreshold": threshold,
	})
	if code != http.StatusOK {
		a.t.Fatalf("PUT /inventory/%s = %d %s", sku, code, body)
	}
}

type orderView struct {
	wims.Order
	Payments   []wims.PaymentAttempt `json:"payments"`
	Executions []wims.Execution      `json:"executions"`
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 200*time.Millisecond)
	}
}

func waitStatus(t testing.TB, a *testApp, id string, want ...wims.OrderStatus) orderView {
	t.Helper()
	var o orderView
	eventually(t, 30*time.Second, func() error {
		o = a.order(id)
		for _, w := range want {
			if o.Status == w {
				return nil
			}
		}
		return fmt.Errorf("order %s is %s, want %v", id, o.Status, want)
	})
	return o
}

// TestCourseDemo walks the course's demo: the seeded MacGuffin, an order
// accepted at once, reserved, charged exactly once and visible in the event log.
func TestCourseDemo(t *testing.T) {
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })

	seed := a.item(wims.DefaultSKU)
	if seed.Quantity != 1_000_000 || seed.LowStockThreshold != 100 || seed.ProductName != "MacGuffin" || seed.Model != "LX" {
		t.Fatalf("seed item = %+v", seed)
	}
	o := a.placeOrder("123", 3, "")
	if o.Status != wims.OrderPending || o.SKU != wims.DefaultSKU || o.ID == "" {
		t.Fatalf("placed order = %+v", o)
	}
	got := waitStatus(t, a, o.ID, wims.OrderPaid)
	if got.Quantity != 3 || got.CustomerID != "123" {
		t.Fatalf("order = %+v", got)
	}
	if n := mock.Charges(o.ID); n != 1 {
		t.Fatalf("order charged %d times, want 1", n)
	}
	if len(got.Payments) != 1 || got.Payments[0].Outcome != wims.PaymentPaid {
		t.Fatalf("payments = %+v", got.Payments)
	}
	if len(got.Executions) == 0 || got.Executions[0].Status != wims.ExecutionSucceeded || len(got.Executions[0].Steps) != 2 {
		t.Fatalf("executions = %+v", got.Executions)
	}
	if q := a.item(wims.DefaultSKU).Quantity; q != 1_000_000-3 {
		t.Fatalf("stock = %d, want %d", q, 1_000_000-3)
	}
	// The event log has the insert and the status changes of this order.
	eventually(t, 10*time.Second, func() error {
		code, body := a.do("GET", "/events?limit=100&detail-type=cdcEvent", nil)
		if code != http.StatusOK {
			return fmt.Errorf("GET /events = %d %s", code, body)
		}
		var resp struct{ Events []json.RawMessage }
		if err := json.Unmarshal(body, &resp); err != nil {
			return err
		}
		statuses := map[string]bool{}
		for _, e := range resp.Events {
			var ev struct {
				Detail wims.ChangeDetail `json:"detail"`
			}
			if err := json.Unmarshal(e, &ev); err != nil {
				return err
			}
			if ev.Detail.Data.Table == wims.TableOrders && bytes.Contains(ev.Detail.Data.Key, []byte(o.ID)) {
				var img wims.Order
				_ = json.Unmarshal(ev.Detail.Data.NewImage, &img)
				statuses[string(img.Status)] = true
			}
		}
		for _, s := range []string{"PENDING", "RESERVED", "PAID"} {
			if !statuses[s] {
				return fmt.Errorf("event log lacks the order's %s change (has %v)", s, statuses)
			}
		}
		return nil
	})
}

// TestNoOversell sends 1,000 concurrent orders for a stock of 100: exactly 100
// hold stock, the rest are rejected, and stock ends at 0, never below.
func TestNoOversell(t *testing.T) {
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	a.putItem("SCARCE", 100, 10)

	const n = 1000
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ids[i] = a.placeOrder(fmt.Sprintf("c%d", i), 1, "SCARCE").ID
		}()
	}
	wg.Wait()
	counts := map[wims.OrderStatus]int{}
	for _, id := range ids {
		o := waitStatus(t, a, id, wims.OrderPaid, wims.OrderRejected)
		counts[o.Status]++
		if o.Status == wims.OrderRejected && mock.Charges(id) != 0 {
			t.Fatalf("rejected order %s was charged", id)
		}
	}
	if counts[wims.OrderPaid] != 100 || counts[wims.OrderRejected] != n-100 {
		t.Fatalf("statuses = %v, want 100 PAID and %d REJECTED", counts, n-100)
	}
	if q := a.item("SCARCE").Quantity; q != 0 {
		t.Fatalf("stock = %d, want 0", q)
	}
}
