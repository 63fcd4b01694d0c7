package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
)

// TestConcurrentChangeCapture is the test of the change log's ordering
// guarantee under real concurrency. 16 goroutines write to a shared set of
// SKUs and orders while a reader pages through the log exactly like the
// relay (cursor = last seq returned). Some transactions sleep inside, both
// before taking their seqs and between appending their changes and
// committing, to provoke commits out of start order. At the end the reader
// must have seen every change in the table exactly once, in strictly
// increasing seq order, and for every row the images must chain: each
// change's OldImage is the previous change's NewImage.
func TestConcurrentChangeCapture(t *testing.T) {
	url := pgtest.URL(t)
	s := mustOpen(t, postgres.Options{URL: url, MaxConns: 20})
	var slept atomic.Int64
	sleep := func(ctx context.Context, c *pgx.Conn) error {
		if rand.IntN(4) != 0 {
			return nil
		}
		slept.Add(1)
		_, err := c.Exec(ctx, `SELECT pg_sleep(0.01)`)
		return err
	}
	sleepBeforeCommit := func() string {
		if rand.IntN(4) != 0 {
			return ""
		}
		slept.Add(1)
		return `SELECT pg_sleep(0.01)`
	}
	postgres.SetTestHooks(s, sleep, sleepBeforeCommit)

	skus := []string{"SKU-A", "SKU-B", "SKU-C", "SKU-D"}
	for _, k := range skus {
		if _, err := s.PutItem(t.Context(), wims.Item{SKU: k, ProductName: "P", Quantity: 5000}); err != nil {
			t.Fatal(err)
		}
	}

	const (
		writers = 16
		opsEach = 60
	)
	var (
		mu  sync.Mutex
		ids []string
	)
	pick := func(r *rand.Rand) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) == 0 {
			return "", false
		}
		return ids[r.IntN(len(ids))], true
	}

	// The reader runs until the writers are done and it has caught up.
	var (
		seen     []wims.Change
		rounds   int
		readErr  error
		done     = make(chan struct{})
		readerWG sync.WaitGroup
	)
	readerWG.Go(func() {
		var cursor int64
		writersDone := false
		for {
			page, err := s.ReadChanges(t.Context(), cursor, 100)
			if err != nil {
				readErr = err
				return
			}
			rounds++
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
			if writersDone {
				return // caught up after the last commit
			}
			select {
			case <-done:
				writersDone = true
			case <-s.ChangeSignal():
			case <-time.After(5 * time.Millisecond):
			}
		}
	})

	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range opsEach {
				if err := captureOp(t.Context(), s, r, g, i, skus, pick, func(id string) {
					mu.Lock()
					ids = append(ids, id)
					mu.Unlock()
				}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readerWG.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if readErr != nil {
		t.Fatal(readErr)
	}
	t.Logf("%d changes read in %d rounds; %d transactions slept", len(seen), rounds, slept.Load())

	// Every change in the table, exactly once.
	c := rawConn(t, url)
	rows, err := c.Query(t.Context(), `SELECT seq, event_id FROM change_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		seq int64
		id  string
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
		var e entry
		return e, r.Scan(&e.seq, &e.id)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(all) {
		t.Fatalf("reader saw %d changes, the table holds %d", len(seen), len(all))
	}
	for i, e := range all {
		if seen[i].Seq != e.seq || seen[i].EventID != e.id {
			t.Fatalf("change %d: reader saw seq %d (%s), table has seq %d (%s)", i, seen[i].Seq, seen[i].EventID, e.seq, e.id)
		}
		if e.seq != int64(i+1) {
			t.Fatalf("change %d has seq %d: the seqs have a gap", i, e.seq)
		}
	}

	// Per row, the images chain in seq order.
	last := map[string]wims.Change{}
	for _, ch := range seen {
		row := ch.Table + " " + string(ch.Key)
		prev, ok := last[row]
		switch {
		case !ok && ch.EventType != wims.ChangeInsert:
			t.Fatalf("seq %d: first change of %s is %s, want INSERT", ch.Seq, row, ch.EventType)
		case ok && !bytes.Equal(ch.OldImage, prev.NewImage):
			t.Fatalf("seq %d: %s OldImage %s, but seq %d left NewImage %s", ch.Seq, row, ch.OldImage, prev.Seq, prev.NewImage)
		}
		last[row] = ch
	}
	// And the last image of every row is the row.
	for _, k := range skus {
		it, err := s.GetItem(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeItem(t, last[wims.TableInventory+" "+`{"sku":"`+k+`"}`].NewImage); got != it {
			t.Fatalf("%s: last image %+v, row %+v", k, got, it)
		}
	}
}

// captureOp performs one random write and reports unexpected errors.
func captureOp(ctx context.Context, s wims.Store, r *rand.Rand, g, i int, skus []string,
	pick func(*rand.Rand) (string, bool), created func(string)) error {
	k := skus[r.IntN(len(skus))]
	switch n := r.IntN(10); {
	case n < 1:
		q := 1000 + r.Int64N(4000)
		if _, err := s.PutItem(ctx, wims.Item{SKU: k, ProductName: "P", Model: fmt.Sprint(g), Quantity: q}); err != nil {
			return fmt.Errorf("put %s: %w", k, err)
		}
	case n < 3:
		delta := r.Int64N(41) - 20
		if delta == 0 {
			delta = 1
		}
		_, err := s.AdjustStock(ctx, k, wims.Adjustment{Delta: delta})
		if err != nil && wims.ErrorCode(err) != wims.EINSUFFICIENT {
			return fmt.Errorf("adjust %s: %w", k, err)
		}
	case n < 7:
		id := fmt.Sprintf("o-%d-%d", g, i)
		if _, _, err := s.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: k, Quantity: 1 + r.Int64N(10)}); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
		created(id)
		if r.IntN(2) == 0 {
			if _, err := s.ReserveStock(ctx, id); err != nil {
				return fmt.Errorf("reserve %s: %w", id, err)
			}
		}
	case n < 9:
		if id, ok := pick(r); ok {
			if _, err := s.ReserveStock(ctx, id); err != nil {
				return fmt.Errorf("reserve %s: %w", id, err)
			}
		}
	default:
		if id, ok := pick(r); ok {
			if _, err := s.CompletePayment(ctx, id, r.IntN(2) == 0, "declined"); err != nil {
				return fmt.Errorf("complete %s: %w", id, err)
			}
		}
	}
	return nil
}

// decodeItem unmarshals an inventory image.
func decodeItem(t *testing.T, raw []byte) wims.Item {
	t.Helper()
	var it wims.Item
	if err := json.Unmarshal(raw, &it); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return it
}
