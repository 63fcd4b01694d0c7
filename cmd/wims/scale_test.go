package main

// Scale-out tests (DESIGN §1 "at scale", §5, §7): two real `wims serve`
// processes share one PostgreSQL database and one JetStream cluster of three
// in-process nodes, as in production behind a load balancer. The fault test
// kills a NATS node and then the leading wims instance mid-load, and checks
// the guarantees from the outside with the crash tests' method (crash_test.go):
// every request has a unique Idempotency-Key, is classified as acknowledged or
// unknown, unknown ones are retried on the survivor, then the system is
// drained and checked. The mock payments API lives in the test process with
// a finite rate, so two dispatchers running at once, or one exceeding the
// configured rate, would show up as 429s.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// scalePaymentsRate is both the mock's token bucket (rate and burst) and
// every instance's --payments-rate: one dispatcher at that rate never sees a
// 429; two at once, or one too fast, soon would.
const scalePaymentsRate = 40

// newScaleProc is a `wims serve` on the shared PostgreSQL database and NATS
// cluster, with its own data dir (which then holds only its instance id) and
// HTTP port.
// scaleEventKey is the event key of every instance of a scale test.
var scaleEventKey = "scale:" + strings.Repeat("5c", 32)

func newScaleProc(t *testing.T, bin, payURL, pgURL string, natsURLs []string, replicas int, ns string) *wimsProc {
	t.Helper()
	return newWimsProc(t, bin, payURL,
		"--store", pgURL, "--nats-url", strings.Join(natsURLs, ","), "--nats-replicas", strconv.Itoa(replicas),
		"--namespace", ns, "--payments-rate", strconv.Itoa(scalePaymentsRate), // the last --payments-rate wins
		"--event-key", scaleEventKey) // instances sharing a store share their event keys (each data dir's own key file would be refused)
}

// instanceID reads the instance id wims keeps in its data dir (instance.go).
func (p *wimsProc) instanceID() string {
	p.t.Helper()
	for i, a := range p.args {
		if a == "--data-dir" && i+1 < len(p.args) {
			b, err := os.ReadFile(filepath.Join(p.args[i+1], "instance-id"))
			if err != nil {
				p.t.Fatalf("read instance id: %v", err)
			}
			return strings.TrimSpace(string(b))
		}
	}
	p.t.Fatal("wims has no --data-dir")
	return ""
}

// leaderWatcher reads the leader keys of the instances (nats.Leadership:
// KV bucket <NS>_LEADERS, keys "relay" and "payments", value = instance id)
// through its own connection to the cluster.
type leaderWatcher struct {
	nc *natsgo.Conn
	kv jetstream.KeyValue
}

func newLeaderWatcher(t *testing.T, urls []string, ns string) *leaderWatcher {
	t.Helper()
	nc, err := natsgo.Connect(strings.Join(urls, ","), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to the NATS cluster: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, strings.ToUpper(ns)+"_LEADERS")
	if err != nil {
		t.Fatalf("leaders bucket: %v", err)
	}
	return &leaderWatcher{nc: nc, kv: kv}
}

