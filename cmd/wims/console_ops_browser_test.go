package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// waitJS waits until the JavaScript expression expr is true in the page,
// polling (no sleeps), for at most d.
func waitJS(t *testing.T, ctx context.Context, d time.Duration, expr string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		_, err := chromedp.Run(sctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		// A navigation (a submitted form) ends the poll in the old page
		// with an error: poll again in the new one, until the deadline.
		if sctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
	}
}

// figureSet is true once the overview's figure id shows a non-zero value.
func figureSet(id string) string {
	return `(() => { const t = document.getElementById("fig-` + id + `").textContent.trim(); return t !== "" && t !== "—" && !/^0(\/s)?$/.test(t); })()`
}

// TestBrowserOpsOverview: the overview's live figures (orders/s, accept
// and accept→PAID latency, backlogs) move when orders are placed through
// the API, without a reload.
func TestBrowserOpsOverview(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	ctx := browser(t)
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	for _, id := range []string{"orders-rate", "accept-p99", "paid-p99"} {
		if got := text(t, ctx, "#fig-"+id); got != "—" && got != "0/s" {
			t.Errorf("before any order: %s = %q", id, got)
		}
	}
	var last wims.Order
	for i := range 20 {
		last = a.placeOrder("customer-ops", 1, "")
		_ = i
	}
	waitStatus(t, a, last.ID, wims.OrderPaid)
	// Every figure read from the registry: a renamed metric would show "—".
	for _, id := range []string{"orders-rate", "accept-p50", "accept-p99", "reserved-p50", "reserved-p99", "paid-p50", "paid-p99",
		"payments-rate", "relay-lag-p50", "relay-lag-p99"} {
		waitJS(t, ctx, 15*time.Second, figureSet(id))
	}
	if got := text(t, ctx, "#fig-dead-letters"); got != "0" {
		t.Errorf("dead letters %q, want 0", got)
	}
	waitJS(t, ctx, 15*time.Second, `document.querySelectorAll("#backlogs tr[data-consumer]").length > 0`)
	if got := text(t, ctx, "#backlogs"); !strings.Contains(got, "order-workflow") {
		t.Errorf("backlogs: %q lacks order-workflow", got)
	}
	if pts := text(t, ctx, "#fig-payments-limit"); pts != "1000/s" {
		t.Errorf("payments limit %q, want 1000/s", pts)
	}
	waitJS(t, ctx, 15*time.Second, `document.getElementById("plot-orders-rate").getAttribute("points").split(" ").length > 1`)
	screenshot(t, ctx, "overview")
}

