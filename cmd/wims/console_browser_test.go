package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// TestBrowserPages: each console page shows what the API holds.
func TestBrowserPages(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	a.putItem("CONSOLE-1", 42, 5)
	o := a.placeOrder("customer-7", 3, "CONSOLE-1")
	waitStatus(t, a, o.ID, wims.OrderPaid)
	waitStatus(t, a, a.placeOrder("customer-8", 100, "CONSOLE-1").ID, wims.OrderRejected) // more than the 39 left
	waitStatus(t, a, a.placeOrder("customer-9", 5, "").ID, wims.OrderPaid)
	ctx := browser(t)

	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(chromedp.CSS("#count-PAID")))
	if got := text(t, ctx, "#count-PAID"); got != "2" {
		t.Errorf("overview: PAID count %q, want 2", got)
	}
	if got := text(t, ctx, "#count-REJECTED"); got != "1" {
		t.Errorf("overview: REJECTED count %q, want 1", got)
	}
	if got := text(t, ctx, "#count-items"); got != "2" { // the seeded MacGuffin and CONSOLE-1
		t.Errorf("overview: items %q, want 2", got)
	}
	within(t, ctx, 10*time.Second, chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	screenshot(t, ctx, "overview")

	// The keyboard: the first Tab reaches the skip link, the next the
	// nav, each with a visible focus outline.
	for _, want := range []string{"Skip to content", "wims"} {
		within(t, ctx, 5*time.Second, chromedp.KeyEvent("\t"))
		focus, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			"[document.activeElement.textContent.trim(), getComputedStyle(document.activeElement).outlineStyle]"))
		if err != nil {
			t.Fatal(err)
		}
		if len(focus) != 2 || focus[0] != want || focus[1] == "none" {
			t.Errorf("after Tab: focus on %q, want %q with an outline", focus, want)
		}
	}

	row := `tr[data-order-id="` + o.ID + `"]`
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/orders"), chromedp.WaitVisible(chromedp.CSS(row)))
	if got := text(t, ctx, row+` [data-field="status"]`); got != "PAID" {
		t.Errorf("orders: status %q, want PAID", got)
	}
	if got := text(t, ctx, row); !strings.Contains(got, "CONSOLE-1") || !strings.Contains(got, "customer-7") {
		t.Errorf("orders: row %q", got)
	}
	screenshot(t, ctx, "orders")

	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.CSS(row+" a")), chromedp.WaitVisible(chromedp.CSS("#history")))
	for sel, want := range map[string][]string{
		"#history": {"PENDING", "RESERVED", "PAID"},
		"main":     {"paid", "order-workflow", "reserve-stock", "SUCCEEDED"},
		".facts":   {"CONSOLE-1", "customer-7"},
		"#main h1": {o.ID},
	} {
		got := text(t, ctx, sel)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("order page %s: %q lacks %q", sel, got, w)
			}
		}
	}
	screenshot(t, ctx, "order")

	item := `tr[data-sku="CONSOLE-1"]`
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/inventory"), chromedp.WaitVisible(chromedp.CSS(item)))
	if got := text(t, ctx, item+` [data-field="quantity"]`); got != "39" {
		t.Errorf("inventory: quantity %q, want 39", got)
	}
	screenshot(t, ctx, "inventory")

	// Dark, when the system prefers it.
	light := background(t, ctx)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/orders/"+o.ID), chromedp.WaitVisible(chromedp.CSS("#history")))
	if dark := background(t, ctx); dark == light {
		t.Errorf("the background is %s in light and dark", dark)
	}
	screenshot(t, ctx, "order-dark")
}

