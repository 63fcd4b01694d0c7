package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// TestConsoleOrderLines: a multi-line order's page lists its lines and the
// total, and the orders table shows its first SKU with how many more lines.
func TestConsoleOrderLines(t *testing.T) {
	srv, db := newConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin})
	ctx := context.Background()
	if _, err := db.PutItem(ctx, wims.Item{SKU: "GADGET", ProductName: "Gadget", Quantity: 1000}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateOrder(ctx, wims.Order{ID: "multi", CustomerID: "c", Lines: []wims.OrderLine{
		{SKU: "GADGET", Quantity: 1200}, {SKU: wims.DefaultSKU, Quantity: 3},
	}}); err != nil {
		t.Fatal(err)
	}
	admin := login(t, srv, "admin-secret")
	resp, page := get(t, admin, srv.URL+"/ui/orders/multi")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<span class="mono">GADGET</span> × 1,200</li>`) ||
		!strings.Contains(page, `<span class="mono">`+wims.DefaultSKU+`</span> × 3</li>`) || !strings.Contains(page, "1,203 in all") {
		t.Fatalf("order page %d lacks its lines:\n%s", resp.StatusCode, page)
	}
	if _, list := get(t, admin, srv.URL+"/ui/orders"); !strings.Contains(list, `GADGET <span class="hint">+1 more</span>`) {
		t.Fatalf("orders table lacks the first SKU and the line count:\n%s", list)
	}
}
