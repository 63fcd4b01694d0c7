package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// poll waits, at most d, until the page's JavaScript expression expr is
// true.
func poll(t *testing.T, ctx context.Context, d time.Duration, what, expr string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		journey, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("main")))
		t.Fatalf("%s: %v\npage: %s", what, err, journey)
	}
}

// TestBrowserOrderJourney: an order placed through the API, its page
// opened before it is paid: the journey (the request, RESERVED, PAID, a
// payment attempt, the events it caused, linked) and its trace drawn as a
// waterfall (the request's span and the workflow's) fill in live, without
// a reload.
func TestBrowserOrderJourney(t *testing.T) {
	// The payments API answers after a while, so the page is open
	// before the order is PAID.
	_, payURL := fastPayments(t, paymentsmock.Options{Latency: 3 * time.Second})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	ctx := browser(t)

	o := a.placeOrder("journey-1", 2, "")
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/orders/"+o.ID),
		chromedp.WaitVisible(chromedp.CSS("#journey")),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	if got := text(t, ctx, `.facts [data-field="status"]`); got == "PAID" {
		t.Fatal("order page loaded after the payment: the test shows nothing live")
	}
	if got := text(t, ctx, "#journey"); strings.Contains(got, "PAID") {
		t.Fatalf("the journey shows PAID before the order was paid: %q", got)
	}
	// A reload would forget this.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.wimsNoReload = true")); err != nil {
		t.Fatal(err)
	}

	within(t, ctx, 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`.facts .status-PAID`)))
	waitStatus(t, a, o.ID, wims.OrderPaid)
	rows := `[...document.querySelectorAll("#journey tbody tr")]`
	poll(t, ctx, 20*time.Second, "the journey's entries", `(() => {
		const rows = `+rows+`.map((r) => r.textContent);
		const has = (...parts) => rows.some((r) => parts.every((p) => r.includes(p)));
		return has("HTTP", "POST /orders", "HTTP 202") && has("status", "RESERVED") && has("status", "PAID") &&
			has("payment", "Payment attempt 1", "paid", "HTTP 200") && has("workflow", "reserve-stock") &&
			document.querySelectorAll('#journey a[href^="/ui/events/"]').length >= 3 &&
			has("event", "Order Reserved") && has("event", "Payment Succeeded");
	})()`)
	poll(t, ctx, 20*time.Second, "the waterfall's bars", `(() => {
		const titles = [...document.querySelectorAll("#waterfall rect title")].map((t) => t.textContent);
		return !document.getElementById("trace").hidden &&
			titles.some((t) => t.startsWith("POST /orders · ")) &&
			titles.some((t) => t.startsWith("process order-workflow · ")) &&
			titles.some((t) => t.startsWith("process payments · "));
	})()`)

	// The journey is in time order, and its times are the server's format.
	times, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](rows+`.map((r) => r.cells[0].textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			t.Errorf("journey out of order: %q after %q", times[i], times[i-1])
		}
	}
	// Each event links to its page; the first is the order's insert.
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#journey a[href^="/ui/events/"]').getAttribute("href")`))
	if err != nil {
		t.Fatal(err)
	}
	// The bars: one per span, indented by depth (a child's name right of
	// its parent's), widths within the axis.
	geometry, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const row = (name) => [...document.querySelectorAll("#waterfall .wf-row")].find((g) => g.querySelector("title").textContent.startsWith(name + " · "));
		const num = (g, sel, attr) => Number(g.querySelector(sel).getAttribute(attr));
		const http = row("POST /orders"), wf = row("process order-workflow");
		return [num(http, "text.wf-name", "x"), num(wf, "text.wf-name", "x"), num(http, "rect", "x"), num(wf, "rect", "x"),
			Math.max(...[...document.querySelectorAll("#waterfall rect")].map((r) => Number(r.getAttribute("x")) + Number(r.getAttribute("width"))))];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(geometry) != 5 || geometry[1] <= geometry[0] || geometry[3] <= geometry[2] || geometry[4] > 1000 {
		t.Errorf("waterfall geometry (name x, name x, bar x, bar x, right edge) = %v: want the workflow indented and later", geometry)
	}
	if reloaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.wimsNoReload !== true")); err != nil || reloaded {
		t.Fatalf("the page was reloaded (%v)", err)
	}
	screenshot(t, ctx, "order-journey")

	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+href), chromedp.WaitVisible(chromedp.CSS("pre.json")))
	if got := text(t, ctx, "pre.json"); !strings.Contains(got, o.ID) {
		t.Errorf("the journey's first event %s is not about the order: %s", href, got)
	}
}
