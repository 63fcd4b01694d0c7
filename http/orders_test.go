package http_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

var orderKeys = []string{"orderId", "customerId", "sku", "quantity", "lines", "status", "createdAt", "updatedAt"}

// TestCourseDemo is the course's slice: the seeded MacGuffin, one order
// accepted as PENDING with its Location, and read back.
func TestCourseDemo(t *testing.T) {
	e := newEnv(t)
	item := e.do("GET", "/inventory/MACGUFFIN-LX", "").wantJSON(t, http.StatusOK)
	if item["quantity"] != 1e6 {
		t.Fatalf("seeded quantity = %v", item["quantity"])
	}

	r := e.do("POST", "/orders", `{"customerId":"123","quantity":3,"sku":"MACGUFFIN-LX"}`)
	m := r.wantJSON(t, http.StatusAccepted)
	wantKeys(t, m, orderKeys...)
	id, _ := m["orderId"].(string)
	if id == "" || m["customerId"] != "123" || m["sku"] != "MACGUFFIN-LX" || m["quantity"] != 3.0 || m["status"] != "PENDING" {
		t.Fatalf("order = %v", m)
	}
	for _, k := range []string{"createdAt", "updatedAt"} {
		if _, err := time.Parse(time.RFC3339Nano, m[k].(string)); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if got, want := r.header.Get("Location"), "/orders/"+id; got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("fresh order marked as replayed")
	}

	got := e.do("GET", r.header.Get("Location"), "").wantJSON(t, http.StatusOK)
	wantKeys(t, got, append(orderKeys, "history", "payments", "executions")...)
	for _, k := range orderKeys {
		if !reflect.DeepEqual(got[k], m[k]) {
			t.Fatalf("GET %s = %v, POST said %v", k, got[k], m[k])
		}
	}
	if p := got["payments"].([]any); len(p) != 0 {
		t.Fatalf("payments = %v", p)
	}
	if x := got["executions"].([]any); len(x) != 0 {
		t.Fatalf("executions = %v", x)
	}
}

func TestCreateOrderDefaultSKU(t *testing.T) {
	e := newEnv(t)
	m := e.do("POST", "/orders", `{"customerId":"c-1","quantity":1}`).wantJSON(t, http.StatusAccepted)
	if m["sku"] != wims.DefaultSKU {
		t.Fatalf("sku = %v", m["sku"])
	}
}

func TestCreateOrderNoContentType(t *testing.T) {
	// Content-Type is only checked when present: curl -d without -H works.
	e := newEnv(t)
	e.do("POST", "/orders", `{"customerId":"c-1","quantity":1}`, "Content-Type", "<delete>").wantJSON(t, http.StatusAccepted)
	e.do("POST", "/orders", `{"customerId":"c-1","quantity":1}`, "Content-Type", "application/json; charset=utf-8").wantJSON(t, http.StatusAccepted)
}

func TestCreateOrderIDs(t *testing.T) {
	n := 0
	e := newEnv(t, func(o *wimshttp.Options) {
		o.NewOrderID = func() string { n++; return fmt.Sprintf("order-%d", n) }
	})
	m := e.do("POST", "/orders", `{"customerId":"c","quantity":1}`).wantJSON(t, http.StatusAccepted)
	if m["orderId"] != "order-1" {
		t.Fatalf("orderId = %v", m["orderId"])
	}
	t.Run("ErrCollision", func(t *testing.T) {
		n = 0 // NewOrderID repeats itself: never hand back another order
		before := e.snapshot()
		e.do("POST", "/orders", `{"customerId":"other","quantity":1}`).wantProblem(t, http.StatusConflict, "conflict", "")
		e.wantUnchanged(before)
	})
}

func TestCreateOrderIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	const body = `{"customerId":"123","quantity":3,"sku":"MACGUFFIN-LX"}`
	first := e.do("POST", "/orders", body, "Idempotency-Key", "key-1")
	m1 := first.wantJSON(t, http.StatusAccepted)
	if m1["orderId"] != wimshttp.OrderIDForKey("key-1") {
		t.Fatalf("orderId = %v, want OrderIDForKey(key-1)", m1["orderId"])
	}
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("first request marked as replayed")
	}

	t.Run("Replay", func(t *testing.T) {
		before := e.snapshot()
		// Members in another order and spacing: the same request.
		again := e.do("POST", "/orders", `{ "sku":"MACGUFFIN-LX", "quantity":3, "customerId":"123" }`, "Idempotency-Key", "key-1")
		m2 := again.wantJSON(t, http.StatusAccepted)
		if m2["orderId"] != m1["orderId"] || m2["createdAt"] != m1["createdAt"] || m2["status"] != "PENDING" {
			t.Fatalf("replay = %v, first = %v", m2, m1)
		}
		if again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("Idempotent-Replayed not set")
		}
		if again.header.Get("Location") != first.header.Get("Location") {
			t.Fatal("Location differs")
		}
		e.wantUnchanged(before)
		if n := e.orderInserts(); n != 1 {
			t.Fatalf("orders created = %d, want 1", n)
		}
	})
	t.Run("ReplayIsTheOriginalResponse", func(t *testing.T) {
		// The draft asks for the same response: the order as accepted, not
		// as it is now (GET /orders/{id} shows that).
		id := m1["orderId"].(string)
		if _, err := e.store.ReserveStock(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/orders", body, "Idempotency-Key", "key-1")
		m := r.wantJSON(t, http.StatusAccepted)
		for k, v := range m1 {
			if !reflect.DeepEqual(m[k], v) {
				t.Fatalf("replay %s = %v, original %v", k, m[k], v)
			}
		}
		if len(m) != len(m1) || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay = %v, original %v", m, m1)
		}
		if cur := e.do("GET", "/orders/"+id, "").wantJSON(t, http.StatusOK); cur["status"] != "RESERVED" {
			t.Fatalf("GET status = %v, want RESERVED", cur["status"])
		}
	})
	t.Run("ErrReusedWithOtherBody", func(t *testing.T) {
		for _, other := range []string{
			`{"customerId":"123","quantity":4,"sku":"MACGUFFIN-LX"}`,
			`{"customerId":"124","quantity":3,"sku":"MACGUFFIN-LX"}`,
		} {
			before := e.snapshot()
			e.do("POST", "/orders", other, "Idempotency-Key", "key-1").
				wantProblem(t, http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key")
			e.wantUnchanged(before)
		}
	})
	t.Run("OtherKeyOtherOrder", func(t *testing.T) {
		m := e.do("POST", "/orders", body, "Idempotency-Key", "key-2").wantJSON(t, http.StatusAccepted)
		if m["orderId"] == m1["orderId"] {
			t.Fatal("two keys, one order")
		}
	})
}

func TestCreateOrderValidation(t *testing.T) {
	e := newEnv(t)
	const ok = `{"customerId":"123","quantity":3}`
	tests := []struct {
		name    string
		body    string
		headers []string
		status  int
		slug    string
		field   string
	}{
		{"Empty", " ", nil, 400, "malformed-json", ""},
		{"Null", "null", nil, 400, "malformed-json", ""},
		{"Array", `[{"customerId":"1","quantity":1}]`, nil, 400, "malformed-json", ""},
		{"String", `"order"`, nil, 400, "malformed-json", ""},
		{"Truncated", `{"customerId":"1",`, nil, 400, "malformed-json", ""},
		{"Syntax", `{"customerId":"1" "quantity":1}`, nil, 400, "malformed-json", ""},
		{"Trailing", ok + `{}`, nil, 400, "malformed-json", ""},
		{"TrailingGarbage", ok + ` x`, nil, 400, "malformed-json", ""},
		{"UnknownField", `{"customerId":"1","quantity":1,"price":9}`, nil, 400, "validation-error", "price"},
		{"CustomerIDNumber", `{"customerId":123,"quantity":1}`, nil, 400, "validation-error", "customerId"},
		{"CustomerIDMissing", `{"quantity":1}`, nil, 400, "validation-error", "customerId"},
		{"CustomerIDEmpty", `{"customerId":"","quantity":1}`, nil, 400, "validation-error", "customerId"},
		{"CustomerIDLong", `{"customerId":"` + strings.Repeat("c", 129) + `","quantity":1}`, nil, 400, "validation-error", "customerId"},
		{"QuantityMissing", `{"customerId":"1"}`, nil, 400, "validation-error", "quantity"},
		{"QuantityZero", `{"customerId":"1","quantity":0}`, nil, 400, "validation-error", "quantity"},
		{"QuantityNegative", `{"customerId":"1","quantity":-3}`, nil, 400, "validation-error", "quantity"},
		{"QuantityFraction", `{"customerId":"1","quantity":3.5}`, nil, 400, "validation-error", "quantity"},
		{"QuantityString", `{"customerId":"1","quantity":"3"}`, nil, 400, "validation-error", "quantity"},
		{"QuantityTooLarge", `{"customerId":"1","quantity":1000001}`, nil, 400, "validation-error", "quantity"},
		{"QuantityOverflow", `{"customerId":"1","quantity":1e30}`, nil, 400, "validation-error", "quantity"},
		// encoding/json leaves a null number at 0, which Validate rejects.
		{"QuantityNull", `{"customerId":"1","quantity":null}`, nil, 400, "validation-error", "quantity"},
		{"SKUUnknown", `{"customerId":"1","quantity":1,"sku":"NOPE-1"}`, nil, 400, "validation-error", "sku"},
		{"SKUEmpty", `{"customerId":"1","quantity":1,"sku":""}`, nil, 400, "validation-error", "sku"},
		{"SKUBad", `{"customerId":"1","quantity":1,"sku":"no spaces"}`, nil, 400, "validation-error", "sku"},
		{"SKUNumber", `{"customerId":"1","quantity":1,"sku":7}`, nil, 400, "validation-error", "sku"},
		{"ContentTypeText", ok, []string{"Content-Type", "text/plain"}, 415, "unsupported-media-type", "Content-Type"},
		{"ContentTypeForm", ok, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported-media-type", "Content-Type"},
		{"ContentTypeBroken", ok, []string{"Content-Type", "application/json; ="}, 415, "unsupported-media-type", "Content-Type"},
		{"KeyTooLong", ok, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "validation-error", "Idempotency-Key"},
		{"KeyEmpty", ok, []string{"Idempotency-Key", ""}, 400, "validation-error", "Idempotency-Key"},
		{"KeyTab", ok, []string{"Idempotency-Key", "a\tb"}, 400, "validation-error", "Idempotency-Key"},
		{"KeyNonASCII", ok, []string{"Idempotency-Key", "ключ"}, 400, "validation-error", "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot()
			e.do("POST", "/orders", tt.body, tt.headers...).wantProblem(t, tt.status, tt.slug, tt.field)
			e.wantUnchanged(before)
		})
	}
	t.Run("QuantityMaxIsAccepted", func(t *testing.T) {
		e.do("POST", "/orders", `{"customerId":"1","quantity":1000000}`).wantJSON(t, http.StatusAccepted)
	})
}

