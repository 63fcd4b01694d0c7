package postgres_test

import (
	"testing"

	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
	"github.com/wims/wims/storetest"
)

// clients is how many goroutines per GOMAXPROCS submit at once: the accept
// path serves many concurrent HTTP requests, and PostgreSQL groups
// concurrent commits' WAL flushes only when commits overlap.
const clients = 8

// BenchmarkCreateOrder measures the accept path (order insert, history row,
// change append, durable commit) with many concurrent callers, all on the
// seed SKU.
func BenchmarkCreateOrder(b *testing.B) {
	storetest.BenchCreateOrder(b, mustOpen(b, postgres.Options{URL: pgtest.URL(b), Seed: true, MaxConns: 32}), clients)
}
