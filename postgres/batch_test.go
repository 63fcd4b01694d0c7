package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
)

// waitFor polls cond until it holds, failing the test after a generous
// deadline; it never asserts on timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommitBatch builds batches deterministically: the only committer
// is held inside a write while more queue up, then released, so the queued
// ones share one transaction. In the first batch every op succeeds (one
// repeats an id created earlier in the same batch); in the second one op
// fails (unknown SKU), one's caller gives up before its turn, and one
// repeats an id committed before. Each caller
// must get its own outcome, a batch's orders must be committed together, and
// the change log must stay gap-free and in batch order.
//
// It runs twice: with batches' order inserts in one statement, and with that
// statement failing, so that batches fall back to running op by op.
func TestGroupCommitBatch(t *testing.T) {
	t.Run("OneStatement", func(t *testing.T) { testGroupCommitBatch(t, false) })
	t.Run("OpByOp", func(t *testing.T) { testGroupCommitBatch(t, true) })
}

func testGroupCommitBatch(t *testing.T, opByOp bool) {
	url := pgtest.URL(t)
	s := mustOpen(t, postgres.Options{URL: url, Committers: 1})
	if opByOp {
		postgres.BreakSpeculation(s)
	}
	ctx := t.Context()
	if _, err := s.PutItem(ctx, wims.Item{SKU: "SKU-A", ProductName: "P", Quantity: 100}); err != nil {
		t.Fatal(err)
	}
	// gate holds a release channel while a round wants the committer held;
	// the hook takes it and waits on it.
	gate := make(chan chan struct{}, 1)
	postgres.SetTestHooks(s, func(context.Context, *pgx.Conn) error {
		select {
		case release := <-gate:
			<-release
		default:
		}
		return nil
	}, nil)

	type result struct {
		o       wims.Order
		created bool
		err     error
	}
	type op struct {
		ctx               context.Context
		id, customer, sku string
		lines             []wims.OrderLine // if set, instead of sku
	}
	create := func(o op) chan result {
		ch := make(chan result, 1)
		go func() {
			order := wims.Order{ID: o.id, CustomerID: o.customer, SKU: o.sku, Quantity: 2}
			if o.lines != nil {
				order = wims.Order{ID: o.id, CustomerID: o.customer, Lines: o.lines}
			}
			got, created, err := s.CreateOrder(o.ctx, order)
			ch <- result{got, created, err}
		}()
		return ch
	}
	// round holds the committer in holder's write, queues ops one at a time
	// (so the batch keeps their order), calls before, releases the
	// committer, and returns the holder's and the ops' results.
	round := func(holder op, ops []op, before func()) (result, []result) {
		release := make(chan struct{})
		gate <- release
		first := create(holder)
		waitFor(t, "the committer to be held", func() bool { return len(gate) == 0 })
		var chs []chan result
		for i, o := range ops {
			chs = append(chs, create(o))
			waitFor(t, fmt.Sprintf("op %d to queue", i), func() bool { return postgres.QueuedWrites(s) == i+1 })
		}
		before()
		close(release)
		var rs []result
		for _, ch := range chs {
			rs = append(rs, <-ch)
		}
		return <-first, rs
	}
	c := rawConn(t, url)
	xmin := func(id string) string {
		var x string
		if err := c.QueryRow(ctx, `SELECT xmin::text FROM orders WHERE order_id = $1`, id).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}

	// Round 1: every op succeeds, so the batch runs without savepoints and
	// its rows carry the batch transaction's xid.
	first, rs := round(op{ctx, "o-first", "c", "SKU-A", nil}, []op{
		{ctx, "o-1", "c1", "SKU-A", nil},
		{ctx, "o-2", "c", "SKU-A", nil},
		{ctx, "o-1", "c-dup", "SKU-A", nil},
	}, func() {})
	if first.err != nil || !first.created {
		t.Fatalf("o-first: created %v, %v", first.created, first.err)
	}
	if r := rs[0]; r.err != nil || !r.created || r.o.CustomerID != "c1" {
		t.Fatalf("o-1: %+v created %v, %v", r.o, r.created, r.err)
	}
	if r := rs[1]; r.err != nil || !r.created {
		t.Fatalf("o-2: created %v, %v", r.created, r.err)
	}
	if r := rs[2]; r.err != nil || r.created || r.o.CustomerID != "c1" {
		t.Fatalf("o-1 again: %+v created %v, %v; want the first o-1, not created", r.o, r.created, r.err)
	}
	if x1, x2, xf := xmin("o-1"), xmin("o-2"), xmin("o-first"); x1 != x2 || x1 == xf {
		t.Fatalf("xmin o-1 %s, o-2 %s, o-first %s: want o-1 and o-2 in one transaction, o-first in another", x1, x2, xf)
	}

	// Round 2: one op fails and one caller gives up while queued.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hold, rs := round(op{ctx, "o-hold", "c", "SKU-A", nil}, []op{
		{ctx, "o-3", "c", "SKU-A", nil},
		{ctx, "o-bad", "c", "SKU-NONE", nil},
		{ctx, "o-4", "c", "SKU-A", nil},
		{cctx, "o-gone", "c", "SKU-A", nil},
		{ctx, "o-first", "c-again", "SKU-A", nil},
	}, cancel)
	if hold.err != nil || !hold.created {
		t.Fatalf("o-hold: created %v, %v", hold.created, hold.err)
	}
	for _, i := range []int{0, 2} {
		if r := rs[i]; r.err != nil || !r.created {
			t.Fatalf("op %d: created %v, %v", i, r.created, r.err)
		}
	}
	if r := rs[1]; wims.ErrorCode(r.err) != wims.EINVALID {
		t.Fatalf("o-bad: %v (code %s), want EINVALID", r.err, wims.ErrorCode(r.err))
	}
	if r := rs[3]; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("o-gone: %v, want context.Canceled", r.err)
	}
	if r := rs[4]; r.err != nil || r.created || r.o.CustomerID != "c" {
		t.Fatalf("o-first again: %+v created %v, %v; want the stored o-first, not created", r.o, r.created, r.err)
	}
	// Op by op, a failing op makes the batch use savepoints, whose rows
	// carry subtransaction xids.
	if x3, x4 := xmin("o-3"), xmin("o-4"); x3 != x4 && !opByOp {
		t.Fatalf("xmin o-3 %s, o-4 %s: want one transaction", x3, x4)
	}
	for _, id := range []string{"o-bad", "o-gone"} {
		if _, err := s.GetOrder(ctx, id); wims.ErrorCode(err) != wims.ENOTFOUND {
			t.Fatalf("%s: %v, want ENOTFOUND", id, err)
		}
	}

	// The log: the item, then the orders in batch order, with seqs 1..n.
	cs, err := s.ReadChanges(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	want = append(want, `{"sku":"SKU-A"}`)
	for _, id := range []string{"o-first", "o-1", "o-2", "o-hold", "o-3", "o-4"} {
		want = append(want, `{"orderId":"`+id+`"}`)
	}
	if len(cs) != len(want) {
		t.Fatalf("%d changes, want %d: %v", len(cs), len(want), cs)
	}
	for i, ch := range cs {
		if ch.Seq != int64(i+1) || string(ch.Key) != want[i] {
			t.Fatalf("change %d: seq %d key %s, want seq %d key %s", i, ch.Seq, ch.Key, i+1, want[i])
		}
	}

	// Round 3: multi-line orders in a batch of one-line ones. Speculation
	// refuses them, so they run the ordinary way inside the batch: stored
	// with their lines, or refused at the line with the unknown SKU.
	if _, err := s.PutItem(ctx, wims.Item{SKU: "SKU-B", ProductName: "P", Quantity: 100}); err != nil {
		t.Fatal(err)
	}
	two := []wims.OrderLine{{SKU: "SKU-B", Quantity: 1}, {SKU: "SKU-A", Quantity: 3}}
	hold, rs = round(op{ctx, "o-hold3", "c", "SKU-A", nil}, []op{
		{ctx, "o-5", "c", "SKU-A", nil},
		{ctx, "o-multi", "c", "", two},
		{ctx, "o-multi-bad", "c", "", []wims.OrderLine{{SKU: "SKU-A", Quantity: 1}, {SKU: "SKU-NONE", Quantity: 1}}},
		{ctx, "o-6", "c", "SKU-A", nil},
	}, func() {})
	for i, r := range append([]result{hold}, rs[0], rs[1], rs[3]) {
		if r.err != nil || !r.created {
			t.Fatalf("round 3 op %d: created %v, %v", i, r.created, r.err)
		}
	}
	if got, err := s.GetOrder(ctx, "o-multi"); err != nil || !slices.Equal(got.Lines, two) || got.SKU != "SKU-B" || got.Quantity != 4 {
		t.Fatalf("o-multi: %+v, %v", got, err)
	}
	if r := rs[2]; wims.ErrorField(r.err) != "lines[1].sku" {
		t.Fatalf("o-multi-bad: %v, want EINVALID on lines[1].sku", r.err)
	}
	if cs, err := s.ReadChanges(ctx, int64(len(want)), 100); err != nil || len(cs) != 5 { // SKU-B and four orders
		t.Fatalf("round 3 logged %d changes, %v; want 5", len(cs), err)
	}
}

