package http_test

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// fuzzPost sends body to path and checks the invariants every request must
// keep: no 5xx, and a rejected request changes nothing.
func fuzzPost(t *testing.T, e *testEnv, method, path string, body []byte) {
	before := e.takeSnapshot(t)
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	r := e.sendT(t, req)
	if r.status >= 500 {
		t.Fatalf("%s %s %q: status %d: %s", method, path, body, r.status, r.body)
	}
	if r.status >= 300 {
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%q: status %d with Content-Type %q", body, r.status, ct)
		}
		if after := e.takeSnapshot(t); !reflect.DeepEqual(before, after) {
			t.Fatalf("%q: rejected with %d but the store changed: %s", body, r.status, r.body)
		}
	}
}

func FuzzPostOrders(f *testing.F) {
	for _, s := range []string{
		`{"customerId":"123","quantity":3,"sku":"MACGUFFIN-LX"}`,
		`{"customerId":"123","quantity":3}`,
		`{"customerId":"123","quantity":3.5}`,
		`{"customerId":"123","quantity":1e30}`,
		`{"customerId":"","quantity":1}`,
		`{"customerId":"1","quantity":1,"sku":"NOPE"}`,
		`{"customerId":"1","quantity":1,"x":1}`,
		`{"customerId":"1","quantity":1}{}`,
		`{"customerId":{"a":[1,2]},"quantity":1}`,
		`{"customerId":"1","lines":[{"sku":"MACGUFFIN-LX","quantity":1}]}`,
		`{"customerId":"1","lines":[{"sku":"MACGUFFIN-LX","quantity":1},{"sku":"MACGUFFIN-LX","quantity":2}]}`,
		`{"customerId":"1","lines":[{"sku":"MACGUFFIN-LX","quantity":1},{"sku":"NOPE","quantity":2}]}`,
		`{"customerId":"1","lines":[],"sku":"MACGUFFIN-LX"}`,
		`{"customerId":"1","lines":null,"quantity":1}`,
		`{"customerId":"1","lines":[null,{}]}`,
		`{"customerId":"1","lines":{"sku":"MACGUFFIN-LX"}}`,
		`{"customerId":"1","lines":[{"sku":"MACGUFFIN-LX","quantity":1,"x":1}]}`,
		`null`, `[]`, ``, `{`, `"\ud800"`, "{\"customerId\":\"\xff\",\"quantity\":1}",
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPost(t, e, "POST", "/orders", body)
	})
}

func FuzzPutInventory(f *testing.F) {
	for _, s := range []struct{ sku, body string }{
		{"WIDGET-1", `{"productName":"W","model":"1","quantity":5,"lowStockThreshold":1}`},
		{"MACGUFFIN-LX", `{"productName":"MacGuffin","quantity":-1}`},
		{"W", `{"productName":"W","quantity":1.5}`},
		{"W", `{"productName":"W","quantity":1}x`},
		{"-bad", `{"productName":"W","quantity":1}`},
		{"a/b", `{"productName":"W","quantity":1}`},
		{"W", `{"productName":"W","quantity":0,"allowBackorder":true}`},
		{"W", `{"productName":"W","quantity":1,"allowBackorder":1}`},
		{"W", `null`},
		{"W", `{"productName":null,"quantity":null}`},
	} {
		f.Add(s.sku, []byte(s.body))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, sku string, body []byte) {
		fuzzPost(t, e, "PUT", "/inventory/"+url.PathEscape(sku), body)
	})
}

func FuzzAdjustStock(f *testing.F) {
	for _, s := range []struct{ sku, body string }{
		{"MACGUFFIN-LX", `{"delta":-5,"reason":"broken"}`},
		{"MACGUFFIN-LX", `{"delta":500}`},
		{"MACGUFFIN-LX", `{"delta":-2000000}`},
		{"MACGUFFIN-LX", `{"delta":0}`},
		{"MACGUFFIN-LX", `{"delta":1.5}`},
		{"MACGUFFIN-LX", `{"delta":9223372036854775808}`},
		{"MACGUFFIN-LX", `{"delta":"1"}`},
		{"MACGUFFIN-LX", `{"delta":1,"reason":null}`},
		{"NOPE", `{"delta":1}`},
		{"-bad", `{"delta":1}`},
		{"MACGUFFIN-LX", `[]`},
	} {
		f.Add(s.sku, []byte(s.body))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, sku string, body []byte) {
		fuzzPost(t, e, "POST", "/inventory/"+url.PathEscape(sku)+"/adjustments", body)
	})
}

// FuzzShipOrder fuzzes the body of POST /orders/{id}/shipment against a
// PAID order: never a 5xx, and a refused shipment changes nothing.
func FuzzShipOrder(f *testing.F) {
	for _, b := range []string{
		`{"carrier":"UPS","trackingId":"1Z999"}`,
		`{"carrier":"UPS","trackingId":"other"}`,
		`{"carrier":"","trackingId":"1Z"}`,
		`{"carrier":" UPS","trackingId":"1Z"}`,
		`{"carrier":"UPS","trackingId":"a\u0000b"}`,
		`{"carrier":"UPS","trackingId":"a\nb"}`,
		`{"carrier":"UPS"}`,
		`{"carrier":1,"trackingId":"1Z"}`,
		`{"carrier":"UPS","trackingId":"1Z","extra":1}`,
		`{"carrier":null,"trackingId":null}`,
		`null`,
		`[]`,
	} {
		f.Add([]byte(b))
	}
	e := newEnv(f)
	id := e.do("POST", "/orders", `{"customerId":"c-1","quantity":1}`).wantJSON(f, http.StatusAccepted)["orderId"].(string)
	if _, err := e.store.ReserveStock(f.Context(), id); err != nil {
		f.Fatal(err)
	}
	if _, err := e.store.CompletePayment(f.Context(), id, true, ""); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPost(t, e, "POST", "/orders/"+id+"/shipment", body)
	})
}

// FuzzListOrders fuzzes the query of GET /orders: never a 5xx.
func FuzzListOrders(f *testing.F) {
	for _, q := range []string{"", "limit=1", "cursor=o1.MTIz", "cursor=o1.MXxh", "status=PAID&customerId=x", "limit=-1", "limit=99999999999999999999"} {
		f.Add(q)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, q string) {
		req, err := http.NewRequest("GET", e.srv.URL+"/orders?"+url.PathEscape(q), nil)
		if err != nil {
			return
		}
		if strings.ContainsFunc(q, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '#' }) {
			return // not a valid request line: net/http rejects it before the API
		}
		req.URL.RawQuery = q
		if r := e.sendT(t, req); r.status >= 500 {
			t.Fatalf("GET /orders?%s: %d %s", q, r.status, r.body)
		}
	})
}
