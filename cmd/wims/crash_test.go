package main

// Crash tests (DESIGN §5, §7): a real `wims serve` process is killed with
// SIGKILL mid-load, restarted on the same data dir, and the guarantees are
// checked from the outside, through the HTTP API and a mock payments API
// that lives in the test process and so counts charges across the kills.
// The method is the one of NATS-NOTES "Testing crash safety": every request
// has a unique id (its Idempotency-Key) and is classified as acknowledged or
// unknown; unknown requests are retried after the last restart, as a real
// client would; then the system is drained and checked.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/paymentsmock"
)

// buildWims builds the wims binary (without -race, to keep it fast) into a
// temp dir and returns its path. The go build cache makes the second build
// in a run cheap.
func buildWims(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("crash tests build and kill a real wims process; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "wims")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := loopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// newCountingMock starts the mock payments API in the test process, so it
// counts charges across kills, and returns it with its payments URL.
func newCountingMock(t *testing.T) (*paymentsmock.Server, string) {
	t.Helper()
	mock := paymentsmock.New(paymentsmock.Options{Rate: 10_000, Burst: 10_000})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	return mock, srv.URL + "/payments"
}

// writeRules writes a --config rules file of rules and returns its path.
func writeRules(t *testing.T, rules ...map[string]any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.json")
	data, err := json.Marshal(map[string]any{"rules": rules})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// orderChangesRule is a rule sending every change of sku's orders to a
// webhook at url.
func orderChangesRule(name, sku, url string) map[string]any {
	return map[string]any{
		"name":    name,
		"pattern": map[string]any{"source": []string{"wims.cdc"}, "detail": map[string]any{"data": map[string]any{"table": []string{"orders"}, "NewImage": map[string]any{"sku": []string{sku}}}}},
		"targets": []any{map[string]any{"type": "webhook", "url": url}},
	}
}

// wimsProc is a `wims serve` child process that can be killed and restarted
// on the same data dir and address.
type wimsProc struct {
	t       *testing.T
	bin     string
	args    []string
	url     string
	logPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	runs int
}

func newWimsProc(t *testing.T, bin, payURL string, extra ...string) *wimsProc {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	p := &wimsProc{
		t:   t,
		bin: bin,
		args: []string{"serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data"),
			"--payments-url", payURL, "--payments-rate", "500", "--log-level", "warn"},
		url:     "http://" + addr,
		logPath: filepath.Join(dir, "wims.log"),
	}
	p.args = append(p.args, extra...)
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("tail of the wims log (%s):\n%s", p.logPath, tailFile(p.logPath, 60))
		}
	})
	return p
}

// start starts wims and waits until GET /healthz answers 200.
func (p *wimsProc) start() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatal("wims is already running")
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	p.runs++
	fmt.Fprintf(logf, "=== test: start #%d at %s\n", p.runs, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = childEnv() // the environment must not configure wims behind the test's back
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.t.Fatalf("start wims: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done

	if err := waitHealthy(context.Background(), p.url, done, 60*time.Second); err != nil {
		select {
		case <-done:
			p.cmd = nil
			p.t.Fatalf("%v (%s)", err, cmd.ProcessState)
		default:
			p.t.Fatal(err)
		}
	}
}

// kill sends SIGKILL, if wims is running, and waits for it to exit.
func (p *wimsProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd, p.done = nil, nil
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// crashClient talks to the wims under test. Its requests never call t.Fatal,
// so the load generators can use it from their goroutines.
type crashClient struct {
	base string
	http *http.Client
}

func newCrashClient(base string) *crashClient {
	return &crashClient{base: base, http: &http.Client{Timeout: 5 * time.Second}}
}

// do sends a request; hdr are header name/value pairs. A transport error is
// returned as err; any HTTP status is returned with the body.
func (c *crashClient) do(ctx context.Context, method, path string, body []byte, hdr ...string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return resp, out, nil
}

// getOrder returns the order view, found=false on 404.
func (c *crashClient) getOrder(id string) (o orderView, found bool, err error) {
	resp, body, err := c.do(context.Background(), "GET", "/orders/"+id, nil)
	if err != nil {
		return o, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(body, &o); err != nil {
			return o, false, fmt.Errorf("GET /orders/%s: %v: %s", id, err, body)
		}
		return o, true, nil
	case http.StatusNotFound:
		return o, false, nil
	default:
		return o, false, fmt.Errorf("GET /orders/%s = %d %s", id, resp.StatusCode, body)
	}
}

func (c *crashClient) item(t *testing.T, sku string) wims.Item {
	t.Helper()
	resp, body, err := c.do(context.Background(), "GET", "/inventory/"+sku, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /inventory/%s: %v %s", sku, err, body)
	}
	var it wims.Item
	if err := json.Unmarshal(body, &it); err != nil {
		t.Fatal(err)
	}
	return it
}

func (c *crashClient) putItem(t *testing.T, sku string, qty, threshold int64) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"productName": "Crash " + sku, "model": "K", "quantity": qty, "lowStockThreshold": threshold})
	resp, body, err := c.do(context.Background(), "PUT", "/inventory/"+sku, b)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /inventory/%s: %v %s", sku, err, body)
	}
}

