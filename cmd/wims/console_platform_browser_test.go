package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wims/wims"
)

// putEvent puts one event on the default bus and returns its id.
func putEvent(t *testing.T, a *testApp, source, detailType, detail string) string {
	t.Helper()
	res, err := a.platform.PutEvents(context.Background(), []wims.PutEventsEntry{{Source: source, DetailType: detailType, Detail: detail}})
	if err != nil || len(res) != 1 || res[0].EventID == "" {
		t.Fatalf("PutEvents: %+v %v", res, err)
	}
	return res[0].EventID
}

// absent reports whether no element matches sel.
func absent(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) === null", sel)))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestBrowserEvents: an event put through the platform is on the events
// page, one put while the page is open appears without a reload, its
// detail shows the whole event, and "Test a pattern" finds it.
func TestBrowserEvents(t *testing.T) {
	a := startTestApp(t, nil)
	first := putEvent(t, a, "browser.test", "First", `{"n":1}`)
	ctx := browser(t)

	row := func(id string) string { return `#events tr[data-event-id="` + id + `"]` }
	// The event log is written asynchronously: reload until it has it.
	eventually(t, 20*time.Second, func() error {
		within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/events"), chromedp.WaitVisible(chromedp.CSS("#events")))
		if absent(t, ctx, row(first)) {
			return fmt.Errorf("event %s not on the page yet", first)
		}
		return nil
	})
	if got := text(t, ctx, row(first)); !strings.Contains(got, "browser.test") || !strings.Contains(got, "First") {
		t.Errorf("events page row: %q", got)
	}
	within(t, ctx, 15*time.Second, chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)))
	second := putEvent(t, a, "browser.test", "Second", `{"n":2}`)
	within(t, ctx, 20*time.Second, chromedp.WaitVisible(chromedp.CSS(row(second))))
	if got := text(t, ctx, "#events tbody tr:first-child"); !strings.Contains(got, "Second") || !strings.Contains(got, second) {
		t.Errorf("live row is not at the top: %q", got)
	}
	screenshot(t, ctx, "events")

	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.CSS(row(second)+" a")), chromedp.WaitVisible(chromedp.ID("event-json")))
	if got := text(t, ctx, "#event-json"); !strings.Contains(got, `"detail-type": "Second"`) || !strings.Contains(got, `"n": 2`) {
		t.Errorf("event page JSON: %q", got)
	}

	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/events/test"),
		chromedp.WaitVisible(chromedp.ID("pattern")),
		chromedp.SendKeys(chromedp.ID("pattern"), `{"source":["browser.test"],"detail":{"n":[2]}}`),
		// The keyboard: Tab from the pattern to the button, Enter.
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("pattern-result")))
	if got := text(t, ctx, "#pattern-result"); !strings.HasPrefix(got, "1 of the latest") {
		t.Errorf("test a pattern: %q", got)
	}
	if got := text(t, ctx, "#matches tbody"); !strings.Contains(got, second) || strings.Contains(got, first) {
		t.Errorf("test a pattern matches: %q", got)
	}
}

// consoleLoginBrowser logs the browser in with key.
func consoleLoginBrowser(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(base+"/ui/login"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), key),
		chromedp.Click(chromedp.CSS(".login button")),
		chromedp.WaitVisible(chromedp.CSS(".who .role")))
}

