package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// TestBrowserOrderCancel: admin cancels a PAID order from its page (after
// a confirmation) and watches REFUND_PENDING become REFUNDED live; a
// second order, cancelled through the API while its confirmation page is
// open, answers the confirm with 409 and the store's reason; an order
// page open while the order is cancelled through the API hides its Cancel
// form live.
func TestBrowserOrderCancel(t *testing.T) {
	// Slow payments keep the refund pending while the page loads.
	_, payURL := fastPayments(t, paymentsmock.Options{Latency: 2 * time.Second})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	ctx := browser(t)

	o := a.placeOrder("cancel-1", 1, "")
	waitStatus(t, a, o.ID, wims.OrderPaid)
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/orders/"+o.ID),
		chromedp.WaitVisible(chromedp.ID("order-cancel-button")),
		submit("#order-cancel-button", "#confirm"))
	if got := text(t, ctx, "#confirm-detail"); !strings.Contains(got, "refunded") {
		t.Errorf("confirmation of a PAID order: %q", got)
	}
	if got := text(t, ctx, "#confirm-form a"); got != "Keep the order" {
		t.Errorf("the way back reads %q", got)
	}
	if got := a.order(o.ID); got.Status != wims.OrderPaid {
		t.Fatalf("the confirmation page changed the order: %s", got.Status)
	}
	within(t, ctx, 15*time.Second,
		submit("#confirm", `.facts [data-field="status"]`),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.wimsNoReload = true")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `.facts [data-field="status"]`); got != "REFUND_PENDING" && got != "REFUNDED" {
		t.Fatalf("status after the cancel: %q", got)
	}
	within(t, ctx, 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`.facts .status-REFUNDED`)))
	poll(t, ctx, 5*time.Second, "the page was not reloaded", "window.wimsNoReload === true")
	if !absent(t, ctx, "#order-cancel") {
		t.Error("the page of a cancelled order offers Cancel")
	}
	waitStatus(t, a, o.ID, wims.OrderRefunded)

	o2 := a.placeOrder("cancel-2", 1, "")
	waitStatus(t, a, o2.ID, wims.OrderPaid)
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/orders/"+o2.ID),
		chromedp.WaitVisible(chromedp.ID("order-cancel-button")),
		submit("#order-cancel-button", "#confirm"))
	if code, body := a.do("POST", "/orders/"+o2.ID+"/cancel", nil); code != http.StatusOK {
		t.Fatalf("API cancel: %d %s", code, body)
	}
	within(t, ctx, 15*time.Second, submit("#confirm", "main h1"))
	if got := text(t, ctx, "main h1"); !strings.HasPrefix(got, "409") {
		t.Errorf("confirm of an order cancelled meanwhile: %q, want 409", got)
	}
	if got := text(t, ctx, "main"); !strings.Contains(got, "can be cancelled") {
		t.Errorf("the 409 page gives no reason: %q", got)
	}

	// A page open while the order is cancelled elsewhere drops its form.
	o3 := a.placeOrder("cancel-3", 1, "")
	waitStatus(t, a, o3.ID, wims.OrderPaid)
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/orders/"+o3.ID),
		chromedp.WaitVisible(chromedp.ID("order-cancel-button")),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	if code, body := a.do("POST", "/orders/"+o3.ID+"/cancel", nil); code != http.StatusOK {
		t.Fatalf("API cancel: %d %s", code, body)
	}
	poll(t, ctx, 20*time.Second, "the Cancel form hidden once past cancelling", `document.getElementById("order-cancel").hidden === true`)
}