// background is the page's computed background colour.
func background(t *testing.T, ctx context.Context) string {
	t.Helper()
	c, err := chromedp.Run(ctx, chromedp.Evaluate[string]("getComputedStyle(document.body).backgroundColor"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBrowserLive: an order placed through the API appears on the open
// orders page, and its status moves to PAID there and on its own page,
// without a reload.
func TestBrowserLive(t *testing.T) {
	// The payments API answers after a while, so the order is seen
	// before it is PAID.
	_, payURL := fastPayments(t, paymentsmock.Options{Latency: 3 * time.Second})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	ctx := browser(t)
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/orders"), chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))

	o := a.placeOrder("live-1", 1, "")
	row := `tr[data-order-id="` + o.ID + `"]`
	within(t, ctx, 15*time.Second, chromedp.WaitVisible(chromedp.CSS(row)))
	within(t, ctx, 30*time.Second, chromedp.WaitVisible(chromedp.CSS(row+" .status-PAID")))

	o2 := a.placeOrder("live-2", 1, "")
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/orders/"+o2.ID), chromedp.WaitVisible(chromedp.CSS("#history")))
	if got := text(t, ctx, `.facts [data-field="status"]`); got == "PAID" {
		t.Fatalf("order page loaded after the payment: the test shows nothing live")
	}
	within(t, ctx, 30*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`.facts .status-PAID`)),
		chromedp.WaitVisible(chromedp.CSS(`#history .status-PAID`)),
		chromedp.WaitVisible(chromedp.CSS(`#payments tbody tr`)))
	if got := text(t, ctx, "#payments tbody"); !strings.Contains(got, "paid") || !strings.Contains(got, "200") {
		t.Errorf("payment attempts, live: %q", got)
	}
}

// TestBrowserLoginRoles: with API keys, read logs in and looks but cannot
// adjust; admin adjusts through the form; a POST without the CSRF token is
// refused.
func TestBrowserLoginRoles(t *testing.T) {
	const admin, reader = "admin-secret-0123456789", "read-secret-0123456789"
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{admin + ":admin", reader + ":read"} })
	ctx := browser(t)

	loginAs := func(key string) {
		t.Helper()
		within(t, ctx, 15*time.Second,
			chromedp.Navigate(a.url+"/ui/inventory"),
			chromedp.WaitVisible(chromedp.ID("key")))
		screenshot(t, ctx, "login")
		within(t, ctx, 15*time.Second,
			chromedp.SendKeys(chromedp.ID("key"), key),
			chromedp.Click(chromedp.CSS(".login button")),
			chromedp.WaitVisible(chromedp.CSS(".who .role")))
	}
	loginAs(reader)
	if got := text(t, ctx, ".who .role"); got != "read" {
		t.Fatalf("role %q, want read", got)
	}
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/inventory"), chromedp.WaitVisible(chromedp.CSS("table.inventory")))
	if got := text(t, ctx, "table.inventory"); strings.Contains(got, "Adjust") {
		t.Errorf("read sees the adjust form: %q", got)
	}
	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.ID("key")))

	// Direct POSTs, as a script with the session cookie would send them.
	adjust := a.url + "/ui/inventory/" + wims.DefaultSKU + "/adjust"
	rc, readToken := consoleLogin(t, a.url, reader)
	if code := postForm(t, rc, adjust, url.Values{"csrf": {readToken}, "delta": {"1"}, "reason": {"r"}}); code != http.StatusForbidden {
		t.Errorf("read adjusts: %d, want 403", code)
	}
	ac, adminToken := consoleLogin(t, a.url, admin)
	if code := postForm(t, ac, adjust, url.Values{"delta": {"1"}, "reason": {"r"}}); code != http.StatusForbidden {
		t.Errorf("admin without CSRF token: %d, want 403", code)
	}
	if code := postForm(t, ac, adjust, url.Values{"csrf": {readToken}, "delta": {"1"}, "reason": {"r"}}); code != http.StatusForbidden {
		t.Errorf("admin with another session's token: %d, want 403", code)
	}
	if code := postForm(t, ac, adjust, url.Values{"csrf": {adminToken}, "delta": {"1"}, "reason": {"r"}}); code != http.StatusSeeOther {
		t.Errorf("admin with its token: %d, want 303", code)
	}

	loginAs(admin)
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/inventory"), chromedp.WaitVisible(chromedp.CSS("form.adjust")))
	within(t, ctx, 15*time.Second,
		chromedp.SendKeys(chromedp.ID("delta-0"), "-1001"),
		chromedp.SendKeys(chromedp.ID("reason-0"), "stock take"),
		chromedp.Click(chromedp.CSS("form.adjust button")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	want := int64(1_000_000 + 1 - 1001) // the seed, the direct POST, the form
	if got := text(t, ctx, `tr[data-sku="`+wims.DefaultSKU+`"] [data-field="quantity"]`); got != "999,000" {
		t.Errorf("inventory page after adjust: %q, want %d", got, want)
	}
	code, body := a.do("GET", "/inventory/"+wims.DefaultSKU, nil, "Authorization", "Bearer "+admin)
	var it wims.Item
	if err := json.Unmarshal(body, &it); code != http.StatusOK || err != nil || it.Quantity != want {
		t.Errorf("API after adjust: %d %s, want quantity %d", code, body, want)
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleLogin logs in to the console with key as a plain HTTP client and
// returns it (with the session cookie) and the session's CSRF token.
func consoleLogin(t *testing.T, base, key string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := func(path string) string {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := csrfInput.FindSubmatch(b)
		if m == nil {
			t.Fatalf("GET %s: %d, no CSRF token", path, resp.StatusCode)
		}
		return string(m[1])
	}
	if code := postForm(t, c, base+"/ui/login", url.Values{"csrf": {token("/ui/login")}, "key": {key}}); code != http.StatusSeeOther {
		t.Fatalf("console login: %d", code)
	}
	return c, token("/ui/")
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) int {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
