package main

// The crash test with cancels and refunds (issue 13): the load of
// TestCrashSIGKILL, plus clients cancelling a random share of the orders at
// every stage of their way (just accepted, RESERVED, PAID), while wims is
// SIGKILLed at random points. After the last restart every request whose
// outcome a client does not know is retried, the system drains, and the
// DESIGN §5 guarantees are checked with the cancel rules of ARCHITECTURE.md
// "Cancels and refunds": every order final as its client's requests imply,
// the stock conserved with the stock-holding rule, and every order's money
// right at the payments API (charges − refunds is 1 for PAID, else 0).

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// Stages at which the load cancels an order.
const (
	stageAccepted = "accepted" // right after the 202: usually PENDING still
	stageReserved = "RESERVED"
	stagePaid     = "PAID"
)

// cancelLedger is what the clients know of their cancels: which orders they
// meant to cancel and at which stage, which cancels were sent, and which of
// those got an answer.
type cancelLedger struct {
	mu sync.Mutex
	// intents are orders to cancel once they reach the stage, by order id.
	intents map[string]string
	// sent are orders a cancel was sent for (it may have committed even if
	// no answer came), by order id, with the status the order had when the
	// client decided (the stage, or the status it saw).
	sent map[string]string
	// answered are the sent cancels answered 200, with the answer's status.
	answered map[string]wims.OrderStatus
}

func newCancelLedger() *cancelLedger {
	return &cancelLedger{intents: map[string]string{}, sent: map[string]string{}, answered: map[string]wims.OrderStatus{}}
}

// cancelOrder sends POST /orders/{id}/cancel and records it; seen is what
// the client knew of the order. An answer other than 200, or none, leaves
// the cancel unanswered, for the retry after the last restart.
func cancelOrder(ctx context.Context, c *crashClient, cl *cancelLedger, id, seen string) error {
	cl.mu.Lock()
	cl.sent[id] = seen
	cl.mu.Unlock()
	resp, body, err := c.do(ctx, "POST", "/orders/"+id+"/cancel", nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cancel %s = %d %s", id, resp.StatusCode, body)
	}
	var o wims.Order
	if err := json.Unmarshal(body, &o); err != nil {
		return fmt.Errorf("cancel %s: %v: %s", id, err, body)
	}
	cl.mu.Lock()
	cl.answered[id] = o.Status
	cl.mu.Unlock()
	return nil
}