// TestBrowserDeadLetters: a target that always fails dead-letters its
// event; read sees it without a redrive button (and its POST is 403);
// admin's dry run changes nothing and its redrive takes it off the list.
func TestBrowserDeadLetters(t *testing.T) {
	const admin, reader = "admin-secret-0123456789", "read-secret-0123456789"
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{admin + ":admin", reader + ":read"} })
	bg := context.Background()
	p := a.platform
	failing := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	_, err := p.CreateConnection(bg, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(bg, wims.APIDestination{Name: "failing", ConnectionName: "open", InvocationEndpoint: failing.srv.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	_, err = p.PutRule(bg, wims.Rule{Name: "crm", EventBusName: "default", EventPattern: `{"source":["dl.test"]}`})
	mustNil(t, err)
	zero := 0
	_, err = p.PutTargets(bg, "default", "crm", []wims.Target{{ID: "crm-hook", Arn: wims.APIDestinationARN("failing"), RetryPolicy: &wims.RetryPolicy{MaximumRetryAttempts: &zero}}})
	mustNil(t, err)
	putEvent(t, a, "dl.test", "Order", `{"orderId":"o-1","customerId":"cust-secret-9"}`)

	var seq uint64
	eventually(t, 30*time.Second, func() error {
		code, body := a.do("GET", "/dead-letters", nil, "Authorization", "Bearer "+admin)
		var resp struct{ DeadLetters []struct{ Seq uint64 } }
		if err := json.Unmarshal(body, &resp); code != http.StatusOK || err != nil {
			return fmt.Errorf("GET /dead-letters = %d %s", code, body)
		}
		if len(resp.DeadLetters) == 0 {
			return fmt.Errorf("no dead letter yet (%d calls)", len(failing.got()))
		}
		seq = resp.DeadLetters[0].Seq
		return nil
	})
	row := `tr[data-seq="` + strconv.FormatUint(seq, 10) + `"]`
	ctx := browser(t)

	consoleLoginBrowser(t, ctx, a.url, reader)
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/dead-letters"), chromedp.WaitVisible(chromedp.CSS(row)))
	if got := text(t, ctx, row); !strings.Contains(got, "crm") || !strings.Contains(got, "crm-hook") {
		t.Errorf("read's dead-letter row: %q", got)
	}
	if got := text(t, ctx, row+" pre"); strings.Contains(got, "cust-secret-9") || !strings.Contains(got, "REDACTED") {
		t.Errorf("read's dead-letter payload: %q", got)
	}
	if !absent(t, ctx, row+" button") {
		t.Error("read sees a redrive button")
	}
	rc, readToken := consoleLogin(t, a.url, reader)
	redrive := a.url + "/ui/dead-letters/" + strconv.FormatUint(seq, 10) + "/redrive"
	if code := postForm(t, rc, redrive, url.Values{"csrf": {readToken}}); code != http.StatusForbidden {
		t.Errorf("read redrives: %d, want 403", code)
	}
	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.ID("key")))

	consoleLoginBrowser(t, ctx, a.url, admin)
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/dead-letters"), chromedp.WaitVisible(chromedp.CSS(row+" button.redrive")))
	screenshot(t, ctx, "dead-letters")
	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.CSS(row+" button.dry-run")), chromedp.WaitVisible(chromedp.ID("dry-run")))
	// The put sealed the customer id (README, "Sensitive data in events"):
	// admin too sees the dead letter as stored, encrypted, never in plain.
	if got := text(t, ctx, "#dry-run"); !strings.Contains(got, "nothing changed") || strings.Contains(got, "cust-secret-9") || !strings.Contains(got, "wims:enc:") {
		t.Errorf("dry run: %q", got)
	}
	if absent(t, ctx, row) {
		t.Fatal("the dry run removed the dead letter")
	}
	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.CSS(row+" button.redrive")), chromedp.WaitVisible(chromedp.ID("redriven")))
	if !absent(t, ctx, row) {
		t.Error("the redriven dead letter is still listed")
	}
	code, body := a.do("GET", "/dead-letters", nil, "Authorization", "Bearer "+admin)
	if code != http.StatusOK || strings.Contains(string(body), `"seq":`+strconv.FormatUint(seq, 10)+",") {
		t.Errorf("API after redrive: %d %s", code, body)
	}
}

// TestBrowserBuses: the platform page lists a rule with its target, and
// admin disables it there.
func TestBrowserBuses(t *testing.T) {
	a := startTestApp(t, nil)
	bg := context.Background()
	p := a.platform
	rcv := newReceiver(t, nil)
	_, err := p.CreateConnection(bg, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(bg, wims.APIDestination{Name: "hook", ConnectionName: "open", InvocationEndpoint: rcv.srv.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	_, err = p.PutRule(bg, wims.Rule{Name: "browser-rule", EventBusName: "default", EventPattern: `{"source":["shop.web"]}`})
	mustNil(t, err)
	_, err = p.PutTargets(bg, "default", "browser-rule", []wims.Target{{ID: "hook", Arn: wims.APIDestinationARN("hook")}})
	mustNil(t, err)
	_, err = p.CreateArchive(bg, wims.Archive{Name: "browser-archive", EventBus: "default"})
	mustNil(t, err)
	putEvent(t, a, "browser.schema", "Thing", `{"a":1}`) // something for the discoverer
	ctx := browser(t)

	row := `tr[data-rule="browser-rule"]`
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/buses"), chromedp.WaitVisible(chromedp.CSS(row)))
	if got := text(t, ctx, row); !strings.Contains(got, `{"source":["shop.web"]}`) || !strings.Contains(got, "ENABLED") || !strings.Contains(got, wims.APIDestinationARN("hook")) {
		t.Errorf("rule row: %q", got)
	}
	if got := text(t, ctx, row+` [data-field="targets"]`); got != "1" {
		t.Errorf("targets: %q, want 1", got)
	}
	screenshot(t, ctx, "buses")
	// The keyboard: the Disable button takes focus, with an outline, and Enter presses it.
	within(t, ctx, 15*time.Second, chromedp.Focus(chromedp.CSS(row+" button")))
	focus, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		"[document.activeElement.textContent.trim(), getComputedStyle(document.activeElement).outlineStyle]"))
	if err != nil || len(focus) != 2 || !strings.HasPrefix(focus[0], "Disable") {
		t.Fatalf("focus %q %v, want the Disable button", focus, err)
	}
	within(t, ctx, 15*time.Second, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(row+" .status-DISABLED")))
	r, err := p.DescribeRule(bg, "default", "browser-rule")
	if err != nil || r.State != wims.RuleDisabled {
		t.Errorf("after disable: %+v %v", r, err)
	}
	if got := text(t, ctx, "#archives"); !strings.Contains(got, "browser-archive") {
		t.Errorf("archives: %q", got)
	}

	// The discoverer on the default bus infers the change events' schema;
	// its page shows the content.
	eventually(t, 30*time.Second, func() error {
		within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/buses"), chromedp.WaitVisible(chromedp.ID("schemas-heading")))
		if absent(t, ctx, "#schemas a") {
			return fmt.Errorf("no discovered schema yet")
		}
		return nil
	})
	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.CSS("#schemas a")), chromedp.WaitVisible(chromedp.ID("schema-content")))
	if got := text(t, ctx, "#schema-content"); !strings.Contains(got, "openapi") {
		t.Errorf("schema content: %q", got)
	}
}
