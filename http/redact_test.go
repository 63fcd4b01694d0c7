package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/eventlog"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/relay"
)

// customer is the identifier the tests look for in every answer.
const customer = "cust-4711"

// fakeDLQ serves fixed dead letters.
type fakeDLQ struct{ msgs []*wims.Message }

func (f *fakeDLQ) DeadLetterPage(_ context.Context, _ uint64, _ int, keep func(*wims.Message) bool) (wims.MessagePage, error) {
	var p wims.MessagePage
	for _, m := range f.msgs {
		if keep(m) {
			p.Messages = append(p.Messages, m)
		}
	}
	return p, nil
}
func (f *fakeDLQ) Redrive(context.Context, uint64) error { return nil }
func (f *fakeDLQ) DeadLetter(context.Context, uint64) (*wims.Message, error) {
	return f.msgs[0], nil
}
func (f *fakeDLQ) PurgeDeadLetter(context.Context, uint64) error { return nil }

// orderChangeEvent is the change event of an order's insert, as the relay
// publishes it: customerId in NewImage and in changedColumns, and once more
// in a JSON document carried as a string.
func orderChangeEvent(t *testing.T) []byte {
	t.Helper()
	o := wims.Order{ID: "o-1", CustomerID: customer, SKU: "MACGUFFIN-LX", Quantity: 3, Status: wims.OrderPending}
	img, _ := json.Marshal(o)
	m, err := relay.Message(wims.Change{
		Seq: 1, EventID: "ev-order", Table: wims.TableOrders, EventType: wims.ChangeInsert,
		Key: json.RawMessage(`{"orderId":"o-1"}`), ChangedColumns: []string{"customerId", "quantity"},
		NewImage: img, Time: time.Now(),
	}, "wims.events.cdc", "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		t.Fatal(err)
	}
	ev["detail"].(map[string]any)["note"] = string(img) // a document in a string
	b, _ := json.Marshal(ev)
	return b
}

// TestReadRoleSeesNoCustomers: admin and orders see customer identifiers
// where their role lets them read; read gets "REDACTED" in their place in
// orders, the event log (page and stream) and dead letters, keeps
// everything else, and may not select by customer.
func TestReadRoleSeesNoCustomers(t *testing.T) {
	bus := natstest.Open(t)
	log := &eventlog.Log{Bus: bus, Subject: bus.Subject("eventlog", "events"),
		GroupSubject: func(g string) string { return bus.Subject("eventlog", "group", g) }}
	payment, _ := json.Marshal(wims.PaymentRequest{OrderID: "o-1", CustomerID: customer, SKU: "MACGUFFIN-LX", Quantity: 3})
	dlq := &fakeDLQ{msgs: []*wims.Message{{Seq: 7, Data: payment, Header: map[string]string{
		wims.HeaderDLQConsumer: "payments", wims.HeaderDLQReason: "declined", wims.HeaderDLQAttempts: "10",
	}}}}
	e := newEnv(t, withKeys, func(o *wimshttp.Options) { o.Events = log; o.DeadLetters = dlq })
	if err := log.Handle(context.Background(), &wims.Message{Data: orderChangeEvent(t), Header: map[string]string{}, Delivered: 1}); err != nil {
		t.Fatal(err)
	}
	created := e.do("POST", "/orders", `{"customerId":"`+customer+`","quantity":1}`, bearer("admin-secret")...).wantJSON(t, http.StatusAccepted)
	orderPath := "/orders/" + created["orderId"].(string)

	paths := []string{"/orders", orderPath, "/events", "/dead-letters"}
	for _, key := range []string{"admin-secret", "orders-secret"} {
		for _, p := range paths {
			r := e.do("GET", p, "", bearer(key)...)
			if key == "orders-secret" && (p == "/events" || p == "/dead-letters") {
				r.wantProblem(t, http.StatusForbidden, "forbidden", "")
				continue
			}
			if r.status != http.StatusOK || !strings.Contains(string(r.body), customer) {
				t.Errorf("%s: GET %s = %d, want the customer id: %s", key, p, r.status, r.body)
			}
		}
	}
	for _, p := range paths {
		r := e.do("GET", p, "", bearer("read-secret")...)
		if r.status != http.StatusOK || strings.Contains(string(r.body), customer) || !strings.Contains(string(r.body), `"customerId":"REDACTED"`) {
			t.Errorf("read: GET %s = %d, want customerId REDACTED and the id nowhere: %s", p, r.status, r.body)
		}
	}

	// What is not a customer identifier is as it was.
	var page struct{ Events []map[string]any }
	if err := json.Unmarshal(e.do("GET", "/events", "", bearer("read-secret")...).body, &page); err != nil || len(page.Events) != 1 {
		t.Fatalf("read: events %v (%v)", page.Events, err)
	}
	data := page.Events[0]["detail"].(map[string]any)["data"].(map[string]any)
	img := data["NewImage"].(map[string]any)
	if img["customerId"] != wimshttp.Redacted || img["orderId"] != "o-1" || img["quantity"] != float64(3) ||
		data["changedColumns"].([]any)[0] != "customerId" || page.Events[0]["id"] != "ev-order" {
		t.Fatalf("read: event data = %v", data)
	}
	var note map[string]any
	if err := json.Unmarshal([]byte(page.Events[0]["detail"].(map[string]any)["note"].(string)), &note); err != nil || note["customerId"] != wimshttp.Redacted {
		t.Fatalf("read: document in a string = %v (%v)", note, err)
	}
	dls := e.do("GET", "/dead-letters", "", bearer("read-secret")...).wantJSON(t, http.StatusOK)["deadLetters"].([]any)
	if dl := dls[0].(map[string]any); dl["reason"] != "declined" || dl["message"].(map[string]any)["orderId"] != "o-1" {
		t.Fatalf("read: dead letter = %v", dl)
	}

	// Selecting by customer would tell read whose orders they are.
	pattern := url.QueryEscape(`{"detail":{"data":{"NewImage":{"customerId":["` + customer + `"]}}}}`)
	for _, p := range []string{"/orders?customerId=" + customer, "/events?pattern=" + pattern, "/events/stream?pattern=" + pattern} {
		e.do("GET", p, "", bearer("read-secret")...).wantProblem(t, http.StatusForbidden, "forbidden", "")
	}
	for _, p := range []string{"/orders?customerId=" + customer, "/events?pattern=" + pattern} {
		if r := e.do("GET", p, "", bearer("admin-secret")...); r.status != http.StatusOK || !strings.Contains(string(r.body), customer) {
			t.Errorf("admin: GET %s = %d %s", p, r.status, r.body)
		}
	}

	// The stream redacts as the page does.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/events/stream?since=1h", nil)
	req.Header.Set("Authorization", "Bearer read-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			if strings.Contains(data, customer) || !strings.Contains(data, `"customerId":"REDACTED"`) {
				t.Fatalf("read: streamed %s", data)
			}
			return
		}
	}
	t.Fatalf("stream ended without the event: %v", lines.Err())
}
