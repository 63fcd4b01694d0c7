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

// waitJS waits until the JavaScript expression expr is true in the page,
// polling (no sleeps), for at most d.
func waitJS(t *testing.T, ctx context.Context, d time.Duration, expr string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
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
	for _, id := range []string{"orders-rate", "accept-p50", "accept-p99", "reserved-p99", "paid-p99"} {
		waitJS(t, ctx, 15*time.Second, figureSet(id))
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
