package postgres_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
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

// BenchmarkPipeline measures the store's share of the whole order pipeline,
// every write the workflow and the payment dispatcher make for one order, in
// the order they make them: CreateOrder (the accept), ReserveStock and
// SaveExecution (the workflow), RecordPaymentAttempt and CompletePayment
// (the dispatcher). Many concurrent callers each run whole orders, all on
// one SKU, so the writes of different orders overlap as in the running
// service, where the accepts and the later stages of earlier orders commit
// at once. orders/s counts orders that went all the way to PAID; p50/p99 are
// per order, all five writes.
func BenchmarkPipeline(b *testing.B) {
	s := mustOpen(b, postgres.Options{URL: pgtest.URL(b), MaxConns: 32})
	ctx := b.Context()
	if _, err := s.PutItem(ctx, wims.Item{SKU: wims.DefaultSKU, ProductName: "P", Quantity: wims.MaxQuantity}); err != nil {
		b.Fatal(err)
	}
	var (
		n   atomic.Int64
		lat storetest.Latencies
	)
	b.SetParallelism(clients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("o-%d", n.Add(1))
			start := time.Now()
			if err := pipelineOrder(s, b, id); err != nil {
				b.Error(err)
				return
			}
			lat.Add(time.Since(start))
		}
	})
	lat.Report(b, "orders")
}

// pipelineOrder runs one order through the pipeline's writes (see
// BenchmarkPipeline) and checks that it ends PAID.
func pipelineOrder(s *postgres.Store, b *testing.B, id string) error {
	ctx := b.Context()
	if _, _, err := s.CreateOrder(ctx, wims.Order{ID: id, CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1}); err != nil {
		return err
	}
	started := time.Now()
	o, err := s.ReserveStock(ctx, id)
	if err != nil {
		return err
	}
	if o.Status != wims.OrderReserved {
		return fmt.Errorf("%s: %s after reserve", id, o.Status)
	}
	if err := s.SaveExecution(ctx, wims.Execution{ID: "x-" + id, OrderID: id, Workflow: "order", Status: wims.ExecutionSucceeded,
		StartedAt: started, FinishedAt: time.Now(), Steps: []wims.Step{{Name: "reserve", Outcome: "OK", StartedAt: started}}}); err != nil {
		return err
	}
	if err := s.RecordPaymentAttempt(ctx, wims.PaymentAttempt{OrderID: id, Attempt: 1, Outcome: wims.PaymentPaid, StatusCode: 200}); err != nil {
		return err
	}
	if o, err = s.CompletePayment(ctx, id, true, ""); err != nil {
		return err
	}
	if o.Status != wims.OrderPaid {
		return fmt.Errorf("%s: %s after payment", id, o.Status)
	}
	return nil
}