// runCancelLoad is runLoad whose clients, after each 202, draw what to do
// with the order: cancel it at once (2 in 10), once it is RESERVED (2 in
// 10), once it is PAID (2 in 10), or never.
func runCancelLoad(ctx context.Context, c *crashClient, l *ledger, cl *cancelLedger, cycle, n int, sku string) (wait func()) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cycle)+1_000, uint64(g)))
			for i := 0; ctx.Err() == nil; i++ {
				r := crashReq{
					key: fmt.Sprintf("crashc-%d-%d-%d", cycle, g, i), customer: fmt.Sprintf("cust-%d", g),
					sku: sku, qty: rng.Int64N(5) + 1,
				}
				r.body, _ = json.Marshal(map[string]any{"customerId": r.customer, "sku": r.sku, "quantity": r.qty})
				l.sent(r)
				err := sendOrder(ctx, c, l, r)
				l.mu.Lock()
				id, acked := l.acked[r.key]
				l.mu.Unlock()
				if err == nil && acked {
					switch rng.IntN(10) {
					case 0, 1:
						err = cancelOrder(ctx, c, cl, id, stageAccepted)
					case 2, 3:
						cl.mu.Lock()
						cl.intents[id] = stageReserved
						cl.mu.Unlock()
					case 4, 5:
						cl.mu.Lock()
						cl.intents[id] = stagePaid
						cl.mu.Unlock()
					}
				}
				if err != nil {
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

// runCancellers starts n goroutines that watch the orders with a cancel
// intent and cancel each once it has reached its stage (or gone past it:
// an order meant to be cancelled RESERVED that is PAID already is
// cancelled PAID). They stop when ctx ends.
func runCancellers(ctx context.Context, c *crashClient, cl *cancelLedger, n int) (wait func()) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				cl.mu.Lock()
				var ids []string
				for id := range cl.intents {
					if len(ids) < 200 && hash32(id)%uint32(n) == uint32(g) {
						ids = append(ids, id)
					}
				}
				cl.mu.Unlock()
				failed := false
				for _, id := range ids {
					if ctx.Err() != nil {
						return
					}
					o, found, err := c.getOrder(id)
					if err != nil || !found {
						failed = true
						break
					}
					cl.mu.Lock()
					stage := cl.intents[id]
					cl.mu.Unlock()
					due := o.Status == wims.OrderPaid ||
						(stage == stageReserved && o.Status == wims.OrderReserved)
					if !due {
						continue
					}
					cl.mu.Lock()
					delete(cl.intents, id)
					cl.mu.Unlock()
					if err := cancelOrder(ctx, c, cl, id, string(o.Status)); err != nil {
						failed = true
						break
					}
				}
				if failed || len(ids) == 0 {
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

// hash32 spreads order ids over the cancellers (FNV-1a).
func hash32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// retryCancels re-sends every cancel that got no 200, as a real client
// would: a cancel that committed before the kill is answered 200 again
// (CANCELLED is unchanged) or 409 for an order it made REFUND_PENDING
// (which may be REFUNDED by now); either way the order is now cancelled.
func retryCancels(t *testing.T, c *crashClient, cl *cancelLedger) int {
	t.Helper()
	var retry []string
	for id := range cl.sent {
		if _, ok := cl.answered[id]; !ok {
			retry = append(retry, id)
		}
	}
	for _, id := range retry {
		err := cancelOrder(context.Background(), c, cl, id, cl.sent[id])
		if err == nil {
			continue
		}
		o, found, gerr := c.getOrder(id)
		if gerr != nil || !found {
			t.Fatalf("retry of the cancel of %s: %v; GET: found=%v %v", id, err, found, gerr)
		}
		switch o.Status {
		case wims.OrderRefundPending, wims.OrderRefunded:
			cl.answered[id] = o.Status
		default:
			t.Fatalf("retry of the cancel of %s: %v (order is %s)", id, err, o.Status)
		}
	}
	return len(retry)
}

// TestCrashSIGKILLWithCancels kills wims three times, at random points,
// under a load of orders of which clients cancel about 6 in 10 at every
// stage, and checks after the drain: nothing acknowledged lost; every
// cancelled order CANCELLED or REFUNDED and every other one PAID (none
// stuck PENDING, RESERVED or REFUND_PENDING after the reconcile grace);
// the stock conserved (initial − Σ quantities of orders holding stock =
// quantity ≥ 0); and at the payments API each order's charges less its
// refunds exactly 1 if PAID and 0 otherwise, with no key used twice. On
// both engines.
func TestCrashSIGKILLWithCancels(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testCrashWithCancels(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { testCrashWithCancels(t, pgtest.URL(t)) })
}

// testCrashWithCancels is TestCrashSIGKILLWithCancels on the store at
// storeURL ("": SQLite in the data dir).
func testCrashWithCancels(t *testing.T, storeURL string) {
	bin := buildWims(t)
	// A little latency keeps charges in flight when cancels arrive.
	mock := paymentsmock.New(paymentsmock.Options{Rate: 10_000, Burst: 10_000, Latency: 5 * time.Millisecond})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	extra := []string{"--reconcile-grace", "2s"}
	if storeURL != "" {
		extra = append(extra, "--store", storeURL)
	}
	p := newWimsProc(t, bin, srv.URL+"/payments", extra...)
	p.start()
	c := newCrashClient(p.url)

	const sku = "CRASH-CANCEL-SKU"
	const initial = 100_000
	c.putItem(t, sku, initial, 10)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	l, cl := newLedger(), newCancelLedger()
	start := time.Now()
	cctx, stopCancellers := context.WithCancel(context.Background())
	waitCancellers := runCancellers(cctx, c, cl, 2)
	for cycle := range 3 {
		// Kill at a random point: after a random number of new 202s.
		target := l.nAcked.Load() + 100 + rng.Int64N(300)
		ctx, cancel := context.WithCancel(context.Background())
		wait := runCancelLoad(ctx, c, l, cl, cycle, 6, sku)
		deadline := time.Now().Add(60 * time.Second)
		for l.nAcked.Load() < target {
			if time.Now().After(deadline) {
				cancel()
				wait()
				stopCancellers()
				waitCancellers()
				t.Fatalf("cycle %d: only %d of %d orders acknowledged within 60s", cycle, l.nAcked.Load(), target)
			}
			time.Sleep(time.Millisecond)
		}
		p.kill()
		cancel()
		wait()
		cl.mu.Lock()
		t.Logf("cycle %d: killed wims after %d acknowledged orders, %d cancels sent (%s)",
			cycle, l.nAcked.Load(), len(cl.sent), time.Since(start).Round(time.Millisecond))
		cl.mu.Unlock()
		p.start()
	}

	// Let the cancellers cancel every order they still mean to, now that
	// wims stays up; the orders move on, so each reaches its stage.
	deadline := time.Now().Add(120 * time.Second)
	for {
		cl.mu.Lock()
		left := len(cl.intents)
		cl.mu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			stopCancellers()
			waitCancellers()
			t.Fatalf("%d orders never reached the stage they were to be cancelled at within 120s", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopCancellers()
	waitCancellers()

	retried := retryUnknown(t, c, l)
	retriedCancels := retryCancels(t, c, cl)
	t.Logf("retried %d unknown orders and %d unanswered cancels; %d orders, %d cancelled (%s)",
		retried, retriedCancels, len(l.acked), len(cl.sent), time.Since(start).Round(time.Millisecond))

	orders := checkCancelGuarantees(t, c, l, cl, mock, sku, initial, 120*time.Second)
	checkEventLogNoDuplicates(t, c)

	byStage := map[string]int{}
	for _, s := range cl.sent {
		byStage[s]++
	}
	byStatus := map[wims.OrderStatus]int{}
	late := 0 // charged after a cancel had released the stock: refunded
	for id, o := range orders {
		byStatus[o.Status]++
		if o.Status == wims.OrderRefunded && cl.answered[id] == wims.OrderCancelled {
			late++
		}
	}
	st := mock.Stats()
	t.Logf("done in %s: cancels by stage seen %v; final statuses %v (%d refunded after a late charge); mock charged %d refunded %d duplicates %d",
		time.Since(start).Round(time.Millisecond), byStage, byStatus, late, st.Charged, st.Refunded, st.Duplicates)
	for _, s := range []string{stageAccepted, string(wims.OrderReserved), string(wims.OrderPaid)} {
		if byStage[s] == 0 {
			t.Errorf("no order was cancelled at stage %s: the load did not test it (cancels by stage %v)", s, byStage)
		}
	}
}

// checkCancelGuarantees checks DESIGN §5 with cancels on the drained system
// and returns the final orders by id.
func checkCancelGuarantees(t *testing.T, c *crashClient, l *ledger, cl *cancelLedger, mock *paymentsmock.Server, sku string, initial int64, drain time.Duration) map[string]orderView {
	t.Helper()
	orders := map[string]orderView{}
	for key, id := range l.acked {
		r := l.reqs[key]
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
	for id := range cl.sent {
		if _, ok := orders[id]; !ok {
			t.Errorf("a cancel was sent for order %s, which is not an acknowledged order", id)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Drain: every order settles where its client's requests put it. No
	// timing is asserted; a stuck order fails at the deadline with its
	// history. A CANCELLED order the API charged is not settled yet: its
	// charge was sent by a dispatcher killed before it recorded the
	// outcome, and the payment's redelivery (after its ack wait) finds the
	// charge and refunds it.
	final := func(id string, s wims.OrderStatus) bool {
		if _, cancelled := cl.sent[id]; cancelled {
			return s == wims.OrderRefunded || (s == wims.OrderCancelled && mock.Charges(id) == 0)
		}
		return s == wims.OrderPaid
	}
	deadline := time.Now().Add(drain)
	pending := map[string]bool{}
	for id := range orders {
		pending[id] = true
	}
	for len(pending) > 0 {
		for id := range pending {
			o, _, err := c.getOrder(id)
			if err != nil {
				t.Fatal(err)
			}
			orders[id] = o
			if final(id, o.Status) {
				delete(pending, id)
			}
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			counts := map[wims.OrderStatus]int{}
			var example string
			for id := range pending {
				counts[orders[id].Status]++
				example = id
			}
			o := orders[example]
			_, cancelled := cl.sent[example]
			t.Fatalf("STUCK: %d of %d orders not final after %s; by status %v; e.g. %s (cancelled: %v): %+v payments %+v executions %+v",
				len(pending), len(orders), drain, counts, example, cancelled, o.Order, o.Payments, o.Executions)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The payments API has finished with everything it was sent.
	eventually(t, 30*time.Second, func() error {
		if n := mock.Stats().InFlight; n != 0 {
			return fmt.Errorf("%d calls still at the payments API", n)
		}
		return nil
	})
	// And the drained state is final: a last look at every order.
	for id := range orders {
		o, _, err := c.getOrder(id)
		if err != nil {
			t.Fatal(err)
		}
		if !final(id, o.Status) {
			t.Errorf("order %s moved on from a final state to %s", id, o.Status)
		}
		orders[id] = o
	}

	// Money: per order, per idempotency key (the charge's is the order id,
	// the refund's refund:<orderId>), each used for at most one effect.
	stats := mock.Stats()
	var bad []string
	for id, o := range orders {
		charges, refunds := stats.Charges[id], stats.Refunds[id]
		want := 0
		if o.Status == wims.OrderPaid {
			want = 1
		}
		if charges > 1 || refunds > 1 || charges-refunds != want {
			bad = append(bad, fmt.Sprintf("%s %s: %d charges, %d refunds (payments %+v)", id, o.Status, charges, refunds, o.Payments))
		}
		if o.Status == wims.OrderRefunded && (charges != 1 || refunds != 1) {
			bad = append(bad, fmt.Sprintf("%s REFUNDED without a charge and a refund", id))
		}
	}
	for id := range stats.Charges {
		if _, ok := orders[id]; !ok {
			bad = append(bad, fmt.Sprintf("%s charged, but no client acknowledged it", id))
		}
	}
	sort.Strings(bad)
	for _, b := range bad[:min(20, len(bad))] {
		t.Errorf("MONEY WRONG: order %s", b)
	}
	if len(bad) > 20 {
		t.Errorf("… and %d more orders with the money wrong", len(bad)-20)
	}
	if stats.Throttled != 0 {
		t.Errorf("RATE EXCEEDED: the payments API answered 429 %d times", stats.Throttled)
	}

	// Conservation over every order that exists, acknowledged or not (after
	// the retries that is the acknowledged set).
	var held int64
	for key := range l.reqs {
		id, ok := l.acked[key]
		if !ok {
			t.Errorf("request %s was never acknowledged, even retried", key)
			continue
		}
		if o := orders[id]; o.HoldsStock() {
			held += o.Quantity
		}
	}
	if q := c.item(t, sku).Quantity; q != initial-held || q < 0 {
		t.Errorf("STOCK NOT CONSERVED: quantity %d, want initial %d - held %d = %d", q, initial, held, initial-held)
	}
	return orders
}