func TestCreateOrderTooLarge(t *testing.T) {
	e := newEnv(t)
	big := `{"customerId":"` + strings.Repeat("a", 300<<10) + `","quantity":1}`
	t.Run("ContentLength", func(t *testing.T) {
		before := e.snapshot()
		e.do("POST", "/orders", big).wantProblem(t, http.StatusRequestEntityTooLarge, "too-large", "")
		e.wantUnchanged(before)
	})
	t.Run("Chunked", func(t *testing.T) {
		before := e.snapshot()
		// io.MultiReader hides the length, so the body is sent chunked
		// and only the byte limit can stop it.
		req, err := http.NewRequest("POST", e.srv.URL+"/orders", io.MultiReader(strings.NewReader(big)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		r := e.send(req)
		r.wantProblem(t, http.StatusRequestEntityTooLarge, "too-large", "")
		e.wantUnchanged(before)
	})
	t.Run("GarbageStillTooLarge", func(t *testing.T) {
		// Oversize wins over malformed: the body is bounded before parsing.
		e.do("POST", "/orders", strings.Repeat("x", 300<<10)).wantProblem(t, http.StatusRequestEntityTooLarge, "too-large", "")
	})
}

func TestGetOrder(t *testing.T) {
	e := newEnv(t)
	m := e.do("POST", "/orders", `{"customerId":"123","quantity":3}`).wantJSON(t, http.StatusAccepted)
	id := m["orderId"].(string)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := e.store.RecordPaymentAttempt(ctx, wims.PaymentAttempt{
		OrderID: id, Attempt: 1, Outcome: wims.PaymentThrottled, StatusCode: 429, At: at, DurationMS: 1.5,
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SaveExecution(ctx, wims.Execution{
		ID: "exec-1", OrderID: id, Workflow: "order", Status: wims.ExecutionRunning, StartedAt: at,
		Steps: []wims.Step{{Name: "reserve", Outcome: "RESERVED", StartedAt: at, DurationMS: 2}}, EventID: "ev-1",
	}); err != nil {
		t.Fatal(err)
	}

	got := e.do("GET", "/orders/"+id, "").wantJSON(t, http.StatusOK)
	wantKeys(t, got, append(orderKeys, "history", "payments", "executions")...)
	payments := got["payments"].([]any)
	if len(payments) != 1 {
		t.Fatalf("payments = %v", payments)
	}
	p := payments[0].(map[string]any)
	if p["orderId"] != id || p["attempt"] != 1.0 || p["outcome"] != "throttled" || p["statusCode"] != 429.0 {
		t.Fatalf("payment = %v", p)
	}
	execs := got["executions"].([]any)
	if len(execs) != 1 {
		t.Fatalf("executions = %v", execs)
	}
	x := execs[0].(map[string]any)
	if x["executionId"] != "exec-1" || x["status"] != "RUNNING" || len(x["steps"].([]any)) != 1 {
		t.Fatalf("execution = %v", x)
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		e.do("GET", "/orders/nope", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		e.do("GET", "/orders/"+strings.Repeat("x", 300), "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
}
