package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
	"github.com/wims/wims/storetest"
)

// mustOpen opens a store on opt.URL and closes it when the test ends.
func mustOpen(tb testing.TB, opt postgres.Options) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), opt)
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

// rawConn connects to the database directly, to inspect or tamper with it.
func rawConn(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// count runs a SELECT count(*) query.
func count(tb testing.TB, c *pgx.Conn, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := c.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestStore runs the contract suite; each store gets its own schema in one
// database, which is much faster than a database each.
func TestSeeding(t *testing.T) {
	storetest.RunSeeding(t, func(t *testing.T) storetest.SeedDB {
		url := pgtest.URL(t)
		return storetest.SeedDB{
			Open: func(seed bool) wims.Store { return mustOpen(t, postgres.Options{URL: url, Seed: seed}) },
			RemoveItems: func() {
				if _, err := rawConn(t, url).Exec(t.Context(), `DELETE FROM inventory`); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

func TestStore(t *testing.T) {
	db := pgtest.URL(t)
	storetest.Run(t, func(t *testing.T) wims.Store {
		return mustOpen(t, postgres.Options{URL: pgtest.Schema(t, db)})
	})
	storetest.RunClocked(t, func(t *testing.T, now wims.Clock) wims.Store {
		return mustOpen(t, postgres.Options{URL: pgtest.Schema(t, db), Now: now})
	})
}

func TestOpen_ErrURL(t *testing.T) {
	for _, u := range []string{"", "postgres://[::1"} {
		_, err := postgres.Open(t.Context(), postgres.Options{URL: u})
		if wims.ErrorCode(err) != wims.EINVALID || wims.ErrorField(err) != "url" {
			t.Fatalf("Open(%q): %v, want EINVALID url", u, err)
		}
	}
}

// TestOpen_Concurrent starts several instances on a fresh database at once:
// all succeed, the migrations are applied once and the seed item stored once.
func TestOpen_Concurrent(t *testing.T) {
	url := pgtest.URL(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	stores := make(chan *postgres.Store, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(t.Context(), postgres.Options{URL: url, Seed: true})
			if err != nil {
				errs <- err
				return
			}
			stores <- s
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	close(stores)
	for s := range stores {
		t.Cleanup(func() { s.Close() })
	}
	for err := range errs {
		t.Fatalf("concurrent Open: %v", err)
	}
	c := rawConn(t, url)
	if got := count(t, c, `SELECT count(*) FROM inventory`); got != 1 {
		t.Fatalf("%d items after %d concurrent seeding opens, want 1", got, n)
	}
	if got := count(t, c, `SELECT count(*) FROM change_log`); got != 1 {
		t.Fatalf("%d changes after %d concurrent seeding opens, want 1", got, n)
	}
	if got, want := count(t, c, `SELECT count(*) FROM schema_migrations`), migrationFiles(t); got != want {
		t.Fatalf("%d migrations recorded, want %d", got, want)
	}
}

func TestClose(t *testing.T) {
	s := mustOpen(t, postgres.Options{URL: pgtest.URL(t)})
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
	_, err = s.GetItem(t.Context(), "A")
	if wims.ErrorCode(err) != wims.EUNAVAILABLE {
		t.Fatalf("read after Close: %v, want EUNAVAILABLE", err)
	}
}
