package router_test

import (
	"context"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/pattern"
	"github.com/wims/wims/router"
)

func TestRouteHandsOnlyMatchingEvents(t *testing.T) {
	m := pattern.NewMatcher()
	if err := m.AddPattern("orders", []byte(`{"detail":{"data":{"table":["orders"]}}}`)); err != nil {
		t.Fatal(err)
	}
	var handled []string
	h := router.Route("t", m, func(_ context.Context, msg *wims.Message) error {
		handled = append(handled, msg.ID)
		return nil
	}, router.NewMetrics(nil))
	ctx := context.Background()
	for _, tc := range []struct{ id, data string }{
		{"a", `{"detail":{"data":{"table":"orders"}}}`},
		{"b", `{"detail":{"data":{"table":"inventory"}}}`},
		{"c", `{"detail":{"data":{"table":["x","orders"]}}}`},
	} {
		if err := h(ctx, &wims.Message{ID: tc.id, Data: []byte(tc.data)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(handled) != 2 || handled[0] != "a" || handled[1] != "c" {
		t.Fatalf("handled %v, want [a c]", handled)
	}
	if err := h(ctx, &wims.Message{ID: "bad", Data: []byte(`[1]`)}); !wims.IsPermanent(err) {
		t.Fatalf("non-object event: %v, want a permanent error (dead letter, not endless retries)", err)
	}
}
