package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
)

// Latencies collects per-call durations from parallel goroutines, for the
// engines' benchmarks.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one call's duration.
func (l *Latencies) Add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

// Report adds ops/s (named unit/s) and the p50/p99 latency to b's output.
func (l *Latencies) Report(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchCreateOrder measures the accept path (order insert with its change
// and history rows, durable commit) of s, which must hold the seed SKU, with
// clients concurrent callers per GOMAXPROCS: the accept path serves many
// concurrent requests, and group commit only helps when writes overlap.
func BenchCreateOrder(b *testing.B, s wims.Store, clients int) {
	var n atomic.Int64
	var lat Latencies
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
			lat.Add(time.Since(start))
		}
	})
	lat.Report(b, "orders")
}