// leader returns the id holding name, "" if nobody does.
func (w *leaderWatcher) leader(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e, err := w.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

// waitLeader polls until some instance holds name and returns its id.
func (w *leaderWatcher) waitLeader(t *testing.T, name string, timeout time.Duration) string {
	t.Helper()
	var id string
	eventually(t, timeout, func() error {
		var err error
		if id, err = w.leader(name); err != nil {
			return err
		}
		if id == "" {
			return fmt.Errorf("nobody leads %q", name)
		}
		return nil
	})
	return id
}

// runPacedLoad starts n generators that each send an order for sku every
// `every` until ctx ends, with keys "scale-<prefix>-<g>-<i>". Unlike runLoad
// it is paced, so the load lasts through the fail-overs instead of being over
// in a second, and the payments backlog stays a few seconds deep.
func runPacedLoad(ctx context.Context, c *crashClient, l *ledger, prefix string, n int, every time.Duration, sku string) (wait func()) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := 0; ctx.Err() == nil; i++ {
				r := crashReq{
					key: fmt.Sprintf("scale-%s-%d-%d", prefix, g, i), customer: fmt.Sprintf("cust-%s-%d", prefix, g),
					sku: sku, qty: int64(i%5) + 1,
				}
				r.body, _ = json.Marshal(map[string]any{"customerId": r.customer, "sku": r.sku, "quantity": r.qty})
				l.sent(r)
				_ = sendOrder(ctx, c, l, r)
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	return wg.Wait
}

// waitAcked waits until the ledger holds at least n acknowledged orders.
func waitAcked(t *testing.T, l *ledger, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for l.nAcked.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d orders acknowledged within %s", l.nAcked.Load(), n, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drainPaid polls through c until every order in orders is PAID, updating
// the map, and fails with the counts by status after timeout.
func drainPaid(t *testing.T, c *crashClient, orders map[string]orderView, timeout time.Duration) {
	t.Helper()
	pending := map[string]bool{}
	for id := range orders {
		pending[id] = true
	}
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	for len(pending) > 0 {
		for id := range pending {
			o, _, err := c.getOrder(id)
			if err != nil {
				t.Fatal(err)
			}
			orders[id] = o
			if o.Status == wims.OrderPaid {
				delete(pending, id)
			}
		}
		if len(pending) == 0 {
			break
		}
		counts := func() map[wims.OrderStatus]int {
			m := map[wims.OrderStatus]int{}
			for id := range pending {
				m[orders[id].Status]++
			}
			return m
		}
		if time.Now().After(deadline) {
			var example string
			for id := range pending {
				example = id
				break
			}
			o := orders[example]
			t.Fatalf("%d of %d orders not PAID after %s; by status %v; e.g. %s: %+v payments %+v executions %+v",
				len(pending), len(orders), timeout, counts(), example, o.Order, o.Payments, o.Executions)
		}
		if time.Since(lastReport) > 10*time.Second {
			t.Logf("draining: %d orders not PAID yet, by status %v", len(pending), counts())
			lastReport = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// retryUnknown re-sends every request whose outcome the client does not know
// to c, once, with the same key and body, as a real client would; each must
// be accepted as the order its key names.
func retryUnknown(t *testing.T, c *crashClient, l *ledger) int {
	t.Helper()
	var retry []crashReq
	for key := range l.unknown {
		retry = append(retry, l.reqs[key])
	}
	for _, r := range retry {
		// A request the client gave up on may still be running on the
		// server: then the key is in flight (409 with Retry-After), and a
		// real client waits and asks again.
		var (
			resp *http.Response
			body []byte
			err  error
		)
		for deadline := time.Now().Add(30 * time.Second); ; {
			resp, body, err = c.do(context.Background(), "POST", "/orders", r.body, "Idempotency-Key", r.key)
			if err != nil {
				t.Fatalf("retry of %s: %v", r.key, err)
			}
			if resp.StatusCode != http.StatusConflict || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("retry of unknown request %s (%s) = %d %s, want 202", r.key, l.unknown[r.key], resp.StatusCode, body)
		}
		var o wims.Order
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatal(err)
		}
		if want := wimshttp.OrderIDForKey(r.key); o.ID != want {
			t.Fatalf("retry of %s answered order %s, want %s", r.key, o.ID, want)
		}
		l.ack(r.key, o.ID)
	}
	return len(retry)
}

// TestScaleOutFaults runs two wims instances on PostgreSQL and a 3-node
// JetStream cluster (replicas 3) under load, shuts down the NATS node leading
// the events stream, then SIGKILLs the wims instance leading the payment
// dispatcher, keeps loading the survivor, and checks that every guarantee
// held: every acknowledged order processed once, one charge per order, stock
// conserved, the payments rate never exceeded. It logs how long the
// survivor took to take over the relay and the dispatcher.
func TestScaleOutFaults(t *testing.T) {
	bin := buildWims(t)
	pgURL := pgtest.URL(t)
	start := time.Now()
	urls, servers := natstest.Cluster(t, 3)
	ns := natstest.Namespace()
	mock := paymentsmock.New(paymentsmock.Options{Rate: scalePaymentsRate, Burst: scalePaymentsRate})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)

	procs := []*wimsProc{
		newScaleProc(t, bin, srv.URL+"/payments", pgURL, urls, 3, ns),
		newScaleProc(t, bin, srv.URL+"/payments", pgURL, urls, 3, ns),
	}
	names := []string{"A", "B"}
	procs[0].start()
	procs[1].start()
	ids := []string{procs[0].instanceID(), procs[1].instanceID()}
	if ids[0] == ids[1] {
		t.Fatalf("both instances have id %s", ids[0])
	}
	watch := newLeaderWatcher(t, urls, ns)
	t.Logf("cluster, database and both instances up in %s (A=%s, B=%s); relay led by %s, payments by %s",
		time.Since(start).Round(time.Millisecond), ids[0], ids[1],
		watch.waitLeader(t, "relay", 30*time.Second), watch.waitLeader(t, "payments", 30*time.Second))

	clients := []*crashClient{newCrashClient(procs[0].url), newCrashClient(procs[1].url)}
	const sku = "SCALE-SKU"
	const initial = 100_000
	clients[0].putItem(t, sku, initial, 10)
	if q := clients[1].item(t, sku).Quantity; q != initial {
		t.Fatalf("fresh SKU quantity through B = %d, want %d", q, initial)
	}

	// About 60 orders/s in all, half through each instance: more than the
	// payments API's 40/s, so a payments backlog exists when the leader dies.
	l := newLedger()
	loadStart := time.Now()
	ctxs := make([]context.Context, 2)
	cancels := make([]context.CancelFunc, 2)
	waits := make([]func(), 2)
	for i := range procs {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		waits[i] = runPacedLoad(ctxs[i], clients[i], l, names[i], 2, 33*time.Millisecond, sku)
	}
	stopLoad := func() {
		for i := range procs {
			cancels[i]()
			waits[i]()
		}
	}
	defer stopLoad()

	// Fault 1: shut down the node leading the events stream (any node if
	// none is found), under load.
	waitAcked(t, l, 120, 30*time.Second)
	events := strings.ToUpper(ns) + "_" + nats.Events
	victimNode := 0
	for i, s := range servers {
		if s.JetStreamIsStreamLeader("$G", events) {
			victimNode = i
		}
	}
	servers[victimNode].Shutdown()
	servers[victimNode].WaitForShutdown()
	t.Logf("shut down NATS node %s (leader of %s) after %d acknowledged orders (%s into the load)",
		servers[victimNode].Name(), events, l.nAcked.Load(), time.Since(loadStart).Round(time.Millisecond))

	// Fault 2: SIGKILL the instance leading the payment dispatcher (the one
	// whose death matters most), still under load.
	waitAcked(t, l, l.nAcked.Load()+120, 30*time.Second)
	payLeader := watch.waitLeader(t, "payments", 30*time.Second)
	relayLeader := watch.waitLeader(t, "relay", 30*time.Second)
	victim := 0
	if payLeader == ids[1] {
		victim = 1
	}
	survivor := 1 - victim
	procs[victim].kill()
	killedAt := time.Now()
	cancels[victim]() // its clients now only get connection refused
	waits[victim]()
	time.Sleep(50 * time.Millisecond) // let the mock finish what the victim had in flight
	acceptedAtKill := mock.Stats().Accepted
	t.Logf("SIGKILLed wims %s (leads payments; relay led by %s) after %d acknowledged orders (%s into the load)",
		names[victim], map[string]string{ids[0]: "A", ids[1]: "B", "": "nobody"}[relayLeader],
		l.nAcked.Load(), killedAt.Sub(loadStart).Round(time.Millisecond))

	// Keep loading the survivor through the fail-over, and measure it: the
	// leader keys changing hands, the first payment call of the new
	// dispatcher, and a probe order placed on the survivor right after the
	// kill getting reserved (relay + workflow working again).
	probe := crashReq{key: "scale-probe", customer: "cust-probe", sku: sku, qty: 1}
	probe.body, _ = json.Marshal(map[string]any{"customerId": probe.customer, "sku": probe.sku, "quantity": probe.qty})
	l.sent(probe)
	if err := sendOrder(context.Background(), clients[survivor], l, probe); err != nil {
		t.Fatalf("probe order on the survivor: %v", err)
	}
	probeID := wimshttp.OrderIDForKey(probe.key)
	var relayAt, payAt, paymentsAt, probeAt time.Duration
	deadline := time.Now().Add(45 * time.Second)
	for relayAt == 0 || payAt == 0 || paymentsAt == 0 || probeAt == 0 {
		since := time.Since(killedAt)
		if relayAt == 0 {
			if id, err := watch.leader("relay"); err == nil && id == ids[survivor] {
				relayAt = since
			}
		}
		if payAt == 0 {
			if id, err := watch.leader("payments"); err == nil && id == ids[survivor] {
				payAt = since
			}
		}
		if paymentsAt == 0 && mock.Stats().Accepted > acceptedAtKill {
			paymentsAt = since
		}
		if probeAt == 0 {
			if o, found, err := clients[survivor].getOrder(probeID); err == nil && found && o.Status != wims.OrderPending {
				probeAt = since
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete fail-over within 45 s of the kill: relay leader after %s, payments leader after %s, "+
				"first payment call after %s, probe order processed after %s (0 = not yet)", relayAt, payAt, paymentsAt, probeAt)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("FAIL-OVER after SIGKILL of %s: %s leads relay after %s, payments after %s; first payment call after %s; "+
		"an order placed right after the kill was reserved after %s",
		names[victim], names[survivor], relayAt.Round(time.Millisecond), payAt.Round(time.Millisecond),
		paymentsAt.Round(time.Millisecond), probeAt.Round(time.Millisecond))

	// A little more load on the survivor alone, then stop.
	waitAcked(t, l, l.nAcked.Load()+60, 30*time.Second)
	stopLoad()
	t.Logf("load stopped after %s: %d requests, %d acknowledged, %d unknown",
		time.Since(loadStart).Round(time.Millisecond), len(l.reqs), len(l.acked), len(l.unknown))

	n := retryUnknown(t, clients[survivor], l)
	t.Logf("retried %d unknown requests on %s", n, names[survivor])

	drainStart := time.Now()
	orders := checkGuarantees(t, clients[survivor], l, mock, sku, initial, 60*time.Second)
	t.Logf("done: %d orders all PAID %s after the load stopped; whole test %s",
		len(orders), time.Since(drainStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// metricSum returns the sum of every sample of metric in a Prometheus text
// exposition.
func metricSum(text, metric string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		name, rest, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if base, _, _ := strings.Cut(name, "{"); base != metric {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// TestScaleOutSharesWork runs two instances on one database and one NATS
// server, without faults, and places 100 orders split across them: all are
// paid, each once, and both instances did workflow work (the order-workflow
// target is one durable consumer shared by both).
func TestScaleOutSharesWork(t *testing.T) {
	bin := buildWims(t)
	pgURL := pgtest.URL(t)
	natsURL, _ := natstest.Server(t)
	ns := natstest.Namespace()
	mock := paymentsmock.New(paymentsmock.Options{Rate: scalePaymentsRate, Burst: scalePaymentsRate})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)

	procs := []*wimsProc{
		newScaleProc(t, bin, srv.URL+"/payments", pgURL, []string{natsURL}, 1, ns),
		newScaleProc(t, bin, srv.URL+"/payments", pgURL, []string{natsURL}, 1, ns),
	}
	procs[0].start()
	procs[1].start()
	clients := []*crashClient{newCrashClient(procs[0].url), newCrashClient(procs[1].url)}
	const sku = "SHARE-SKU"
	const initial = 10_000
	clients[1].putItem(t, sku, initial, 10)

	// 100 orders, 50 through each instance, 5 concurrent clients each.
	l := newLedger()
	var wg sync.WaitGroup
	for i, c := range clients {
		for g := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 10 {
					r := crashReq{
						key: fmt.Sprintf("share-%d-%d-%d", i, g, j), customer: fmt.Sprintf("cust-%d", i),
						sku: sku, qty: int64(j%3) + 1,
					}
					r.body, _ = json.Marshal(map[string]any{"customerId": r.customer, "sku": r.sku, "quantity": r.qty})
					l.sent(r)
					_ = sendOrder(context.Background(), c, l, r)
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
	}
	wg.Wait()
	if len(l.acked) != 100 || len(l.unknown) != 0 {
		t.Fatalf("%d of 100 orders acknowledged; unknown: %v", len(l.acked), l.unknown)
	}
	perInstance := map[byte]int{}
	for key := range l.acked {
		perInstance[key[len("share-")]]++
	}
	if perInstance['0'] != 50 || perInstance['1'] != 50 {
		t.Fatalf("acknowledged per instance: %v, want 50 and 50", perInstance)
	}

	checkGuarantees(t, clients[0], l, mock, sku, initial, 60*time.Second)

	// Both instances ran order workflows: the shared durable consumer
	// spread the events over them.
	var execs [2]float64
	for i, c := range clients {
		resp, body, err := c.do(context.Background(), "GET", "/metrics", nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %v %v", err, resp)
		}
		execs[i] = metricSum(string(body), "wims_workflow_executions_total")
	}
	t.Logf("workflow executions: A %.0f, B %.0f", execs[0], execs[1])
	if execs[0]+execs[1] < 100 {
		t.Errorf("instances report %.0f workflow executions in all, want at least 100", execs[0]+execs[1])
	}
	if execs[0] == 0 || execs[1] == 0 {
		t.Errorf("workflow executions A %.0f, B %.0f: one instance did no workflow work", execs[0], execs[1])
	}
}