// TestBrowserOpsInventory: an item's stock sparkline is drawn and follows
// the stock; the thresholds form changes what GET /inventory/{sku}
// answers; read gets 403 on the forms and a POST without the CSRF token is
// refused.
func TestBrowserOpsInventory(t *testing.T) {
	const admin, reader = "admin-secret-0123456789", "read-secret-0123456789"
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{admin + ":admin", reader + ":read"} })
	a.putItemAs(admin, "OPS-1", 40, 5)
	ctx := browser(t)
	consoleLoginBrowser(t, ctx, a.url, admin)

	row := `tr[data-sku="OPS-1"]`
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/inventory"), chromedp.WaitVisible(chromedp.CSS(row+" form.levels")))
	code, _ := a.do("POST", "/inventory/OPS-1/adjustments", map[string]any{"delta": 25, "reason": "restock"}, "Authorization", "Bearer "+admin)
	if code != http.StatusOK {
		t.Fatalf("adjust: %d", code)
	}
	// The live quantity, then a line of at least two points.
	waitJS(t, ctx, 15*time.Second, `document.querySelector('`+row+` [data-field="quantity"]').textContent === "65"`)
	waitJS(t, ctx, 15*time.Second, `document.querySelector('`+row+` .spark polyline').getAttribute("points").split(" ").length >= 2`)
	if w := text(t, ctx, row+" .spark"); w != "" {
		t.Errorf("sparkline has text %q", w)
	}

	within(t, ctx, 15*time.Second,
		chromedp.SetValue(chromedp.CSS(row+` input[name="lowStockThreshold"]`), "9"),
		chromedp.SetValue(chromedp.CSS(row+` input[name="highStockThreshold"]`), "3"),
		chromedp.Click(chromedp.CSS(row+" form.levels button")),
		chromedp.WaitVisible(chromedp.CSS(row+" .field-error")))
	if got := text(t, ctx, row+" .field-error"); !strings.Contains(got, "above lowStockThreshold") {
		t.Errorf("field error %q", got)
	}
	if it := a.itemAs(admin, "OPS-1"); it.LowStockThreshold != 5 || it.HighStockThreshold != 0 {
		t.Errorf("a refused form changed the item: %+v", it)
	}
	within(t, ctx, 15*time.Second,
		chromedp.SetValue(chromedp.CSS(row+` input[name="highStockThreshold"]`), "500"),
		chromedp.Click(chromedp.CSS(row+" form.levels button")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if it := a.itemAs(admin, "OPS-1"); it.LowStockThreshold != 9 || it.HighStockThreshold != 500 || it.Quantity != 65 {
		t.Errorf("GET /inventory/OPS-1 after the form: %+v, want levels 9 and 500, quantity 65", it)
	}
	if got := text(t, ctx, row+` [data-field="high"]`); got != "500" {
		t.Errorf("high threshold shown %q", got)
	}
	waitJS(t, ctx, 15*time.Second, `document.querySelector('`+row+` .spark polyline').getAttribute("points").split(" ").length >= 2`)
	screenshot(t, ctx, "inventory")

	// Direct POSTs, as a script with the session cookie would send them.
	levels := a.url + "/ui/inventory/OPS-1/thresholds"
	rc, readToken := consoleLogin(t, a.url, reader)
	if code := postForm(t, rc, levels, url.Values{"csrf": {readToken}, "lowStockThreshold": {"1"}}); code != http.StatusForbidden {
		t.Errorf("read sets levels: %d, want 403", code)
	}
	if code := postForm(t, rc, a.url+"/ui/inventory", url.Values{"csrf": {readToken}, "sku": {"R-1"}, "productName": {"r"}, "quantity": {"1"}}); code != http.StatusForbidden {
		t.Errorf("read creates an item: %d, want 403", code)
	}
	ac, _ := consoleLogin(t, a.url, admin)
	if code := postForm(t, ac, levels, url.Values{"lowStockThreshold": {"1"}}); code != http.StatusForbidden {
		t.Errorf("admin without the CSRF token: %d, want 403", code)
	}
	if it := a.itemAs(admin, "OPS-1"); it.LowStockThreshold != 9 {
		t.Errorf("a refused POST changed the item: %+v", it)
	}
}

// putItemAs puts an item with key's bearer token.
func (a *testApp) putItemAs(key, sku string, qty, threshold int64) {
	a.t.Helper()
	code, body := a.do("PUT", "/inventory/"+sku, map[string]any{
		"productName": "Test " + sku, "model": "T", "quantity": qty, "lowStockThreshold": threshold,
	}, "Authorization", "Bearer "+key)
	if code != http.StatusOK {
		a.t.Fatalf("PUT /inventory/%s: %d %s", sku, code, body)
	}
}

// itemAs is GET /inventory/{sku} with key's bearer token.
func (a *testApp) itemAs(key, sku string) wims.Item {
	a.t.Helper()
	code, body := a.do("GET", "/inventory/"+sku, nil, "Authorization", "Bearer "+key)
	var it wims.Item
	if err := json.Unmarshal(body, &it); code != http.StatusOK || err != nil {
		a.t.Fatalf("GET /inventory/%s: %d %s", sku, code, body)
	}
	return it
}

// TestBrowserOpsOrderSearch: the orders page's search finds an order by
// its id among others, and by its customer.
func TestBrowserOpsOrderSearch(t *testing.T) {
	a := startTestApp(t, nil)
	var want wims.Order
	for i := range 30 {
		o := a.placeOrder("customer-search", 1, "")
		if i == 7 {
			want = o
		}
	}
	a.placeOrder("someone-else", 1, "")
	ctx := browser(t)
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/orders"), chromedp.WaitVisible(chromedp.ID("order-id")))
	within(t, ctx, 15*time.Second,
		chromedp.SendKeys(chromedp.ID("order-id"), want.ID),
		chromedp.Submit(chromedp.ID("order-id")))
	waitJS(t, ctx, 15*time.Second, `location.search.includes("id=") && document.readyState === "complete" && document.querySelector("caption") !== null`)
	within(t, ctx, 15*time.Second, chromedp.WaitVisible(chromedp.CSS(`tr[data-order-id="`+want.ID+`"]`)))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#orders tbody tr").length`)); err != nil || n != 1 {
		t.Errorf("search by id: %d rows (%v), want 1", n, err)
	}
	if got := text(t, ctx, "caption"); !strings.Contains(got, want.ID) {
		t.Errorf("caption %q lacks the id", got)
	}
	within(t, ctx, 15*time.Second,
		chromedp.SendKeys(chromedp.ID("customer"), "someone-else"),
		chromedp.Submit(chromedp.ID("customer")))
	waitJS(t, ctx, 15*time.Second, `location.search.includes("customer=") && document.readyState === "complete" && document.querySelector("caption") !== null && document.querySelector("caption").textContent.includes("someone-else")`)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#orders tbody tr").length`)); err != nil || n != 1 {
		t.Errorf("search by customer: %d rows (%v), want 1", n, err)
	}
}

// TestBrowserOpsTheme: the header's toggle flips <html data-theme> and the
// page's colours, and the choice outlives a reload (rendered by the
// server from the cookie, so no flash).
func TestBrowserOpsTheme(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	ctx := browser(t)
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(chromedp.ID("theme-toggle")))
	theme := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dataset.theme || ""`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := theme(); got != "" {
		t.Fatalf("data-theme %q before any choice, want none (the system's)", got)
	}
	light := background(t, ctx) // headless Chromium prefers light
	within(t, ctx, 5*time.Second, chromedp.Click(chromedp.ID("theme-toggle")))
	if got := theme(); got != "dark" {
		t.Fatalf("after a click: data-theme %q, want dark", got)
	}
	if got := text(t, ctx, "#theme-toggle"); got != "Dark theme" {
		t.Errorf("button text %q", got)
	}
	if dark := background(t, ctx); dark == light {
		t.Errorf("the background stays %s", dark)
	}
	for range 3 {
		a.placeOrder("customer-dark", 1, "")
	}
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML.slice(0, 200)`))
	if err != nil || !strings.Contains(html, `data-theme="dark"`) {
		t.Errorf("after a reload the server did not render the theme: %q %v", html, err)
	}
	waitJS(t, ctx, 15*time.Second, figureSet("orders-rate"))
	waitJS(t, ctx, 15*time.Second, `document.getElementById("plot-orders-rate").getAttribute("points").split(" ").length > 2`)
	screenshot(t, ctx, "overview-dark")
	within(t, ctx, 5*time.Second, chromedp.Click(chromedp.ID("theme-toggle")))
	if got := theme(); got != "light" {
		t.Errorf("second click: data-theme %q, want light", got)
	}
	if got := background(t, ctx); got != light {
		t.Errorf("light again: background %s, want %s", got, light)
	}
}
