package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPagesWithoutScreenshots opens the console pages no other
// browser test photographs (an event, "Test a pattern" with a match, the
// connections, archives and schema pages) on a real wims with data in it:
// each renders its heading and the data the API has, and, with
// WIMS_SCREENSHOTS=1, its picture for docs/console.
func TestBrowserPagesWithoutScreenshots(t *testing.T) {
	a := startTestApp(t, nil)
	id := putEvent(t, a, "shop.web", "Cart Checked Out", `{"cart":"c-1","total":42}`)
	ctx := browser(t)

	// The event log is written asynchronously: reload until it has it.
	eventually(t, 20*time.Second, func() error {
		within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/events/"+id), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := text(t, ctx, "h1"); !strings.Contains(got, "Event") || absent(t, ctx, "#event-json") {
			return fmt.Errorf("event %s not shown yet (%q)", id, got)
		}
		return nil
	})
	if got := text(t, ctx, "#event-json"); !strings.Contains(got, `"Cart Checked Out"`) || !strings.Contains(got, `"total": 42`) {
		t.Fatalf("event page JSON: %q", got)
	}
	screenshot(t, ctx, "event")

	pattern := url.Values{"pattern": {`{"source":["shop.web"],"detail":{"total":[{"numeric":[">",40]}]}}`}}.Encode()
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/events/test?"+pattern), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := text(t, ctx, "main"); !strings.Contains(got, "Test a pattern") || !strings.Contains(got, id) {
		t.Fatalf("pattern test page does not list the matching event %s: %q", id, got)
	}
	screenshot(t, ctx, "pattern-test")

	for _, p := range []struct{ path, heading, shot string }{
		{"/ui/connections", "Connections and API destinations", "connections"},
		{"/ui/archives", "Archives and replays", "archives"},
		{"/ui/schemas", "Schemas", "schemas"},
	} {
		within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+p.path), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := text(t, ctx, "h1"); !strings.Contains(got, p.heading) {
			t.Fatalf("%s: heading %q, want %q", p.path, got, p.heading)
		}
		screenshot(t, ctx, p.shot)
	}
	// The discovered schema of the event put above is listed (discovery is
	// asynchronous: reload until it is).
	eventually(t, 30*time.Second, func() error {
		within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/schemas?registry=discovered-schemas"), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := text(t, ctx, "main"); !strings.Contains(got, "shop.web@CartCheckedOut") {
			return fmt.Errorf("schemas page lacks shop.web@CartCheckedOut")
		}
		return nil
	})
	screenshot(t, ctx, "schemas")
}