// crashReq is one order request the load sent: its key and exact body.
type crashReq struct {
	key      string
	body     []byte
	customer string
	sku      string
	qty      int64
}

// ledger is what the clients know: every request sent, and which were
// acknowledged (202) and which are unknown (any other answer, or none).
type ledger struct {
	mu      sync.Mutex
	reqs    map[string]crashReq // by key
	acked   map[string]string   // key → orderId
	unknown map[string]string   // key → what happened
	nAcked  atomic.Int64
}

func newLedger() *ledger {
	return &ledger{reqs: map[string]crashReq{}, acked: map[string]string{}, unknown: map[string]string{}}
}

func (l *ledger) sent(r crashReq) {
	l.mu.Lock()
	l.reqs[r.key] = r
	l.mu.Unlock()
}

func (l *ledger) ack(key, orderID string) {
	l.mu.Lock()
	l.acked[key] = orderID
	delete(l.unknown, key)
	l.mu.Unlock()
	l.nAcked.Add(1)
}

func (l *ledger) unknownResult(key, why string) {
	l.mu.Lock()
	l.unknown[key] = why
	l.mu.Unlock()
}

// sendOrder sends one order request and records its classification. It
// returns the transport error, if any.
func sendOrder(ctx context.Context, c *crashClient, l *ledger, r crashReq) error {
	resp, body, err := c.do(ctx, "POST", "/orders", r.body, "Idempotency-Key", r.key)
	if err != nil {
		l.unknownResult(r.key, "transport: "+err.Error())
		return err
	}
	if resp.StatusCode != http.StatusAccepted {
		l.unknownResult(r.key, fmt.Sprintf("%d %s", resp.StatusCode, body))
		return nil
	}
	var o wims.Order
	if err := json.Unmarshal(body, &o); err != nil || o.ID == "" {
		l.unknownResult(r.key, fmt.Sprintf("202 with a bad body %q: %v", body, err))
		return nil
	}
	l.ack(r.key, o.ID)
	return nil
}

// runLoad starts n generators sending orders for sku until ctx ends, and
// returns a function that waits for them to stop.
func runLoad(ctx context.Context, c *crashClient, l *ledger, cycle, n int, sku string) (wait func()) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cycle), uint64(g)))
			for i := 0; ctx.Err() == nil; i++ {
				r := crashReq{
					key: fmt.Sprintf("crash-%d-%d-%d", cycle, g, i), customer: fmt.Sprintf("cust-%d", g),
					sku: sku, qty: rng.Int64N(5) + 1,
				}
				r.body, _ = json.Marshal(map[string]any{"customerId": r.customer, "sku": r.sku, "quantity": r.qty})
				l.sent(r)
				if err := sendOrder(ctx, c, l, r); err != nil {
					// The server is probably gone; do not spin on
					// connection refused while the test kills it.
					select {
					case <-ctx.Done():
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
		}()
	}
	return wg.Wait
}

