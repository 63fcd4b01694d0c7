package console_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// TestConsoleOrdersSearch: by order id (the one order, or 404 saying none
// has it) and by customer (paged, the customer kept in the next link);
// read may search by id but not by customer.
func TestConsoleOrdersSearch(t *testing.T) {
	srv, db := newConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
	ctx := context.Background()
	for i := range 55 {
		cust := "alice"
		if i%5 == 0 {
			cust = "bob"
		}
		at := time.Now().UTC()
		if _, _, err := db.CreateOrder(ctx, wims.Order{ID: fmt.Sprintf("s-%02d", i), CustomerID: cust, SKU: wims.DefaultSKU, Quantity: 1,
			Status: wims.OrderPending, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	admin := login(t, srv, "admin-secret")
	resp, page := get(t, admin, srv.URL+"/ui/orders?id=s-07")
	if rows := rowRE.FindAllString(page, -1); resp.StatusCode != http.StatusOK || len(rows) != 1 || rows[0] != `<tr data-order-id="s-07">` {
		t.Errorf("by id: %d %v", resp.StatusCode, rows)
	}
	resp, page = get(t, admin, srv.URL+"/ui/orders?id=%3Cb%3Enope")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "No order has the id &lt;b&gt;nope.") {
		t.Errorf("unknown id: %d", resp.StatusCode)
	}

	resp, page = get(t, admin, srv.URL+"/ui/orders?customer=alice")
	rows := rowRE.FindAllString(page, -1)
	if resp.StatusCode != http.StatusOK || len(rows) != 44 {
		t.Fatalf("alice's orders: %d, %d rows, want 44", resp.StatusCode, len(rows))
	}
	_, page = get(t, admin, srv.URL+"/ui/orders?customer=bob&status=PENDING")
	if rows := rowRE.FindAllString(page, -1); len(rows) != 11 || strings.Contains(page, `data-newest`) {
		t.Errorf("bob's pending orders: %d rows (want 11), or the page follows everyone's newest", len(rows))
	}
	// Paging keeps the customer.
	for i := range 60 {
		at := time.Now().UTC()
		if _, _, err := db.CreateOrder(ctx, wims.Order{ID: fmt.Sprintf("c-%02d", i), CustomerID: "carol", SKU: wims.DefaultSKU, Quantity: 1,
			Status: wims.OrderPending, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	_, first := get(t, admin, srv.URL+"/ui/orders?customer=carol")
	m := regexp.MustCompile(`href="(/ui/orders\?[^"]+)" rel="next"`).FindStringSubmatch(first)
	if m == nil || !strings.Contains(m[1], "customer=carol") {
		t.Fatalf("next link %v lacks the customer", m)
	}
	_, second := get(t, admin, srv.URL+strings.ReplaceAll(m[1], "&amp;", "&"))
	if rows := rowRE.FindAllString(second, -1); len(rows) != 10 || strings.Contains(second, `"s-`) {
		t.Errorf("carol's second page: %v", rows)
	}

	reader := login(t, srv, "read-secret")
	if resp, _ := get(t, reader, srv.URL+"/ui/orders?customer=alice"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read by customer: %d, want 403", resp.StatusCode)
	}
	resp, page = get(t, reader, srv.URL+"/ui/orders?id=s-07")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-order-id="s-07"`) || strings.Contains(page, "alice") {
		t.Errorf("read by id: %d, or it shows the customer", resp.StatusCode)
	}
}

// TestConsoleOrdersBySKU: the SKU search lists an item's orders (also with
// a customer), pages keep it, and a bad SKU is a 400.
func TestConsoleOrdersBySKU(t *testing.T) {
	srv, db := newConsole(t)
	ctx := context.Background()
	if _, err := db.PutItem(ctx, wims.Item{SKU: "GADGET", ProductName: "Gadget", Quantity: 1000}); err != nil {
		t.Fatal(err)
	}
	for i := range 70 {
		sku, cust := wims.DefaultSKU, "dave"
		if i%7 != 0 {
			sku = "GADGET"
		}
		if i%2 == 0 {
			cust = "erin"
		}
		at := time.Now().UTC()
		if _, _, err := db.CreateOrder(ctx, wims.Order{ID: fmt.Sprintf("g-%02d", i), CustomerID: cust, SKU: sku, Quantity: 1,
			Status: wims.OrderPending, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	c := client(t)
	_, first := get(t, c, srv.URL+"/ui/orders?sku=GADGET")
	if rows := rowRE.FindAllString(first, -1); len(rows) != 50 || strings.Contains(first, `"g-00"`) || strings.Contains(first, "data-newest") {
		t.Fatalf("GADGET's first page: %d rows", len(rows))
	}
	m := regexp.MustCompile(`href="(/ui/orders\?[^"]+)" rel="next"`).FindStringSubmatch(first)
	if m == nil || !strings.Contains(m[1], "sku=GADGET") {
		t.Fatalf("next link %v lacks the SKU", m)
	}
	_, second := get(t, c, srv.URL+strings.ReplaceAll(m[1], "&amp;", "&"))
	if rows := rowRE.FindAllString(second, -1); len(rows) != 10 {
		t.Errorf("GADGET's second page: %d rows, want 10", len(rows))
	}
	_, both := get(t, c, srv.URL+"/ui/orders?sku=GADGET&customer=erin")
	if rows := rowRE.FindAllString(both, -1); len(rows) != 30 {
		t.Errorf("GADGET and erin: %d rows, want 30", len(rows))
	}
	if resp, _ := get(t, c, srv.URL+"/ui/orders?sku=no+spaces"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad SKU: %d, want 400", resp.StatusCode)
	}
}
