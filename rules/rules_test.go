package rules_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/rules"
)

func changeEvent(t *testing.T, table, eventType string, cols []string, newImg, oldImg any) []byte {
	t.Helper()
	img := func(v any) json.RawMessage {
		if v == nil {
			return nil
		}
		b, _ := json.Marshal(v)
		return b
	}
	ev, err := wims.ChangeEvent(wims.Change{
		Seq: 1, EventID: "e1", Table: table, EventType: eventType, Key: json.RawMessage(`{"k":"v"}`),
		ChangedColumns: cols, NewImage: img(newImg), OldImage: img(oldImg), Time: time.Now(),
	}, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	return b
}

// targetsFor returns the ids of the targets whose matcher accepts ev.
func targetsFor(t *testing.T, s *rules.Set, ev []byte) []string {
	t.Helper()
	var ids []string
	for _, tg := range s.Targets() {
		names, err := s.Matcher(tg.ID()).Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(names) > 0 {
			ids = append(ids, tg.ID())
		}
	}
	return ids
}

func TestDefaultsRouteTheCourse(t *testing.T) {
	s, err := rules.Compile(rules.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	order := wims.Order{ID: "o1", Status: wims.OrderPending}
	refunding := wims.Order{ID: "o1", Status: wims.OrderRefundPending, Reason: wims.ReasonCancelledAfterPayment}
	item := wims.SeedItem()
	tests := []struct {
		name string
		ev   []byte
		want []string
	}{
		{"order inserted → workflow and log", changeEvent(t, "orders", "INSERT", []string{"orderId"}, order, nil),
			[]string{"event-log", "order-workflow"}},
		{"order updated → log only", changeEvent(t, "orders", "UPDATE", []string{"status"}, order, order),
			[]string{"event-log"}},
		{"order refund pending → workflow and log", changeEvent(t, "orders", "UPDATE", []string{"reason", "status"}, refunding, order),
			[]string{"event-log", "order-workflow"}},
		{"backorder filled → workflow and log", changeEvent(t, "orders", "UPDATE", []string{"reason", "status"},
			wims.Order{ID: "o1", Status: wims.OrderReserved}, wims.Order{ID: "o1", Status: wims.OrderBackordered}),
			[]string{"event-log", "order-workflow"}},
		{"order backordered → log only", changeEvent(t, "orders", "UPDATE", []string{"reason", "status"},
			wims.Order{ID: "o1", Status: wims.OrderBackordered}, order), []string{"event-log"}},
		{"stock changed → notifications and log", changeEvent(t, "inventory", "UPDATE", []string{"quantity", "updatedAt"}, item, item),
			[]string{"event-log", "notifications"}},
		{"item renamed → log only", changeEvent(t, "inventory", "UPDATE", []string{"productName"}, item, item),
			[]string{"event-log"}},
		{"item inserted → log only", changeEvent(t, "inventory", "INSERT", []string{"sku"}, item, nil),
			[]string{"event-log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := targetsFor(t, s, tt.ev); !slices.Equal(got, tt.want) {
				t.Fatalf("targets = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFulfillmentRoutesPaidOrders: the fulfillment rule sends an order's
// change to PAID, and nothing else, to its webhook.
func TestFulfillmentRoutesPaidOrders(t *testing.T) {
	s, err := rules.Compile(append(rules.Defaults(), rules.Fulfillment("http://127.0.0.1:9/fulfil")))
	if err != nil {
		t.Fatal(err)
	}
	hook := rules.Target{Type: rules.TargetWebhook, URL: "http://127.0.0.1:9/fulfil"}.ID()
	reserved := wims.Order{ID: "o1", CustomerID: "c1", Status: wims.OrderReserved}
	paid := reserved
	paid.Status = wims.OrderPaid
	shipped, _ := paid.Ship(wims.Shipment{Carrier: "UPS", TrackingID: "1Z"})
	for _, tt := range []struct {
		name string
		ev   []byte
		want bool
	}{
		{"paid", changeEvent(t, "orders", "UPDATE", []string{"status"}, paid, reserved), true},
		{"reserved", changeEvent(t, "orders", "UPDATE", []string{"status"}, reserved, reserved), false},
		{"shipped", changeEvent(t, "orders", "UPDATE", []string{"carrier", "status", "trackingId"}, shipped, paid), false},
		{"inserted", changeEvent(t, "orders", "INSERT", []string{"orderId"}, paid, nil), false},
	} {
		if got := slices.Contains(targetsFor(t, s, tt.ev), hook); got != tt.want {
			t.Errorf("%s: routed to fulfillment = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestConfigMergeReplacesAndAdds(t *testing.T) {
	cfg, err := rules.Parse([]byte(`{"rules":[
		{"name":"everything","pattern":{"source":["wims.cdc"]},"targets":[{"type":"event-log"}],"disabled":true},
		{"name":"big","pattern":{"detail":{"data":{"NewImage":{"quantity":[{"numeric":[">=",100]}]}}}},
		 "targets":[{"type":"webhook","url":"http://127.0.0.1:9/big"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rules.Compile(rules.Merge(rules.Defaults(), cfg))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(s.Rules()), len(rules.Defaults())+1; got != want {
		t.Fatalf("rules = %d, want %d (the defaults, one replaced, one added)", got, want)
	}
	var ids []string
	for _, tg := range s.Targets() {
		ids = append(ids, tg.ID())
	}
	if slices.Contains(ids, "event-log") {
		t.Fatalf("disabled rule still routes: %v", ids)
	}
	if !slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "webhook-") }) {
		t.Fatalf("webhook target missing: %v", ids)
	}
	big := changeEvent(t, "orders", "INSERT", nil, map[string]any{"quantity": 150}, nil)
	small := changeEvent(t, "orders", "INSERT", nil, map[string]any{"quantity": 5}, nil)
	wh := rules.Target{Type: "webhook", URL: "http://127.0.0.1:9/big"}.ID()
	if !slices.Contains(targetsFor(t, s, big), wh) || slices.Contains(targetsFor(t, s, small), wh) {
		t.Fatal("webhook rule routes wrongly")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown field", `{"rules":[],"extra":1}`, "unknown field"},
		{"bad json", `{"rules":`, "parse config"},
		{"trailing", `{"rules":[]} {}`, "trailing data"},
		{"bad name", `{"rules":[{"name":"a b","pattern":{"a":["x"]},"targets":[{"type":"event-log"}]}]}`, "name"},
		{"duplicate", `{"rules":[{"name":"a","pattern":{"a":["x"]},"targets":[{"type":"event-log"}]},
			{"name":"a","pattern":{"a":["x"]},"targets":[{"type":"event-log"}]}]}`, "duplicate rule name"},
		{"bad pattern", `{"rules":[{"name":"a","pattern":{"a":"x"},"targets":[{"type":"event-log"}]}]}`, "rule a: pattern"},
		{"no targets", `{"rules":[{"name":"a","pattern":{"a":["x"]},"targets":[]}]}`, "at least one target"},
		{"unknown target", `{"rules":[{"name":"a","pattern":{"a":["x"]},"targets":[{"type":"lambda"}]}]}`, "unknown target type"},
		{"webhook without url", `{"rules":[{"name":"a","pattern":{"a":["x"]},"targets":[{"type":"webhook"}]}]}`, "absolute http"},
		{"url on builtin", `{"rules":[{"name":"a","pattern":{"a":["x"]},"targets":[{"type":"event-log","url":"http://x"}]}]}`, "takes no url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