// cdcEvent is the part of a change event the checks look at.
type cdcEvent struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Detail struct {
		Data struct {
			Table     string `json:"table"`
			EventType string `json:"eventType"`
			Key       struct {
				OrderID string `json:"orderId"`
			} `json:"key"`
			NewImage struct {
				Status string `json:"status"`
			} `json:"NewImage"`
			OldImage struct {
				Status string `json:"status"`
			} `json:"OldImage"`
		} `json:"data"`
	} `json:"detail"`
}

func (c *crashClient) recentCDCEvents() ([]cdcEvent, error) {
	resp, body, err := c.do(context.Background(), "GET", "/events?limit=1000&source=wims.cdc", nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /events = %d %s", resp.StatusCode, body)
	}
	var out struct {
		Events []cdcEvent `json:"events"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /events: %v", err)
	}
	return out.Events, nil
}

// TestCrashSIGKILL kills wims three times under load and checks DESIGN §5:
// nothing acknowledged is lost, nothing is charged or reserved twice, the
// stock equation holds, and each order change is one event in the event log,
// which has them all.
func TestCrashSIGKILL(t *testing.T) {
	bin := buildWims(t)
	mock, payURL := newCountingMock(t)

	// Every change of the SKU's orders also goes to a webhook in the test
	// process, which sees them all across the kills (GET /events only shows
	// the newest 1,000 events).
	const sku = "CRASH-SKU"
	rcv := &changeReceiver{changes: orderChanges{}}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	rulesFile := writeRules(t, orderChangesRule("crash-test-order-changes", sku, hook.URL+"/changes"))

	p := newWimsProc(t, bin, payURL, "--config", rulesFile)
	p.start()
	c := newCrashClient(p.url)

	const initial = 100_000
	c.putItem(t, sku, initial, 10)
	if q := c.item(t, sku).Quantity; q != initial {
		t.Fatalf("fresh SKU quantity = %d, want %d", q, initial)
	}

	l := newLedger()
	start := time.Now()
	for cycle, more := range []int64{200, 350, 500} {
		target := l.nAcked.Load() + more
		ctx, cancel := context.WithCancel(context.Background())
		wait := runLoad(ctx, c, l, cycle, 8, sku)
		deadline := time.Now().Add(60 * time.Second)
		for l.nAcked.Load() < target {
			if time.Now().After(deadline) {
				cancel()
				wait()
				t.Fatalf("cycle %d: only %d of %d orders acknowledged within 60s", cycle, l.nAcked.Load(), target)
			}
			time.Sleep(time.Millisecond)
		}
		p.kill()
		cancel()
		wait()
		l.mu.Lock()
		t.Logf("cycle %d: killed wims after %d acknowledged orders (%d unknown so far, %s)",
			cycle, l.nAcked.Load(), len(l.unknown), time.Since(start).Round(time.Millisecond))
		l.mu.Unlock()
		p.start()
	}

	// A real client retries what it does not know the fate of: same key,
	// same body. Each must now be accepted.
	retried := retryUnknown(t, c, l)
	t.Logf("retried %d unknown requests; %d orders acknowledged in all (%s)", retried, len(l.acked), time.Since(start).Round(time.Millisecond))

	orders := checkGuarantees(t, c, l, mock, sku, initial, 120*time.Second)
	stats := mock.Stats()

	checkChangeEventsExactlyOnce(t, rcv, orders)
	checkEventLogNoDuplicates(t, c)
	checkEventLogComplete(t, c, rcv)
	t.Logf("done in %s: %d orders, %d unknown retried, mock stats accepted=%d charged=%d duplicates=%d",
		time.Since(start).Round(time.Millisecond), len(orders), retried, stats.Accepted, stats.Charged, stats.Duplicates)
}

// checkGuarantees checks DESIGN §5 on the drained system, through c:
// each acknowledged order is there as sent and PAID (drainPaid), charged once
// at the payments API with at most one attempt recorded as paid, nothing was
// charged that no client acknowledged, the stock of sku is conserved, and
// the payments API never throttled.
func checkGuarantees(t *testing.T, c *crashClient, l *ledger, mock *paymentsmock.Server, sku string, initial int64, drain time.Duration) map[string]orderView {
	t.Helper()
	orders := map[string]orderView{} // by orderId
	for key, id := range l.acked {
		r := l.reqs[key]
		// No API keys are configured: keys are in the anonymous scope.
		if want := wimshttp.OrderIDForKey(key); id != want {
			t.Errorf("request %s was answered with order %s, want %s (OrderIDForKey)", key, id, want)
		}
		o, found, err := c.getOrder(id)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Errorf("LOST: order %s (key %s) was acknowledged with 202 but GET answers 404", id, key)
			continue
		}
		if o.CustomerID != r.customer || o.SKU != r.sku || o.Quantity != r.qty {
			t.Errorf("order %s = customer %q sku %q quantity %d, want %q %q %d",
				id, o.CustomerID, o.SKU, o.Quantity, r.customer, r.sku, r.qty)
		}
		orders[id] = o
	}
	if t.Failed() {
		t.FailNow()
	}
	drainPaid(t, c, orders, drain)

	stats := mock.Stats()
	for id, o := range orders {
		if n := mock.Charges(id); n != 1 {
			t.Errorf("DOUBLE/NO CHARGE: order %s charged %d times at the payments API, want 1 (payments %+v)", id, n, o.Payments)
		}
		paid := 0
		for _, a := range o.Payments {
			if a.Outcome == wims.PaymentPaid {
				paid++
			}
		}
		if paid != 1 {
			t.Errorf("order %s is PAID with %d attempts recorded as paid, want 1: %+v", id, paid, o.Payments)
		}
	}
	for id, n := range stats.Charges {
		if _, ok := orders[id]; !ok {
			t.Errorf("the payments API charged order %s (%d times), which no client acknowledged", id, n)
		}
	}
	if stats.Charged != len(orders) {
		t.Errorf("payments API charged %d times for %d orders", stats.Charged, len(orders))
	}
	if stats.Throttled != 0 {
		t.Errorf("RATE EXCEEDED: the payments API answered 429 %d times (max observed %d requests in 1 s)",
			stats.Throttled, stats.MaxObservedRate)
	}

	// Conservation over every attempted key's order that exists (a request
	// with an unknown outcome may have committed); after the retries that is
	// exactly the acknowledged set.
	var reserved int64
	for key := range l.reqs {
		id := wimshttp.OrderIDForKey(key)
		o, found, err := c.getOrder(id)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			continue
		}
		if _, ok := orders[id]; !ok {
			t.Errorf("order %s (key %s) exists but was never acknowledged", id, key)
		}
		if o.Status == wims.OrderReserved || o.Status == wims.OrderPaid {
			reserved += o.Quantity
		}
	}
	if q := c.item(t, sku).Quantity; q != initial-reserved || q < 0 {
		t.Errorf("STOCK NOT CONSERVED: quantity %d, want initial %d - reserved/paid %d = %d",
			q, initial, reserved, initial-reserved)
	}
	t.Logf("payments API: accepted %d, charged %d, duplicates %d, throttled %d, max %d requests in 1 s",
		stats.Accepted, stats.Charged, stats.Duplicates, stats.Throttled, stats.MaxObservedRate)
	return orders
}

// orderChanges counts the distinct change events of each order by kind
// (INSERT, RESERVED, PAID), keyed by event id so that a redelivered copy of
// one event counts once.
type orderChanges map[string]map[string]map[string]bool // orderId → kind → event ids

func (oc orderChanges) add(e cdcEvent) {
	d := e.Detail.Data
	if d.Table != wims.TableOrders {
		return
	}
	var kind string
	switch {
	case d.EventType == wims.ChangeInsert:
		kind = "INSERT"
	case d.EventType == wims.ChangeUpdate && d.NewImage.Status != d.OldImage.Status:
		kind = d.NewImage.Status
	default:
		kind = d.EventType + " without a status change"
	}
	if oc[d.Key.OrderID] == nil {
		oc[d.Key.OrderID] = map[string]map[string]bool{}
	}
	if oc[d.Key.OrderID][kind] == nil {
		oc[d.Key.OrderID][kind] = map[string]bool{}
	}
	oc[d.Key.OrderID][kind][e.ID] = true
}

// missing returns what order id lacks of the changes every paid order has,
// or "".
func (oc orderChanges) missing(id string) string {
	var lacks []string
	for _, kind := range []string{"INSERT", string(wims.OrderReserved), string(wims.OrderPaid)} {
		if len(oc[id][kind]) == 0 {
			lacks = append(lacks, kind)
		}
	}
	return strings.Join(lacks, ", ")
}

// duplicates describes the changes of order id that came as more than one
// distinct event, or any change other than the expected ones (the three of
// a paid order, and those of a cancel or a refund, each entered at most
// once), or "".
func (oc orderChanges) duplicates(id string) string {
	var out []string
	for kind, ids := range oc[id] {
		switch kind {
		case "INSERT", string(wims.OrderReserved), string(wims.OrderPaid),
			string(wims.OrderCancelled), string(wims.OrderRefundPending), string(wims.OrderRefunded):
			if len(ids) > 1 {
				out = append(out, fmt.Sprintf("%d distinct %s events", len(ids), kind))
			}
		default:
			out = append(out, fmt.Sprintf("%d unexpected %q events", len(ids), kind))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// checkEventLogNoDuplicates checks that no order change appears twice in the
// event log. GET /events answers at most the newest 1,000 events and there
// are about four per order, so only that window is checked; a change seen
// twice in it is a duplicate wherever the window starts. (Completeness of
// the change events is checked on the webhook target, which sees them all.)
func checkEventLogNoDuplicates(t *testing.T, c *crashClient) {
	t.Helper()
	events, err := c.recentCDCEvents()
	if err != nil {
		t.Fatal(err)
	}
	oc := orderChanges{}
	ids := map[string]int{}
	for _, e := range events {
		oc.add(e)
		ids[e.ID]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("DUPLICATE EVENTS: event %s is %d times in the event log", id, n)
		}
	}
	for id := range oc {
		if d := oc.duplicates(id); d != "" {
			t.Errorf("DUPLICATE EVENTS: order %s in the event log: %s", id, d)
		}
	}
	t.Logf("event log: no duplicate among the newest %d change events (%d orders)", len(events), len(oc))
}

// checkEventLogComplete reads the whole event log forward and polls until
// every order change the webhook received is in it: the relay logs each
// event as it publishes it, and after a kill (or a lost tail) its rewind logs
// again what the log lost.
func checkEventLogComplete(t *testing.T, c *crashClient, rcv *changeReceiver) {
	t.Helper()
	want := map[string]bool{}
	rcv.mu.Lock()
	for _, kinds := range rcv.changes {
		for _, ids := range kinds {
			for id := range ids {
				want[id] = true
			}
		}
	}
	rcv.mu.Unlock()
	eventually(t, 60*time.Second, func() error {
		logged := map[string]bool{}
		path := "/events?limit=1000&source=wims.cdc&since=" + url.QueryEscape(time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339))
		for {
			resp, body, err := c.do(context.Background(), "GET", path, nil)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s = %d %s", path, resp.StatusCode, body)
			}
			var page struct {
				Events []cdcEvent `json:"events"`
				Next   string     `json:"next"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, e := range page.Events {
				logged[e.ID] = true
			}
			next := "/events?limit=1000&source=wims.cdc&cursor=" + url.QueryEscape(page.Next)
			if len(page.Events) == 0 && next == path {
				break
			}
			path = next
		}
		var missing []string
		for id := range want {
			if !logged[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%d of the %d order changes the webhook got are not in the event log (of %d change events), e.g. %s",
				len(missing), len(want), len(logged), missing[0])
		}
		return nil
	})
	t.Logf("event log: all %d order changes the webhook got are in it", len(want))
}

