package eventlog_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/eventlog"
	"github.com/wims/wims/nats/natstest"
)

func event(id, source, detailType string) *wims.Message {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": id, "source": source, "detail-type": detailType, "detail": map[string]any{}})
	return &wims.Message{ID: id, Data: b, Header: map[string]string{}, Delivered: 1}
}

func ids(t *testing.T, evs []json.RawMessage) []string {
	t.Helper()
	out := []string{}
	for _, e := range evs {
		var env struct{ ID string }
		if err := json.Unmarshal(e, &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env.ID)
	}
	return out
}

func TestEventLogAppendsOnceAndFilters(t *testing.T) {
	bus := natstest.Open(t)
	log := &eventlog.Log{Bus: bus, Subject: bus.Subject("eventlog", "events")}
	ctx := context.Background()
	in := []*wims.Message{
		event("1", "wims.cdc", "cdcEvent"),
		event("2", "shop", "OrderShipped"),
		event("3", "wims.cdc", "cdcEvent"),
		event("2", "shop", "OrderShipped"), // redelivered: logged once
	}
	for _, m := range in {
		if err := log.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		f    wims.EventFilter
		want []string
	}{
		{wims.EventFilter{Limit: 10}, []string{"3", "2", "1"}},
		{wims.EventFilter{Limit: 2}, []string{"3", "2"}},
		{wims.EventFilter{Limit: 10, Source: "wims.cdc"}, []string{"3", "1"}},
		{wims.EventFilter{Limit: 10, DetailType: "OrderShipped"}, []string{"2"}},
		{wims.EventFilter{Limit: 10, Source: "shop", DetailType: "cdcEvent"}, []string{}},
	}
	for _, tt := range tests {
		got, err := log.RecentEvents(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(t, got); !slices.Equal(g, tt.want) {
			t.Errorf("RecentEvents(%+v) = %v, want %v", tt.f, g, tt.want)
		}
	}
	if err := log.Handle(ctx, &wims.Message{Data: []byte("not json"), Delivered: 1}); !wims.IsPermanent(err) {
		t.Fatalf("malformed event: %v, want permanent", err)
	}
}

// An event naming its order with a number (a user's PutEvents) is logged,
// findable by source, under no order.
func TestEventLogKeepsEventsWithOddFields(t *testing.T) {
	bus := natstest.Open(t)
	log := &eventlog.Log{Bus: bus, Subject: bus.Subject("eventlog", "events")}
	ctx := context.Background()
	m := &wims.Message{ID: "odd", Header: map[string]string{}, Delivered: 1,
		Data: []byte(`{"version":"0","id":"odd","source":"shop","detail-type":"X","detail":{"orderId":42,"sku":["a"]}}`)}
	if err := log.Handle(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := log.RecentEvents(ctx, wims.EventFilter{Limit: 10, Source: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if g := ids(t, got); !slices.Equal(g, []string{"odd"}) {
		t.Fatalf("logged %v, want [odd]", g)
	}
}
