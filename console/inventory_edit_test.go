package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// TestConsoleThresholds: the thresholds form sets the levels and keeps the
// quantity; a bad value comes back as a field error, nothing changed; read
// gets 403; a POST without the token is refused.
func TestConsoleThresholds(t *testing.T) {
	srv, db := newConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
	ctx := context.Background()
	admin := login(t, srv, "admin-secret")
	_, page := get(t, admin, srv.URL+"/ui/inventory")
	if !strings.Contains(page, `action="/ui/inventory/`+wims.DefaultSKU+`/thresholds"`) || !strings.Contains(page, `class="spark"`) {
		t.Fatalf("inventory page lacks the thresholds form or the sparkline:\n%s", page)
	}
	token := csrfOf(t, page)
	levels := srv.URL + "/ui/inventory/" + wims.DefaultSKU + "/thresholds"
	before, _ := db.GetItem(ctx, wims.DefaultSKU)

	resp, body := post(t, admin, levels, url.Values{"csrf": {token}, "lowStockThreshold": {"50"}, "highStockThreshold": {"40"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `class="field-error" id="high-0-error"`) || !strings.Contains(body, `value="40"`) {
		t.Errorf("high below low: %d, want 400 with the error next to the field and the value kept:\n%s", resp.StatusCode, body)
	}
	if resp, body := post(t, admin, levels, url.Values{"csrf": {token}, "lowStockThreshold": {"ten"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="low-0-error"`) {
		t.Errorf("not a number: %d\n%s", resp.StatusCode, body)
	}
	if it, _ := db.GetItem(ctx, wims.DefaultSKU); it != before {
		t.Fatalf("refused forms changed the item: %+v, was %+v", it, before)
	}
	if resp, _ := post(t, admin, levels, url.Values{"lowStockThreshold": {"5"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", resp.StatusCode)
	}
	reader := login(t, srv, "read-secret")
	_, readPage := get(t, reader, srv.URL+"/ui/inventory")
	if strings.Contains(readPage, "/thresholds") || strings.Contains(readPage, "New item") {
		t.Error("read sees the edit forms")
	}
	if resp, _ := post(t, reader, levels, url.Values{"csrf": {csrfOf(t, readPage)}, "lowStockThreshold": {"5"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read sets levels: %d, want 403", resp.StatusCode)
	}
	if resp, _ := post(t, reader, srv.URL+"/ui/inventory", url.Values{"csrf": {csrfOf(t, readPage)}, "sku": {"R-1"}, "productName": {"x"}, "quantity": {"1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read creates an item: %d, want 403", resp.StatusCode)
	}

	resp, _ = post(t, admin, levels, url.Values{"csrf": {token}, "lowStockThreshold": {"7"}, "highStockThreshold": {"2000000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good levels: %d, want 303", resp.StatusCode)
	}
	it, err := db.GetItem(ctx, wims.DefaultSKU)
	if err != nil || it.LowStockThreshold != 7 || it.HighStockThreshold != 2_000_000 || it.Quantity != before.Quantity {
		t.Fatalf("after the form: %+v %v", it, err)
	}
}

// TestConsoleCreateItem: the new-item form creates an item; a taken SKU
// and bad fields come back as field errors, nothing stored.
func TestConsoleCreateItem(t *testing.T) {
	srv, db := newConsole(t)
	ctx := context.Background()
	c := client(t)
	_, page := get(t, c, srv.URL+"/ui/inventory")
	token := csrfOf(t, page)
	create := srv.URL + "/ui/inventory"
	for name, c2 := range map[string]struct {
		form  url.Values
		field string
	}{
		"taken sku":    {url.Values{"sku": {wims.DefaultSKU}, "productName": {"x"}, "quantity": {"1"}}, "sku"},
		"bad sku":      {url.Values{"sku": {"no spaces"}, "productName": {"x"}, "quantity": {"1"}}, "sku"},
		"no name":      {url.Values{"sku": {"NEW-1"}, "quantity": {"1"}}, "productName"},
		"bad quantity": {url.Values{"sku": {"NEW-1"}, "productName": {"x"}, "quantity": {"-3"}}, "quantity"},
	} {
		c2.form.Set("csrf", token)
		resp, body := post(t, c, create, c2.form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="new-`+c2.field+`-error"`) {
			t.Errorf("%s: %d, want 400 with an error at %s", name, resp.StatusCode, c2.field)
		}
	}
	if _, err := db.GetItem(ctx, "NEW-1"); wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("a refused form stored NEW-1: %v", err)
	}
	resp, _ := post(t, c, create, url.Values{"csrf": {token}, "sku": {"NEW-1"}, "productName": {"<b>Widget</b>"}, "quantity": {"12"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	it, err := db.GetItem(ctx, "NEW-1")
	if err != nil || it.Quantity != 12 || it.LowStockThreshold != wimshttp.DefaultLowStockThreshold {
		t.Fatalf("created: %+v %v", it, err)
	}
	_, page = get(t, c, srv.URL+"/ui/inventory?created=NEW-1")
	if !strings.Contains(page, "&lt;b&gt;Widget&lt;/b&gt;") || !strings.Contains(page, "Created NEW-1.") {
		t.Error("the new item is not shown, escaped, with the notice")
	}
}