// TestGroupCommitStress runs many concurrent order creations on two
// instances, mixed with reservations, unknown SKUs, repeated ids and callers
// that give up at random moments, while a reader pages through the log like
// the relay. At
// the end the log must hold seqs 1..n with no gap, every change exactly
// once and in increasing seq order as the reader saw them, one INSERT per
// existing order and none for a missing one, every acknowledged order must
// exist, and stock must be conserved.
func TestGroupCommitStress(t *testing.T) {
	url := pgtest.URL(t)
	s := mustOpen(t, postgres.Options{URL: url, MaxConns: 8, Committers: 2})
	// A second instance on the same database, whose batches interleave with
	// the first's.
	s2 := mustOpen(t, postgres.Options{URL: url, MaxConns: 8})
	// The reader and the checks use a third, so that the writing two can be
	// closed first: a caller that gave up may return before its batch
	// commits, and Close waits for every queued batch.
	rd := mustOpen(t, postgres.Options{URL: url, MaxConns: 4})
	ctx := t.Context()
	const initial = 100000
	skus := []string{"SKU-A", "SKU-B"}
	for _, k := range skus {
		if _, err := s.PutItem(ctx, wims.Item{SKU: k, ProductName: "P", Quantity: initial}); err != nil {
			t.Fatal(err)
		}
	}
	const (
		writers = 32
		opsEach = 40
	)
	var (
		mu    sync.Mutex
		acked = map[string]bool{} // order ids acknowledged as existing
		tried = map[string]bool{} // every id a create was attempted for
	)
	done := make(chan struct{})
	var (
		seen    []wims.Change
		readErr error
		reader  sync.WaitGroup
	)
	reader.Go(func() {
		var cursor int64
		finished := false
		for {
			page, err := rd.ReadChanges(ctx, cursor, 200)
			if err != nil {
				readErr = err
				return
			}
			for _, c := range page {
				if c.Seq <= cursor {
					readErr = fmt.Errorf("ReadChanges(after=%d) returned seq %d", cursor, c.Seq)
					return
				}
				cursor = c.Seq
			}
			seen = append(seen, page...)
			if len(page) > 0 {
				continue
			}
			if finished {
				return
			}
			select {
			case <-done:
				finished = true
			case <-rd.ChangeSignal():
			case <-time.After(5 * time.Millisecond):
			}
		}
	})

	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		st := s
		if g%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range opsEach {
				id := fmt.Sprintf("o-%d-%d", g, i)
				sku := skus[r.IntN(len(skus))]
				switch n := r.IntN(20); {
				case n < 2 && i > 0:
					// A retried request; it returns the stored order, SKU
					// and all, so it keeps to a known SKU.
					id = fmt.Sprintf("o-%d-%d", g, i-1)
				case n == 2:
					sku = "SKU-NONE"
				}
				octx, cancel := ctx, context.CancelFunc(func() {})
				giveUp := r.IntN(10) == 0
				if giveUp {
					octx, cancel = context.WithTimeout(ctx, time.Duration(r.IntN(2000))*time.Microsecond)
				}
				mu.Lock()
				tried[id] = true
				mu.Unlock()
				_, _, err := st.CreateOrder(octx, wims.Order{ID: id, CustomerID: "c", SKU: sku, Quantity: 1 + r.Int64N(5)})
				cancel()
				switch {
				case err == nil && sku == "SKU-NONE":
					errs <- fmt.Errorf("create %s on an unknown SKU succeeded", id)
					return
				case err == nil:
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				case sku == "SKU-NONE" && wims.ErrorCode(err) == wims.EINVALID:
				case giveUp && octx.Err() != nil:
				default:
					errs <- fmt.Errorf("create %s: %w", id, err)
					return
				}
				if err == nil && r.IntN(2) == 0 {
					if _, err := st.ReserveStock(ctx, id); err != nil {
						errs <- fmt.Errorf("reserve %s: %w", id, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	s.Close()
	s2.Close()
	close(done)
	reader.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if readErr != nil {
		t.Fatal(readErr)
	}

	// Gap-free: the reader saw seqs 1..n, each once, in order, and that is
	// the whole log.
	for i, c := range seen {
		if c.Seq != int64(i+1) {
			t.Fatalf("change %d has seq %d: the log has a gap or the reader skipped", i, c.Seq)
		}
	}
	var logged, maxSeq int64
	if err := rawConn(t, url).QueryRow(ctx, `SELECT count(*), coalesce(max(seq), 0) FROM change_log`).Scan(&logged, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if logged != int64(len(seen)) || maxSeq != logged {
		t.Fatalf("the log holds %d changes up to seq %d; the reader saw %d", logged, maxSeq, len(seen))
	}
	inserts := map[string]int{}
	for _, c := range seen {
		if c.Table == wims.TableOrders && c.EventType == wims.ChangeInsert {
			inserts[string(c.Key)]++
		}
	}
	held := map[string]int64{}
	for id := range tried {
		o, err := rd.GetOrder(ctx, id)
		key := `{"orderId":"` + id + `"}`
		switch {
		case wims.ErrorCode(err) == wims.ENOTFOUND:
			if acked[id] || inserts[key] != 0 {
				t.Fatalf("%s: missing, but acknowledged %v, %d INSERT changes", id, acked[id], inserts[key])
			}
			continue
		case err != nil:
			t.Fatal(err)
		}
		if inserts[key] != 1 {
			t.Fatalf("%s: exists with %d INSERT changes, want 1", id, inserts[key])
		}
		if o.HoldsStock() {
			held[o.SKU] += o.Quantity
		}
	}
	for _, k := range skus {
		it, err := rd.GetItem(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if it.Quantity != initial-held[k] {
			t.Fatalf("%s: quantity %d, want %d - %d held", k, it.Quantity, initial, held[k])
		}
	}
	var txs, orders int
	if err := rawConn(t, url).QueryRow(ctx, `SELECT count(DISTINCT xmin::text), count(*) FROM orders`).Scan(&txs, &orders); err != nil {
		t.Fatal(err)
	}
	// xmin is the inserting subtransaction when the batch used savepoints,
	// so this over-counts transactions; it is a hint, not a check.
	t.Logf("%d changes; %d orders (%d acknowledged) with %d distinct xmins", len(seen), orders, len(acked), txs)
}

// checkLog reads the whole change log and checks that its seqs are 1..n
// and that every change's old image is the new image of the change before
// it to the same row (nothing lost, reordered or computed from a stale
// row). It returns the log.
func checkLog(t *testing.T, s *postgres.Store) []wims.Change {
	t.Helper()
	var all []wims.Change
	for {
		page, err := s.ReadChanges(t.Context(), int64(len(all)), 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
	}
	last := map[string]json.RawMessage{}
	for i, c := range all {
		if c.Seq != int64(i+1) {
			t.Fatalf("change %d has seq %d: the log has a gap", i, c.Seq)
		}
		key := c.Table + string(c.Key)
		if prev, ok := last[key]; ok && !bytes.Equal(prev, c.OldImage) {
			t.Fatalf("seq %d %s: old image %s, but the change before made it %s", c.Seq, key, c.OldImage, prev)
		}
		last[key] = c.NewImage
	}
	return all
}

// lockWaiters counts the sessions of the database that wait for a lock.
func lockWaiters(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	return count(t, c, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
}

// TestTransitionBatch builds one batch of the pipeline's transitions
// deterministically: the transition committer is held in a batch whose
// order a raw transaction has locked, while the others queue, then
// released, so the queued ones share one transaction. The batch mixes
// every batched kind of write; some fail on their own (an unknown order, a
// shipment of an unpaid order), one rejects for lack of stock, two reserve
// from the same item one after the other, and one payment failure returns
// stock to an item with backorders waiting, which the rows locked ahead
// cannot fill, so that op runs the ordinary way after the others. Each
// caller must get its own outcome, stock must be conserved, backorders
// filled first-come first-served, and the log gap-free with every row's
// images chained.
//
// It runs twice: locking ahead, and with the lock-ahead writes failing, so
// that batches fall back to running op by op.
func TestTransitionBatch(t *testing.T) {
	t.Run("LockAhead", func(t *testing.T) { testTransitionBatch(t, false) })
	t.Run("OpByOp", func(t *testing.T) { testTransitionBatch(t, true) })
}

func testTransitionBatch(t *testing.T, opByOp bool) {
	url := pgtest.URL(t)
	s := mustOpen(t, postgres.Options{URL: url})
	ctx := t.Context()
	for _, it := range []wims.Item{
		{SKU: "SKU-A", ProductName: "P", Quantity: 20, LowStockThreshold: 15},
		{SKU: "SKU-B", ProductName: "P", Quantity: 1, AllowBackorder: true},
	} {
		if _, err := s.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	create := func(id, sku string, q int64) {
		t.Helper()
		if _, _, err := s.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: sku, Quantity: q}); err != nil {
			t.Fatal(err)
		}
	}
	reserve := func(id string, want wims.OrderStatus) {
		t.Helper()
		if o, err := s.ReserveStock(ctx, id); err != nil || o.Status != want {
			t.Fatalf("reserve %s: %s, %v; want %s", id, o.Status, err, want)
		}
	}
	for _, o := range []struct {
		id, sku string
		q       int64
	}{{"o-hold", "SKU-A", 1}, {"o-r1", "SKU-A", 2}, {"o-r2", "SKU-A", 3}, {"o-big", "SKU-A", 50}, {"o-pay", "SKU-A", 1},
		{"o-fail", "SKU-A", 4}, {"o-pend", "SKU-A", 1}, {"o-b1", "SKU-B", 1}, {"o-bo", "SKU-B", 1}, {"o-b2", "SKU-B", 1},
		{"o-twice", "SKU-A", 1}} {
		create(o.id, o.sku, o.q)
	}
	// A multi-line order, whose second line's item must be locked ahead
	// too.
	if _, err := s.PutItem(ctx, wims.Item{SKU: "SKU-C", ProductName: "P", Quantity: 5}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateOrder(ctx, wims.Order{ID: "o-multi", CustomerID: "c",
		Lines: []wims.OrderLine{{SKU: "SKU-C", Quantity: 2}, {SKU: "SKU-A", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	reserve("o-pay", wims.OrderReserved)
	reserve("o-fail", wims.OrderReserved)
	reserve("o-b1", wims.OrderReserved)
	reserve("o-bo", wims.OrderBackordered) // SKU-B is out: o-bo waits
	if opByOp {
		postgres.BreakAhead(s)
	}

	// Hold the transition committer: its batch (o-hold) waits for the
	// order's lock, which a raw transaction holds until released.
	c := rawConn(t, url)
	holder := rawConn(t, url)
	if _, err := holder.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `SELECT 1 FROM orders WHERE order_id = 'o-hold' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		o   wims.Order
		err error
	}
	run := func(f func() (wims.Order, error)) chan result {
		ch := make(chan result, 1)
		go func() {
			o, err := f()
			ch <- result{o, err}
		}()
		return ch
	}
	held := run(func() (wims.Order, error) { return s.ReserveStock(ctx, "o-hold") })
	waitFor(t, "the committer to wait for o-hold", func() bool { return lockWaiters(t, c) == 1 && postgres.QueuedTransitions(s) == 0 })

	none := func() (wims.Order, error) { return wims.Order{}, nil }
	ops := []struct {
		name string
		f    func() (wims.Order, error)
	}{
		{"reserve o-r1", func() (wims.Order, error) { return s.ReserveStock(ctx, "o-r1") }},
		{"reserve o-none", func() (wims.Order, error) { return s.ReserveStock(ctx, "o-none") }},
		{"reserve o-r2", func() (wims.Order, error) { return s.ReserveStock(ctx, "o-r2") }},
		{"attempt o-pay", func() (wims.Order, error) {
			return none()
		}},
		{"pay o-pay", func() (wims.Order, error) { return s.CompletePayment(ctx, "o-pay", true, "") }},
		{"reserve o-big", func() (wims.Order, error) { return s.ReserveStock(ctx, "o-big") }},
		{"ship o-pend", func() (wims.Order, error) {
			return s.ShipOrder(ctx, "o-pend", wims.Shipment{Carrier: "UPS", TrackingID: "1Z"})
		}},
		{"fail o-fail", func() (wims.Order, error) { return s.CompletePayment(ctx, "o-fail", false, "declined") }},
		{"execution", none},
		{"reserve o-b2", func() (wims.Order, error) { return s.ReserveStock(ctx, "o-b2") }},
		{"fail o-b1", func() (wims.Order, error) { return s.CompletePayment(ctx, "o-b1", false, "declined") }},
		// Two transitions of one order, and two saves of one execution.
		{"reserve o-twice", func() (wims.Order, error) { return s.ReserveStock(ctx, "o-twice") }},
		{"pay o-twice", func() (wims.Order, error) { return s.CompletePayment(ctx, "o-twice", true, "") }},
		{"execution again", func() (wims.Order, error) {
			return wims.Order{}, s.SaveExecution(ctx, wims.Execution{ID: "x-1", OrderID: "o-r1", Workflow: "order",
				Status: wims.ExecutionFailed, StartedAt: time.Now()})
		}},
		{"reserve o-multi", func() (wims.Order, error) { return s.ReserveStock(ctx, "o-multi") }},
	}
	// The two writes that return no order.
	ops[3].f = func() (wims.Order, error) {
		return wims.Order{}, s.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: "o-pay", Attempt: 1, Outcome: wims.PaymentPaid, StatusCode: 200})
	}
	started := time.Now()
	ops[8].f = func() (wims.Order, error) {
		return wims.Order{}, s.SaveExecution(ctx, wims.Execution{ID: "x-1", OrderID: "o-r1", Workflow: "order",
			Status: wims.ExecutionSucceeded, StartedAt: started, Steps: []wims.Step{{Name: "reserve", Outcome: "OK", StartedAt: started}}})
	}
	var chs []chan result
	for i, op := range ops {
		chs = append(chs, run(op.f))
		waitFor(t, op.name+" to queue", func() bool { return postgres.QueuedTransitions(s) == i+1 })
	}
	if _, err := holder.Exec(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	if r := <-held; r.err != nil || r.o.Status != wims.OrderReserved {
		t.Fatalf("o-hold: %s, %v", r.o.Status, r.err)
	}
	rs := map[string]result{}
	for i, ch := range chs {
		rs[ops[i].name] = <-ch
	}

	for name, want := range map[string]wims.OrderStatus{
		"reserve o-r1": wims.OrderReserved, "reserve o-r2": wims.OrderReserved, "pay o-pay": wims.OrderPaid,
		"reserve o-big": wims.OrderRejected, "fail o-fail": wims.OrderPaymentFailed,
		"reserve o-b2": wims.OrderBackordered, "fail o-b1": wims.OrderPaymentFailed,
		"reserve o-twice": wims.OrderReserved, "pay o-twice": wims.OrderPaid, "reserve o-multi": wims.OrderReserved,
	} {
		if r := rs[name]; r.err != nil || r.o.Status != want {
			t.Fatalf("%s: %s, %v; want %s", name, r.o.Status, r.err, want)
		}
	}
	if r := rs["reserve o-big"]; r.o.Reason != "insufficient stock: requested 50, available 9" {
		t.Fatalf("o-big: reason %q", r.o.Reason)
	}
	for _, name := range []string{"attempt o-pay", "execution", "execution again"} {
		if err := rs[name].err; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := rs["reserve o-none"].err; wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("reserve o-none: %v (code %s), want ENOTFOUND", err, wims.ErrorCode(err))
	}
	if err := rs["ship o-pend"].err; wims.ErrorCode(err) != wims.ECONFLICT {
		t.Fatalf("ship o-pend: %v (code %s), want ECONFLICT", err, wims.ErrorCode(err))
	}

	// What the batch left: o-b1's unit went to o-bo, which waited first;
	// o-b2 still waits. The others are as their callers heard.
	for id, want := range map[string]wims.OrderStatus{
		"o-bo": wims.OrderReserved, "o-b2": wims.OrderBackordered, "o-pend": wims.OrderPending,
		"o-r1": wims.OrderReserved, "o-pay": wims.OrderPaid, "o-fail": wims.OrderPaymentFailed,
	} {
		if o, err := s.GetOrder(ctx, id); err != nil || o.Status != want {
			t.Fatalf("%s: %s, %v; want %s", id, o.Status, err, want)
		}
	}
	if as, err := s.PaymentAttempts(ctx, "o-pay"); err != nil || len(as) != 1 {
		t.Fatalf("attempts of o-pay: %v, %v", as, err)
	}
	if xs, err := s.Executions(ctx, "o-r1"); err != nil || len(xs) != 1 || xs[0].ID != "x-1" || xs[0].Status != wims.ExecutionFailed {
		t.Fatalf("executions of o-r1: %+v, %v; want x-1 as saved last", xs, err)
	}
	h, err := s.OrderHistory(ctx, "o-twice")
	if err != nil {
		t.Fatal(err)
	}
	var statuses []wims.OrderStatus
	for _, c := range h {
		statuses = append(statuses, c.Status)
	}
	if want := []wims.OrderStatus{wims.OrderPending, wims.OrderReserved, wims.OrderPaid}; !slices.Equal(statuses, want) {
		t.Fatalf("history of o-twice: %v, want %v", statuses, want)
	}
	// Conservation: on hand plus what orders hold is what there was.
	held2 := map[string]int64{}
	for _, id := range []string{"o-hold", "o-r1", "o-r2", "o-big", "o-pay", "o-fail", "o-pend", "o-b1", "o-bo", "o-b2", "o-twice", "o-multi"} {
		o, err := s.GetOrder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if o.HoldsStock() {
			for _, l := range o.Lines {
				held2[l.SKU] += l.Quantity
			}
		}
	}
	for sku, initial := range map[string]int64{"SKU-A": 20, "SKU-B": 1, "SKU-C": 5} {
		it, err := s.GetItem(ctx, sku)
		if err != nil {
			t.Fatal(err)
		}
		if it.Quantity+held2[sku] != initial {
			t.Fatalf("%s: %d on hand + %d held, want %d", sku, it.Quantity, held2[sku], initial)
		}
	}
	// Locked ahead, the ops' writes are the batch transaction's own (only
	// the miss, o-b1, ran in a savepoint); op by op, a failing op makes the
	// batch use savepoints, whose rows carry subtransaction xids.
	var xids int
	if err := c.QueryRow(ctx, `SELECT count(DISTINCT xmin::text) FROM orders WHERE order_id IN ('o-r1', 'o-r2', 'o-pay', 'o-fail', 'o-big', 'o-b2', 'o-twice', 'o-multi')`).Scan(&xids); err != nil {
		t.Fatal(err)
	}
	if opByOp != (xids > 1) {
		t.Fatalf("the batch's orders carry %d xids; want 1 locked ahead, more op by op", xids)
	}
	checkLog(t, s)
}

// TestTransitionBatchConcurrentReservations reserves orders of one SKU from
// many goroutines on two instances of one database, so that batches of
// both instances' transition committers (and the accepts' batches) contend
// for the item, with stock for only part of the orders, and payments
// failing for some, which puts their stock back. Every reservation must
// end RESERVED or REJECTED as the stock allows, and at the end the stock on
// hand plus what the orders hold must be what there was, with the log's
// images chained.
func TestTransitionBatchConcurrentReservations(t *testing.T) {
	url := pgtest.URL(t)
	s1 := mustOpen(t, postgres.Options{URL: url, MaxConns: 8})
	s2 := mustOpen(t, postgres.Options{URL: url, MaxConns: 8})
	ctx := t.Context()
	const initial = 300
	if _, err := s1.PutItem(ctx, wims.Item{SKU: "SKU-A", ProductName: "P", Quantity: initial, LowStockThreshold: 100}); err != nil {
		t.Fatal(err)
	}
	const (
		writers = 32
		each    = 10
	)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		s := s1
		if g%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range each {
				id := fmt.Sprintf("o-%d-%d", g, i)
				q := 1 + r.Int64N(3)
				if _, _, err := s.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: "SKU-A", Quantity: q}); err != nil {
					errs <- err
					return
				}
				o, err := s.ReserveStock(ctx, id)
				switch {
				case err != nil:
					errs <- fmt.Errorf("reserve %s: %w", id, err)
					return
				case o.Status == wims.OrderRejected:
					continue
				case o.Status != wims.OrderReserved:
					errs <- fmt.Errorf("reserve %s: %s", id, o.Status)
					return
				}
				paid := r.IntN(4) != 0
				if o, err = s.CompletePayment(ctx, id, paid, "declined"); err != nil {
					errs <- fmt.Errorf("pay %s: %w", id, err)
					return
				}
				if (o.Status == wims.OrderPaid) != paid {
					errs <- fmt.Errorf("pay %s (%v): %s", id, paid, o.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var held int64
	rejected := 0
	for g := range writers {
		for i := range each {
			id := fmt.Sprintf("o-%d-%d", g, i)
			o, err := s1.GetOrder(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if o.HoldsStock() {
				held += o.Quantity
			}
			if o.Status == wims.OrderRejected {
				rejected++
			}
		}
	}
	it, err := s1.GetItem(ctx, "SKU-A")
	if err != nil {
		t.Fatal(err)
	}
	if it.Quantity < 0 || it.Quantity+held != initial {
		t.Fatalf("%d on hand + %d held, want %d", it.Quantity, held, initial)
	}
	// With about 600 units asked of 300, some orders must have been
	// turned away; if none were, the stock check did not run.
	if rejected == 0 {
		t.Fatal("no order was rejected")
	}
	checkLog(t, s1)
	t.Logf("%d held, %d on hand, %d rejected", held, it.Quantity, rejected)
}

// TestTransitionBatchDeadlock forces a deadlock between a batch and an
// unbatched transaction that locks in the opposite order, as a restock
// filling backorders does (item, then order): the raw transaction holds
// item A, the batch locks its orders and waits for A, then the raw
// transaction asks for order o-a, which the batch holds. PostgreSQL aborts
// the batch (the raw transaction's deadlock_timeout is raised so that it is
// not the one chosen), the batch is retried whole once the raw transaction
// has committed, and every op must end with its correct result, computed
// from the stock the raw transaction left: no caller may see the deadlock.
func TestTransitionBatchDeadlock(t *testing.T) {
	url := pgtest.URL(t)
	s := mustOpen(t, postgres.Options{URL: url})
	ctx := t.Context()
	for _, sku := range []string{"SKU-A", "SKU-B"} {
		if _, err := s.PutItem(ctx, wims.Item{SKU: sku, ProductName: "P", Quantity: 10}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []wims.Order{
		{ID: "o-a", CustomerID: "c", SKU: "SKU-A", Quantity: 2},
		{ID: "o-b", CustomerID: "c", SKU: "SKU-B", Quantity: 3},
	} {
		if _, _, err := s.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	c := rawConn(t, url)
	deadlocks := func() int {
		t.Helper()
		if _, err := c.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		return count(t, c, `SELECT deadlocks::int FROM pg_stat_database WHERE datname = current_database()`)
	}
	before := deadlocks()

	raw := rawConn(t, url)
	for _, q := range []string{`BEGIN`, `SET LOCAL deadlock_timeout = '60s'`,
		`SELECT 1 FROM inventory WHERE sku = 'SKU-A' FOR NO KEY UPDATE`} {
		if _, err := raw.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	type result struct {
		o   wims.Order
		err error
	}
	ra, rb, rp := make(chan result, 1), make(chan result, 1), make(chan error, 1)
	go func() { o, err := s.ReserveStock(ctx, "o-a"); ra <- result{o, err} }()
	go func() { o, err := s.ReserveStock(ctx, "o-b"); rb <- result{o, err} }()
	go func() {
		rp <- s.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: "o-a", Attempt: 1, Outcome: wims.PaymentError})
	}()
	waitFor(t, "the batch to wait for SKU-A", func() bool { return lockWaiters(t, c) == 1 })
	// This waits until PostgreSQL has broken the deadlock by aborting the
	// batch, whose locks it then gets.
	if _, err := raw.Exec(ctx, `SELECT 1 FROM orders WHERE order_id = 'o-a' FOR NO KEY UPDATE`); err != nil {
		t.Fatalf("the raw transaction was aborted, not the batch: %v", err)
	}
	if _, err := raw.Exec(ctx, `UPDATE inventory SET quantity = quantity + 5 WHERE sku = 'SKU-A'`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}

	a, b := <-ra, <-rb
	if a.err != nil || a.o.Status != wims.OrderReserved || b.err != nil || b.o.Status != wims.OrderReserved {
		t.Fatalf("o-a: %s, %v; o-b: %s, %v; want both RESERVED", a.o.Status, a.err, b.o.Status, b.err)
	}
	if err := <-rp; err != nil {
		t.Fatalf("payment attempt: %v", err)
	}
	for sku, want := range map[string]int64{"SKU-A": 10 + 5 - 2, "SKU-B": 10 - 3} {
		if it, err := s.GetItem(ctx, sku); err != nil || it.Quantity != want {
			t.Fatalf("%s: %d, %v; want %d", sku, it.Quantity, err, want)
		}
	}
	if as, err := s.PaymentAttempts(ctx, "o-a"); err != nil || len(as) != 1 {
		t.Fatalf("attempts of o-a: %v, %v; want one", as, err)
	}
	// The retried batch decided on the rows as the raw transaction left
	// them, not as the aborted attempt read them: its change of SKU-A goes
	// from 15 (the raw transaction's restock, which has no change of its
	// own) to 13.
	cs, err := s.ReadChanges(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var last wims.Change
	for _, ch := range cs {
		if ch.Table == wims.TableInventory && string(ch.Key) == `{"sku":"SKU-A"}` {
			last = ch
		}
	}
	var oldItem, newItem wims.Item
	if err := json.Unmarshal(last.OldImage, &oldItem); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(last.NewImage, &newItem); err != nil {
		t.Fatal(err)
	}
	if oldItem.Quantity != 15 || newItem.Quantity != 13 {
		t.Fatalf("the reservation's change of SKU-A: %d to %d, want 15 to 13", oldItem.Quantity, newItem.Quantity)
	}
	// The deadlock really happened (the statistics lag a little).
	waitFor(t, "the deadlock to be counted", func() bool { return deadlocks() > before })
}

// TestTransitionBatchClosed checks that the batched writes fail with
// EUNAVAILABLE once the store is closed, rather than hang or panic on the
// closed queue.
func TestTransitionBatchClosed(t *testing.T) {
	s, err := postgres.Open(t.Context(), postgres.Options{URL: pgtest.URL(t), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, _, err := s.CreateOrder(ctx, wims.Order{ID: "o-1", CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"create": func() error {
			_, _, err := s.CreateOrder(ctx, wims.Order{ID: "o-2", CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1})
			return err
		}(),
		"reserve":  func() error { _, err := s.ReserveStock(ctx, "o-1"); return err }(),
		"complete": func() error { _, err := s.CompletePayment(ctx, "o-1", true, ""); return err }(),
		"refund":   func() error { _, err := s.CompleteRefund(ctx, "o-1"); return err }(),
		"ship": func() error {
			_, err := s.ShipOrder(ctx, "o-1", wims.Shipment{Carrier: "UPS", TrackingID: "1Z"})
			return err
		}(),
		"payment attempt": s.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: "o-1", Attempt: 1, Outcome: wims.PaymentPaid}),
		"execution":       s.SaveExecution(ctx, wims.Execution{ID: "x-1", OrderID: "o-1", StartedAt: time.Now()}),
	} {
		if wims.ErrorCode(err) != wims.EUNAVAILABLE {
			t.Errorf("%s after Close: %v (code %s), want EUNAVAILABLE", name, err, wims.ErrorCode(err))
		}
	}
}

// TestTransitionBatchFallbackAtCommit makes a locked-ahead batch's writes
// fail in the round trip that also appends its changes and commits (no op
// misses, so the writes go there): the transaction is rolled back and the
// batch runs op by op, so each write is applied exactly once and its
// caller hears success only from the run that committed.
func TestTransitionBatchFallbackAtCommit(t *testing.T) {
	var logged syncBuffer
	s := mustOpen(t, postgres.Options{URL: pgtest.URL(t), Seed: true, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	ctx := t.Context()
	if _, _, err := s.CreateOrder(ctx, wims.Order{ID: "o-1", CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	before, err := s.GetItem(ctx, wims.DefaultSKU)
	if err != nil {
		t.Fatal(err)
	}
	postgres.BreakAhead(s)
	if o, err := s.ReserveStock(ctx, "o-1"); err != nil || o.Status != wims.OrderReserved {
		t.Fatalf("reserve: %s, %v", o.Status, err)
	}
	// A batch that names no order begins its transaction in that round
	// trip too.
	if err := s.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: "o-1", Attempt: 1, Outcome: wims.PaymentPaid}); err != nil {
		t.Fatal(err)
	}
	if as, err := s.PaymentAttempts(ctx, "o-1"); err != nil || len(as) != 1 {
		t.Fatalf("attempts: %v, %v; want one", as, err)
	}
	if it, err := s.GetItem(ctx, wims.DefaultSKU); err != nil || it.Quantity != before.Quantity-1 {
		t.Fatalf("stock %d, %v; want %d", it.Quantity, err, before.Quantity-1)
	}
	if h, err := s.OrderHistory(ctx, "o-1"); err != nil || len(h) != 2 {
		t.Fatalf("history %v, %v; want PENDING, RESERVED", h, err)
	}
	// Both batches took the fallback.
	if n := strings.Count(logged.String(), "running the batch op by op"); n != 2 {
		t.Fatalf("%d fallbacks logged, want 2:\n%s", n, logged.String())
	}
	checkLog(t, s)
}

// syncBuffer is a bytes.Buffer safe for the store's goroutines to log to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
