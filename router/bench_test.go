package router_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/router"
	"github.com/wims/wims/rules"
)

// orderUpdateEvent is a realistic change event: an order moving from
// PENDING to RESERVED, as the relay publishes it.
func orderUpdateEvent(tb testing.TB) *wims.Message {
	tb.Helper()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	img := func(status string) json.RawMessage {
		b, _ := json.Marshal(wims.Order{ID: "0195f0c2-6b1e-7c3a-9d2e-4f5a6b7c8d9e", CustomerID: "123", SKU: wims.DefaultSKU,
			Quantity: 3, Status: wims.OrderStatus(status), CreatedAt: at, UpdatedAt: at.Add(2 * time.Millisecond)})
		return b
	}
	out, err := relay.Message(wims.Change{
		Seq: 4242, EventID: "0195f0c2-6b1e-7c3a-9d2e-000000001092", Table: wims.TableOrders, EventType: "UPDATE",
		Key:            json.RawMessage(`{"orderId":"0195f0c2-6b1e-7c3a-9d2e-4f5a6b7c8d9e"}`),
		ChangedColumns: []string{"status", "updatedAt"}, NewImage: img("RESERVED"), OldImage: img("PENDING"),
		Time: at, TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}, "wims.events.cdc", "sqlite")
	if err != nil {
		tb.Fatal(err)
	}
	return &wims.Message{Subject: out.Subject, Data: out.Data, Header: out.Header, ID: out.ID, Delivered: 1, Seq: 4242}
}

// BenchmarkRoute measures routing one change event through every target of
// the default rule set, as each target's consumer does for every event.
func BenchmarkRoute(b *testing.B) {
	set, err := rules.Compile(rules.Defaults())
	if err != nil {
		b.Fatal(err)
	}
	noop := func(context.Context, *wims.Message) error { return nil }
	var routes []wims.Handler
	for _, t := range set.Targets() {
		routes = append(routes, router.Route(t.ID(), set.Matcher(t.ID()), noop, nil))
	}
	msg := orderUpdateEvent(b)
	ctx := context.Background()
	b.SetBytes(int64(len(msg.Data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, h := range routes {
			if err := h(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