// changeReceiver is a webhook that records every order change event routed
// to it by a rule, across kills; a redelivered copy has the same event id.
type changeReceiver struct {
	mu         sync.Mutex
	changes    orderChanges
	deliveries int
}

func (r *changeReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var e cdcEvent
	if err := json.NewDecoder(req.Body).Decode(&e); err != nil || e.ID == "" {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.changes.add(e)
	r.deliveries++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// checkChangeEventsExactlyOnce polls until the webhook has seen, for every
// order, its INSERT, RESERVED and PAID change, then checks that each came
// as exactly one event (one event id) and that nothing else came.
func checkChangeEventsExactlyOnce(t *testing.T, rcv *changeReceiver, orders map[string]orderView) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var lacking []string
		rcv.mu.Lock()
		for id := range orders {
			if m := rcv.changes.missing(id); m != "" {
				lacking = append(lacking, id+" lacks "+m)
			}
		}
		rcv.mu.Unlock()
		if len(lacking) == 0 {
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(lacking)
			t.Fatalf("MISSING EVENTS: after 90s, %d of %d orders lack change events at the webhook, e.g. %v",
				len(lacking), len(orders), lacking[:min(5, len(lacking))])
		}
		time.Sleep(100 * time.Millisecond)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for id := range rcv.changes {
		if _, ok := orders[id]; !ok {
			t.Errorf("the webhook got change events of order %s, which no client acknowledged", id)
		}
		if d := rcv.changes.duplicates(id); d != "" {
			t.Errorf("DUPLICATE EVENTS: order %s: %s", id, d)
		}
	}
	t.Logf("webhook: every order's INSERT, RESERVED and PAID change came as exactly one event (%d orders, %d deliveries)",
		len(orders), rcv.deliveries)
}

// TestCrashRestartIdempotentRetry kills wims right after it acknowledged an
// order, restarts it, and retries the request: the same order comes back,
// marked as a replay, and it is paid exactly once.
func TestCrashRestartIdempotentRetry(t *testing.T) {
	bin := buildWims(t)
	mock, payURL := newCountingMock(t)

	p := newWimsProc(t, bin, payURL)
	p.start()
	c := newCrashClient(p.url)

	const key = "crash-retry-1"
	body := []byte(`{"customerId":"c-retry","sku":"MACGUFFIN-LX","quantity":2}`)
	post := func() (*http.Response, wims.Order) {
		t.Helper()
		resp, out, err := c.do(context.Background(), "POST", "/orders", body, "Idempotency-Key", key)
		if err != nil {
			t.Fatalf("POST /orders: %v", err)
		}
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /orders = %d %s, want 202", resp.StatusCode, out)
		}
		var o wims.Order
		if err := json.Unmarshal(out, &o); err != nil {
			t.Fatal(err)
		}
		return resp, o
	}
	_, first := post()
	p.kill()
	p.start()

	resp, again := post()
	if again.ID != first.ID || first.ID != wimshttp.OrderIDForKey(key) {
		t.Fatalf("retry answered order %s, first answer was %s (OrderIDForKey %s)", again.ID, first.ID, wimshttp.OrderIDForKey(key))
	}
	if got := resp.Header.Get("Idempotent-Replayed"); got != "true" {
		t.Fatalf("retry: Idempotent-Replayed = %q, want true", got)
	}
	if again.CustomerID != "c-retry" || again.SKU != wims.DefaultSKU || again.Quantity != 2 {
		t.Fatalf("retry answered %+v", again)
	}

	// A message delivered to the killed process is redelivered only after
	// its consumer's AckWait (30 s for the workflow, 60 s for payments).
	var o orderView
	deadline := time.Now().Add(120 * time.Second)
	for {
		var found bool
		var err error
		o, found, err = c.getOrder(first.ID)
		if err != nil || !found {
			t.Fatalf("GET order %s: found=%v err=%v", first.ID, found, err)
		}
		if o.Status == wims.OrderPaid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s is %s after 120s, want PAID: payments %+v executions %+v", o.ID, o.Status, o.Payments, o.Executions)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := mock.Charges(first.ID); n != 1 {
		t.Fatalf("order charged %d times, want 1", n)
	}
	if i := slices.IndexFunc(o.Payments, func(a wims.PaymentAttempt) bool { return a.Outcome == wims.PaymentPaid }); i < 0 {
		t.Fatalf("PAID order has no paid attempt: %+v", o.Payments)
	}
	if st := mock.Stats(); st.Charged != 1 {
		t.Fatalf("payments API charged %d payments, want 1", st.Charged)
	}
	if q := c.item(t, wims.DefaultSKU).Quantity; q != 1_000_000-2 {
		t.Fatalf("stock = %d, want %d", q, 1_000_000-2)
	}
}
