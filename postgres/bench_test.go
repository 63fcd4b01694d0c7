package postgres_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
)

// clients is how many goroutines per GOMAXPROCS submit at once: the accept
// path serves many concurrent HTTP requests, and PostgreSQL groups
// concurrent commits' WAL flushes only when commits overlap.
const clients = 8

// latencies collects per-call durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

// report adds ops/s and the p50/p99 latency to the benchmark's output.
func (l *latencies) report(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkCreateOrder measures the accept path (order insert, history row,
// change append, NOTIFY, durable commit) with many concurrent callers, all
// on the seed SKU.
func BenchmarkCreateOrder(b *testing.B) {
	s := mustOpen(b, postgres.Options{URL: pgtest.URL(b), Seed: true, MaxConns: 32})
	var n atomic.Int64
	var lat latencies
	b.SetParallelism(clients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("o-%d", n.Add(1))
			start := time.Now()
			if _, _, err := s.CreateOrder(b.Context(), wims.Order{ID: id, CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1}); err != nil {
				b.Error(err)
				return
			}
			lat.add(time.Since(start))
		}
	})
	lat.report(b, "orders")
}
