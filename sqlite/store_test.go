package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/sqlite"
	"github.com/wims/wims/storetest"
)

// mustOpen opens a durable store in a fresh temp dir unless opt names a path,
// and closes it when the test ends.
func mustOpen(tb testing.TB, opt sqlite.Options) *sqlite.Store {
	tb.Helper()
	if opt.Path == "" {
		opt.Path = filepath.Join(tb.TempDir(), "wims.db")
	}
	s, err := sqlite.Open(context.Background(), opt)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawDB opens the database file directly, to inspect or tamper with it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count runs a SELECT count(*) query.
func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestSeeding(t *testing.T) {
	storetest.RunSeeding(t, func(t *testing.T) storetest.SeedDB {
		path := filepath.Join(t.TempDir(), "wims.db")
		return storetest.SeedDB{
			Open: func(seed bool) wims.Store { return mustOpen(t, sqlite.Options{Path: path, Durable: true, Seed: seed}) },
			RemoveItems: func() {
				db := rawDB(t, path)
				defer db.Close()
				if _, err := db.Exec(`DELETE FROM inventory`); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wims.Store {
		return mustOpen(t, sqlite.Options{Durable: true})
	})
	storetest.RunClocked(t, func(t *testing.T, now wims.Clock) wims.Store {
		return mustOpen(t, sqlite.Options{Durable: true, Now: now})
	})
}

func TestOpen_ErrNoPath(t *testing.T) {
	_, err := sqlite.Open(t.Context(), sqlite.Options{})
	if wims.ErrorCode(err) != wims.EINVALID {
		t.Fatalf("Open without a path: %v, want EINVALID", err)
	}
}

func TestMigrate_Idempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wims.db")
	for range 3 {
		s := mustOpen(t, sqlite.Options{Path: path, Durable: true})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v %v", files, err)
	}
	if got := count(t, db, `SELECT count(*) FROM schema_migrations`); got != len(files) {
		t.Fatalf("%d migrations recorded, want %d", got, len(files))
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q (%v), want wal", mode, err)
	}
}

// TestGroupCommit sends 500 orders at once: every one must commit, and the
// change log must hold exactly their 500 INSERTs with contiguous seqs.
func TestGroupCommit(t *testing.T) {
	s := mustOpen(t, sqlite.Options{Durable: true})
	if _, err := s.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 10}); err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("o-%d", i)
			_, created, err := s.CreateOrder(t.Context(), wims.Order{ID: id, CustomerID: "c", SKU: "A", Quantity: 1})
			if err == nil && !created {
				err = fmt.Errorf("%s not created", id)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cs, err := s.ReadChanges(t.Context(), 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != n {
		t.Fatalf("%d changes, want %d", len(cs), n)
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if c.Seq != int64(i+2) {
			t.Fatalf("change %d has seq %d, want %d (contiguous)", i, c.Seq, i+2)
		}
		if c.Table != wims.TableOrders || c.EventType != wims.ChangeInsert {
			t.Fatalf("seq %d is %s %s", c.Seq, c.Table, c.EventType)
		}
		seen[string(c.Key)] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct orders logged, want %d", len(seen), n)
	}
}

// TestGroupCommit_FailuresIsolated mixes orders for an unknown SKU into a
// burst: they fail alone, and every valid order in the same batches commits.
func TestGroupCommit_FailuresIsolated(t *testing.T) {
	s := mustOpen(t, sqlite.Options{Durable: true})
	if _, err := s.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 10}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			sku := "A"
			if i%10 == 0 {
				sku = "NOPE"
			}
			_, _, err := s.CreateOrder(t.Context(), wims.Order{ID: fmt.Sprintf("o-%d", i), CustomerID: "c", SKU: sku, Quantity: 1})
			switch {
			case sku == "A" && err != nil:
				errs <- fmt.Errorf("valid order %d: %w", i, err)
			case sku == "NOPE" && wims.ErrorField(err) != "sku":
				errs <- fmt.Errorf("unknown-SKU order %d: %v, want EINVALID sku", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cs, err := s.ReadChanges(t.Context(), 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := n - n/10; len(cs) != want {
		t.Fatalf("%d changes, want %d", len(cs), want)
	}
	for i, c := range cs {
		if c.Seq != int64(i+2) {
			t.Fatalf("change %d has seq %d, want %d: a failed write left a gap", i, c.Seq, i+2)
		}
	}
}

func TestClose(t *testing.T) {
	s := mustOpen(t, sqlite.Options{Durable: true})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := s.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 1})
	if wims.ErrorCode(err) != wims.EUNAVAILABLE {
		t.Fatalf("write after Close: %v, want EUNAVAILABLE", err)
	}
}

// TestClose_Concurrent closes the store under a burst of writes: each write
// either committed (and is there after reopening) or was refused with
// EUNAVAILABLE; nothing is half-done or lost.
func TestClose_Concurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wims.db")
	s := mustOpen(t, sqlite.Options{Path: path, Durable: true})
	if _, err := s.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 10}); err != nil {
		t.Fatal(err)
	}
	const n = 400
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		okIDs   []string
		refused int
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			id := fmt.Sprintf("o-%d", i)
			_, _, err := s.CreateOrder(context.Background(), wims.Order{ID: id, CustomerID: "c", SKU: "A", Quantity: 1})
			mu.Lock()
			defer mu.Unlock()
			switch wims.ErrorCode(err) {
			case "":
				okIDs = append(okIDs, id)
			case wims.EUNAVAILABLE:
				refused++
			default:
				t.Errorf("CreateOrder(%s): %v", id, err)
			}
		})
	}
	close(start)
	// Close mid-burst, once some writes have committed: the rest are queued
	// (and must be drained) or not yet submitted (and must be refused).
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		k := len(okIDs)
		mu.Unlock()
		if k >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes committed", k)
		}
		time.Sleep(100 * time.Microsecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	t.Logf("%d committed, %d refused", len(okIDs), refused)

	db := rawDB(t, path)
	if got := count(t, db, `SELECT count(*) FROM orders`); got != len(okIDs) {
		t.Fatalf("%d orders stored, %d calls succeeded", got, len(okIDs))
	}
	for _, id := range okIDs {
		if count(t, db, `SELECT count(*) FROM orders WHERE order_id = ?`, id) != 1 {
			t.Fatalf("order %s succeeded but is missing", id)
		}
	}
}
