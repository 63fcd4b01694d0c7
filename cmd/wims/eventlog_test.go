package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// logged returns the event log's entries about an order: how many times each
// event id is there, and the entries' source and detail-type.
func (a *testApp) logged(orderID string) (ids map[string]int, kinds []string) {
	a.t.Helper()
	code, body := a.do("GET", "/events?limit=100&order="+orderID, nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET /events?order=%s = %d %s", orderID, code, body)
	}
	var page wims.EventPage
	if err := json.Unmarshal(body, &page); err != nil {
		a.t.Fatal(err)
	}
	ids = map[string]int{}
	for _, raw := range page.Events {
		var e struct {
			ID         string `json:"id"`
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
			Detail     struct {
				Data struct {
					Table    string `json:"table"`
					NewImage struct {
						Status string `json:"status"`
					} `json:"NewImage"`
				} `json:"data"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			a.t.Fatal(err)
		}
		ids[e.ID]++
		kinds = append(kinds, e.Source+"/"+e.DetailType+"/"+e.Detail.Data.Table+"/"+e.Detail.Data.NewImage.Status)
	}
	return ids, kinds
}

// TestRelayLogsByTheEventLogRules: the relay appends its own events to the
// event log, and the event-log target's rules decide which, as they decide
// for events put through the API (which the target still copies): a rule
// that logs only order changes gets an order's three changes, once each, and
// none of its stock or domain events; disabled at runtime, it logs nothing
// more; and an event put on the default bus is logged by the target.
func TestRelayLogsByTheEventLogRules(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	orderChanges := `{"source":["wims.cdc"],"detail":{"data":{"table":["orders"]}}}`
	rules := writeRules(t,
		map[string]any{"name": "everything", "pattern": json.RawMessage(orderChanges), "targets": []any{map[string]any{"type": "event-log"}}},
		map[string]any{"name": "put-events", "pattern": map[string]any{"source": []string{"test.put"}}, "targets": []any{map[string]any{"type": "event-log"}}},
	)
	a := startTestApp(t, func(c *Config) { c.PaymentsURL, c.ConfigFile = payURL, rules })
	ctx := context.Background()

	paid := func() wims.Order {
		t.Helper()
		o := a.placeOrder("c-1", 1, "")
		eventually(t, 30*time.Second, func() error {
			if s := a.order(o.ID).Status; s != wims.OrderPaid {
				return fmt.Errorf("order %s is %s", o.ID, s)
			}
			return nil
		})
		return o
	}
	// loggedChanges waits until the order's three changes are logged, then
	// checks that they are all the log has of it, once each.
	loggedChanges := func(o wims.Order) {
		t.Helper()
		var ids map[string]int
		var kinds []string
		eventually(t, 20*time.Second, func() error {
			ids, kinds = a.logged(o.ID)
			if len(kinds) < 3 {
				return fmt.Errorf("order %s: %d entries logged: %v", o.ID, len(kinds), kinds)
			}
			return nil
		})
		want := []string{"wims.cdc/" + wims.CDCDetailType + "/orders/PENDING", "wims.cdc/" + wims.CDCDetailType + "/orders/RESERVED",
			"wims.cdc/" + wims.CDCDetailType + "/orders/PAID"}
		if strings.Join(kinds, " ") != strings.Join(want, " ") {
			t.Fatalf("order %s: log holds %v, want %v", o.ID, kinds, want)
		}
		for id, n := range ids {
			if n != 1 {
				t.Fatalf("order %s: event %s logged %d times", o.ID, id, n)
			}
		}
	}

	first := paid()
	loggedChanges(first)

	// An event put on the default bus is the target's to log.
	res, err := a.platform.PutEvents(ctx, []wims.PutEventsEntry{{Source: "test.put", DetailType: "Marker", Detail: `{"orderId":"` + first.ID + `"}`}})
	if err != nil || len(res) != 1 || res[0].ErrorCode != "" {
		t.Fatalf("PutEvents = %+v, %v", res, err)
	}
	eventually(t, 20*time.Second, func() error {
		if _, kinds := a.logged(first.ID); len(kinds) != 4 || kinds[3] != "test.put/Marker//" {
			return fmt.Errorf("after PutEvents the log holds %v", kinds)
		}
		return nil
	})

	setState := func(state string) {
		t.Helper()
		if _, err := a.platform.PutRule(ctx, wims.Rule{Name: "everything", EventBusName: wims.DefaultBus, EventPattern: orderChanges, State: state}); err != nil {
			t.Fatalf("PutRule everything %s: %v", state, err)
		}
	}
	setState(wims.RuleDisabled)
	unlogged := paid()
	// The relay decides about an event before publishing it: once the
	// order's last change is on the bus, nothing of it is to be logged.
	eventually(t, 20*time.Second, func() error {
		msgs, err := a.bus.Recent(ctx, a.bus.Subject("events", "cdc"), 50, 1000, nil)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if strings.Contains(string(m.Data), unlogged.ID) && strings.Contains(string(m.Data), `"status":"PAID"`) {
				return nil
			}
		}
		return fmt.Errorf("order %s's PAID change is not on the bus yet", unlogged.ID)
	})
	setState(wims.RuleEnabled)
	// The relay publishes in change order, one batch after another: once a
	// later order's changes are logged, so would be any entry of the order
	// placed while the rule was disabled.
	loggedChanges(paid())
	if _, kinds := a.logged(unlogged.ID); len(kinds) != 0 {
		t.Fatalf("the order placed while the rule was disabled is logged: %v", kinds)
	}
	// The lane reads only what is put on the default bus (the relay's
	// events are not even sent to it): it handled the one event put.
	_, body := a.do("GET", "/metrics", nil)
	handled := grepLines(string(body), `wims_bus_messages_handled_total{consumer="target-event-log"`)
	if handled != `wims_bus_messages_handled_total{consumer="target-event-log",result="ack"} 1` {
		t.Fatalf("the event-log lane handled, for one event put and three orders' changes:\n%s", handled)
	}
}
