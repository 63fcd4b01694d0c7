package workflow_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/sqlite"
	"github.com/wims/wims/workflow"
)

// BenchmarkWorkflowStep measures one order workflow execution: reserve the
// stock (a conditional update plus its change-log row), enqueue the payment
// on an embedded JetStream bus (not fsynced) and record the execution. The
// events are handled by 32 concurrent callers, like the workflow's consumer.
func BenchmarkWorkflowStep(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	bus := natstest.Open(b)
	wf := workflow.New(workflow.Options{Store: store, Bus: bus, PaymentsSubject: bus.Subject("payments", "requests")})

	// One order-inserted event per iteration, as the relay publishes it.
	msgs := make(chan *wims.Message, b.N)
	for i := range b.N {
		o := wims.Order{ID: fmt.Sprintf("o-%d", i), CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1, Status: wims.OrderPending}
		if _, _, err := store.CreateOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	changes, err := store.ReadChanges(ctx, 0, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range changes {
		if c.Table != wims.TableOrders {
			continue
		}
		out, err := relay.Message(c, "wims.events.cdc", "sqlite")
		if err != nil {
			b.Fatal(err)
		}
		msgs <- &wims.Message{Subject: out.Subject, Data: out.Data, Header: out.Header, ID: out.ID, Delivered: 1}
	}
	close(msgs)

	b.ResetTimer()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for m := range msgs {
				if err := wf.Handle(ctx, m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	if o, err := store.GetOrder(ctx, "o-0"); err != nil || o.Status != wims.OrderReserved {
		b.Fatalf("order o-0 = %+v, %v; want RESERVED", o, err)
	}
}
