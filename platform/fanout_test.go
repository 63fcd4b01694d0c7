package platform_test

import (
	"context"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
)

// TestFanoutRedeliveryEnqueuesOnce: an event the fan-out handles twice (a
// redelivery after a lost ack, a kill -9) becomes one delivery per matched
// target, not two; the delivery carries the event's id.
func TestFanoutRedeliveryEnqueuesOnce(t *testing.T) {
	ctx := context.Background()
	bus := natstest.Open(t)
	svc := platformtest.OnBus(t, platformtest.Store(t), bus)
	_, err := svc.PutRule(ctx, wims.Rule{Name: "r", EventPattern: `{"source":["s"]}`})
	mustNil(t, err)
	_, err = svc.PutTargets(ctx, "", "r", []wims.Target{
		{ID: "a", Arn: wims.LogGroupARN("a")}, {ID: "b", Arn: wims.LogGroupARN("b")},
	})
	mustNil(t, err)
	cat := platform.NewCatalog(svc, 0, nil)
	_, err = cat.Load(ctx)
	mustNil(t, err)
	f := &platform.Fanout{Catalog: cat, Bus: bus, Deliveries: bus.Subject("deliveries", "targets")}
	m := &wims.Message{Subject: bus.Subject("events", "bus", "default"), ID: "ev-1", Seq: 7,
		Data: []byte(`{"id":"ev-1","source":"s","detail-type":"t","detail":{}}`), Header: map[string]string{}}
	for range 2 {
		mustNil(t, f.Handle(ctx, m))
	}
	n, err := bus.StreamMessages(ctx, nats.Deliveries)
	mustNil(t, err)
	if n != 2 {
		t.Fatalf("deliveries stored = %d, want 2 (one per target, none twice)", n)
	}
	msgs, err := bus.Recent(ctx, bus.Subject("deliveries", ">"), 10, 10, nil)
	mustNil(t, err)
	for _, d := range msgs {
		if platform.EventID(d) != "ev-1" || d.Header[platform.HeaderRule] != "r" {
			t.Fatalf("delivery headers %v", d.Header)
		}
	}
}
