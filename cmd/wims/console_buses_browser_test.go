package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wims/wims"
)

// TestBrowserBusesCreateDelete: admin creates a custom event bus from the platform
// page (a bad name shows the API's error at the field and creates
// nothing), is refused deleting it while it has a rule (409 with the
// reason), then deletes it after a confirmation; the default bus has no
// Delete button, and a forged delete of it is refused.
func TestBrowserBusesCreateDelete(t *testing.T) {
	a := startTestApp(t, nil)
	bg := context.Background()
	p := a.platform
	ctx := browser(t)

	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/buses"),
		chromedp.WaitVisible(chromedp.ID("bus-form")),
		chromedp.SendKeys(chromedp.ID("bus-name"), "bad name!"),
		submit("#bus-save", "#bus-name-error"))
	if buses, err := p.ListEventBuses(bg, "bad"); err != nil || len(buses) != 0 {
		t.Fatalf("a refused form created %+v %v", buses, err)
	}
	if absent(t, ctx, `article[data-bus="default"]`) || !absent(t, ctx, `article[data-bus="default"] .bus-delete`) {
		t.Error("the default bus is missing, or has a Delete button")
	}
	within(t, ctx, 15*time.Second,
		setValue("#bus-name", "shop-custom"),
		chromedp.SendKeys(chromedp.ID("bus-description"), "the <shop>'s bus"),
		submit("#bus-save", `article[data-bus="shop-custom"]`))
	b, err := p.DescribeEventBus(bg, "shop-custom")
	if err != nil || b.Description != "the <shop>'s bus" {
		t.Fatalf("DescribeEventBus: %+v %v", b, err)
	}
	if got := text(t, ctx, "#bus-done"); got != "Created bus shop-custom." {
		t.Errorf("notice: %q", got)
	}

	_, err = p.PutRule(bg, wims.Rule{Name: "keep", EventBusName: "shop-custom", EventPattern: `{"source":["x"]}`})
	mustNil(t, err)
	del := `article[data-bus="shop-custom"] .bus-delete button`
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/buses"),
		submit(del, "#confirm"),
		submit("#confirm", "main h1"))
	if got := text(t, ctx, "main"); !strings.Contains(got, "409") || !strings.Contains(got, "still has 1 rules") {
		t.Errorf("delete of a bus with a rule: %q", got)
	}
	if _, err := p.DescribeEventBus(bg, "shop-custom"); err != nil {
		t.Fatalf("the refused delete deleted the bus: %v", err)
	}

	mustNil(t, p.DeleteRule(bg, "shop-custom", "keep", false))
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/buses"),
		submit(del, "#confirm"))
	if _, err := p.DescribeEventBus(bg, "shop-custom"); err != nil {
		t.Fatalf("the confirmation page deleted the bus: %v", err)
	}
	within(t, ctx, 15*time.Second, submit("#confirm", "#bus-done"))
	if _, err := p.DescribeEventBus(bg, "shop-custom"); wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("after the delete: %v", err)
	}
	if !absent(t, ctx, `article[data-bus="shop-custom"]`) {
		t.Error("the deleted bus is still listed")
	}

	// A delete form pointed at the default bus.
	_, err = p.CreateEventBus(bg, wims.EventBus{Name: "decoy"})
	mustNil(t, err)
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/buses"),
		chromedp.WaitVisible(chromedp.CSS(`article[data-bus="decoy"]`)),
		setValue(`article[data-bus="decoy"] .bus-delete input[name="name"]`, "default"),
		submit(`article[data-bus="decoy"] .bus-delete button`, "main h1"))
	if got := text(t, ctx, "main h1"); !strings.HasPrefix(got, "400") {
		t.Errorf("delete of the default bus: %q", got)
	}
	if _, err := p.DescribeEventBus(bg, wims.DefaultBus); err != nil {
		t.Fatalf("default bus: %v", err)
	}
}
