package http_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wims/wims"
)

var itemKeys = []string{"sku", "productName", "model", "quantity", "lowStockThreshold", "updatedAt"}

func TestListItems(t *testing.T) {
	e := newEnv(t)
	m := e.do("GET", "/inventory", "").wantJSON(t, http.StatusOK)
	wantKeys(t, m, "items")
	items := m["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items = %v, want the seeded one", items)
	}
	it := items[0].(map[string]any)
	wantKeys(t, it, itemKeys...)
	if it["sku"] != wims.DefaultSKU || it["productName"] != "MacGuffin" || it["model"] != "LX" ||
		it["quantity"] != 1e6 || it["lowStockThreshold"] != 100.0 {
		t.Fatalf("seeded item = %v", it)
	}
}

func TestGetItem(t *testing.T) {
	e := newEnv(t)
	t.Run("OK", func(t *testing.T) {
		m := e.do("GET", "/inventory/MACGUFFIN-LX", "").wantJSON(t, http.StatusOK)
		wantKeys(t, m, itemKeys...)
		if m["quantity"] != 1e6 {
			t.Fatalf("item = %v", m)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		e.do("GET", "/inventory/NOPE-1", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
	t.Run("ErrNotFoundBadSKU", func(t *testing.T) {
		e.do("GET", "/inventory/-bad%20sku", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
}

func TestPutItem(t *testing.T) {
	e := newEnv(t)
	t.Run("Create", func(t *testing.T) {
		r := e.do("PUT", "/inventory/WIDGET-9",
			`{"productName":"Widget","model":"9","quantity":50,"lowStockThreshold":5}`)
		m := r.wantJSON(t, http.StatusOK)
		wantKeys(t, m, itemKeys...)
		if m["sku"] != "WIDGET-9" || m["productName"] != "Widget" || m["model"] != "9" ||
			m["quantity"] != 50.0 || m["lowStockThreshold"] != 5.0 || m["updatedAt"] == "" {
			t.Fatalf("item = %v", m)
		}
		got := e.do("GET", "/inventory/WIDGET-9", "").wantJSON(t, http.StatusOK)
		if got["quantity"] != 50.0 || got["productName"] != "Widget" {
			t.Fatalf("stored item = %v", got)
		}
	})
	t.Run("ReplaceWithDefaults", func(t *testing.T) {
		// PUT replaces: omitted model and lowStockThreshold take defaults.
		m := e.do("PUT", "/inventory/WIDGET-9", `{"productName":"Widget 2","quantity":0}`).wantJSON(t, http.StatusOK)
		if m["model"] != "" || m["quantity"] != 0.0 || m["lowStockThreshold"] != 100.0 {
			t.Fatalf("item = %v", m)
		}
		list := e.do("GET", "/inventory", "").wantJSON(t, http.StatusOK)["items"].([]any)
		if len(list) != 2 {
			t.Fatalf("items = %v", list)
		}
	})
}

func TestPutItemValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, path, body, slug, field string
		status                        int
	}{
		{"MissingProductName", "/inventory/W-1", `{"quantity":1}`, "validation-error", "productName", 400},
		{"EmptyProductName", "/inventory/W-1", `{"productName":"","quantity":1}`, "validation-error", "productName", 400},
		{"MissingQuantity", "/inventory/W-1", `{"productName":"W"}`, "validation-error", "quantity", 400},
		{"NegativeQuantity", "/inventory/W-1", `{"productName":"W","quantity":-1}`, "validation-error", "quantity", 400},
		{"HugeQuantity", "/inventory/W-1", `{"productName":"W","quantity":1000000001}`, "validation-error", "quantity", 400},
		{"FractionalQuantity", "/inventory/W-1", `{"productName":"W","quantity":1.5}`, "validation-error", "quantity", 400},
		{"NegativeThreshold", "/inventory/W-1", `{"productName":"W","quantity":1,"lowStockThreshold":-1}`, "validation-error", "lowStockThreshold", 400},
		{"LongProductName", "/inventory/W-1", `{"productName":"` + strings.Repeat("x", 201) + `","quantity":1}`, "validation-error", "productName", 400},
		{"ModelWrongType", "/inventory/W-1", `{"productName":"W","model":7,"quantity":1}`, "validation-error", "model", 400},
		{"UnknownField", "/inventory/W-1", `{"productName":"W","quantity":1,"price":3}`, "validation-error", "price", 400},
		{"BadSKU", "/inventory/-W", `{"productName":"W","quantity":1}`, "validation-error", "sku", 400},
		{"Null", "/inventory/W-1", `null`, "malformed-json", "", 400},
		{"Malformed", "/inventory/W-1", `{"productName":"W",`, "malformed-json", "", 400},
		{"Trailing", "/inventory/W-1", `{"productName":"W","quantity":1}{}`, "malformed-json", "", 400},
		{"ReplaceSeedBadly", "/inventory/MACGUFFIN-LX", `{"productName":"M","quantity":-5}`, "validation-error", "quantity", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot()
			e.do("PUT", tt.path, tt.body).wantProblem(t, tt.status, tt.slug, tt.field)
			e.wantUnchanged(before)
		})
	}
}

func TestAdjustStock(t *testing.T) {
	e := newEnv(t)
	t.Run("WriteOff", func(t *testing.T) {
		m := e.do("POST", "/inventory/MACGUFFIN-LX/adjustments", `{"delta":-5,"reason":"damaged"}`).wantJSON(t, http.StatusOK)
		wantKeys(t, m, itemKeys...)
		if m["quantity"] != 999995.0 {
			t.Fatalf("item = %v", m)
		}
	})
	t.Run("Restock", func(t *testing.T) {
		m := e.do("POST", "/inventory/MACGUFFIN-LX/adjustments", `{"delta":500}`).wantJSON(t, http.StatusOK)
		if m["quantity"] != 1000495.0 {
			t.Fatalf("item = %v", m)
		}
	})
	tests := []struct {
		name, path, body, slug, field string
		status                        int
	}{
		{"ErrBelowZero", "/inventory/MACGUFFIN-LX/adjustments", `{"delta":-1000496}`, "insufficient-stock", "", 409},
		{"ErrDeltaTooLarge", "/inventory/MACGUFFIN-LX/adjustments", `{"delta":-2000000000}`, "validation-error", "delta", 400},
		{"ErrUnknownSKU", "/inventory/NOPE-1/adjustments", `{"delta":1}`, "not-found", "", 404},
		{"ErrZero", "/inventory/MACGUFFIN-LX/adjustments", `{"delta":0}`, "validation-error", "delta", 400},
		{"ErrMissing", "/inventory/MACGUFFIN-LX/adjustments", `{"reason":"x"}`, "validation-error", "delta", 400},
		{"ErrFraction", "/inventory/MACGUFFIN-LX/adjustments", `{"delta":2.5}`, "validation-error", "delta", 400},
		{"ErrReasonType", "/inventory/MACGUFFIN-LX/adjustments", `{"delta":2,"reason":false}`, "validation-error", "reason", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot()
			e.do("POST", tt.path, tt.body).wantProblem(t, tt.status, tt.slug, tt.field)
			e.wantUnchanged(before)
		})
	}
}
