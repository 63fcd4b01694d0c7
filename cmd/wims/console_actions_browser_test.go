package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/chromedp/chromedp"

	"github.com/wims/wims"
)

// setValue replaces the value of the form control sel (SendKeys would
// append to what is there).
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(sel), value)
}

// submit clicks sel and waits until the next page shows want: the page
// is marked first, so an element of the same id on the old page does not
// count.
func submit(sel, want string) chromedp.Action[chromedp.Void] {
	mark := chromedp.Evaluate[string](`document.body.dataset.stale = "1"`)
	return chromedp.Steps(
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := mark(ctx, t)
			return chromedp.Void{}, err
		},
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-stale]) "+want)),
	)
}

// TestBrowserActionsRules: a rule created through the form is what the
// EventBridge API lists (aws-sdk-go-v2); a bad pattern shows the
// compiler's error at the field and creates nothing; a target added on the
// rule's page is what ListTargetsByRule returns; deleting asks first.
func TestBrowserActionsRules(t *testing.T) {
	a := startTestApp(t, nil)
	eb := sdkClient(a, aws.AnonymousCredentials{})
	bg := context.Background()
	ctx := browser(t)

	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/buses"),
		chromedp.Click(chromedp.CSS(`article[data-bus="default"] a.new-rule`)),
		chromedp.WaitVisible(chromedp.ID("rule-form")),
		chromedp.SendKeys(chromedp.ID("rule-name"), "bad-rule"),
		chromedp.SendKeys(chromedp.ID("rule-pattern"), `{"source":"not-an-array"}`),
		submit("#rule-save", "#rule-pattern-error"))
	if got := text(t, ctx, "#rule-pattern-error"); got == "" {
		t.Error("no pattern error shown")
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("rule-pattern").getAttribute("aria-invalid")`)); err != nil || got != "true" {
		t.Errorf("pattern field aria-invalid = %q %v", got, err)
	}
	out, err := eb.ListRules(bg, &eventbridge.ListRulesInput{NamePrefix: aws.String("bad-rule")})
	mustNil(t, err)
	if len(out.Rules) != 0 {
		t.Fatalf("a bad pattern created a rule: %+v", out.Rules)
	}

	within(t, ctx, 15*time.Second,
		setValue("#rule-name", "form-rule"),
		setValue("#rule-pattern", `{"source":["shop.form"],"detail":{"total":[{"numeric":[">",100]}]}}`),
		setValue("#rule-description", "big <orders>"),
		submit("#rule-save", "#saved"))
	screenshot(t, ctx, "rule-form")
	r, err := eb.DescribeRule(bg, &eventbridge.DescribeRuleInput{Name: aws.String("form-rule")})
	mustNil(t, err)
	if aws.ToString(r.EventPattern) != `{"source":["shop.form"],"detail":{"total":[{"numeric":[">",100]}]}}` || string(r.State) != "ENABLED" || aws.ToString(r.Description) != "big <orders>" {
		t.Errorf("DescribeRule: pattern %s state %s description %q", aws.ToString(r.EventPattern), r.State, aws.ToString(r.Description))
	}
	out, err = eb.ListRules(bg, &eventbridge.ListRulesInput{NamePrefix: aws.String("form-")})
	mustNil(t, err)
	if len(out.Rules) != 1 || aws.ToString(out.Rules[0].Name) != "form-rule" {
		t.Errorf("ListRules after the form: %+v", out.Rules)
	}

	// Edit: disable it and add a target with a bad retry count, then a good one.
	within(t, ctx, 15*time.Second,
		chromedp.SetValue(chromedp.ID("rule-state"), "DISABLED"),
		submit("#rule-save", "#saved"),
		chromedp.SendKeys(chromedp.ID("target-id"), "log"),
		chromedp.SendKeys(chromedp.ID("target-arn"), "arn:aws:logs:local:000000000000:log-group:form-log"),
		chromedp.SendKeys(chromedp.ID("target-max-retries"), "999"),
		submit("#target-save", "#target-max-retries-error"))
	targets, err := eb.ListTargetsByRule(bg, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("form-rule")})
	mustNil(t, err)
	if len(targets.Targets) != 0 {
		t.Fatalf("a bad target was added: %+v", targets.Targets)
	}
	within(t, ctx, 15*time.Second,
		setValue("#target-max-retries", "3"),
		submit("#target-save", `#targets tr[data-target="log"]`))
	r, err = eb.DescribeRule(bg, &eventbridge.DescribeRuleInput{Name: aws.String("form-rule")})
	mustNil(t, err)
	if string(r.State) != "DISABLED" {
		t.Errorf("state after edit: %s", r.State)
	}
	targets, err = eb.ListTargetsByRule(bg, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("form-rule")})
	mustNil(t, err)
	if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != "arn:aws:logs:local:000000000000:log-group:form-log" ||
		targets.Targets[0].RetryPolicy == nil || aws.ToInt32(targets.Targets[0].RetryPolicy.MaximumRetryAttempts) != 3 {
		t.Errorf("ListTargetsByRule: %+v", targets.Targets)
	}

	// Delete: a confirmation first, which changes nothing.
	within(t, ctx, 15*time.Second,
		chromedp.Click(chromedp.CSS("#rule-delete button")),
		chromedp.WaitVisible(chromedp.ID("confirm-form")))
	if got := text(t, ctx, "#confirm-detail"); !strings.Contains(got, "1 target") {
		t.Errorf("confirmation: %q", got)
	}
	if _, err := eb.DescribeRule(bg, &eventbridge.DescribeRuleInput{Name: aws.String("form-rule")}); err != nil {
		t.Fatalf("the confirmation deleted the rule: %v", err)
	}
	within(t, ctx, 15*time.Second, chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("deleted")))
	_, err = eb.DescribeRule(bg, &eventbridge.DescribeRuleInput{Name: aws.String("form-rule")})
	wantAPIError(t, err, "ResourceNotFoundException")
}

// TestBrowserActionsReplay: an archive created through the form archives
// events; a replay started through the form shows its progress live on its
// page (no reload) until COMPLETED, having replayed every archived event.
// The rule's receiver holds the replay's first delivery until the page is
// open, so the page surely starts with the replay running.
func TestBrowserActionsReplay(t *testing.T) {
	a := startTestApp(t, nil)
	bg := context.Background()
	p := a.platform
	ctx := browser(t)
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/archives"),
		chromedp.SendKeys(chromedp.ID("archive-name"), "form-archive"),
		chromedp.SendKeys(chromedp.ID("archive-pattern"), `{"source":["replay.form"]}`),
		submit("#archive-save", `#archive-list tr[data-archive="form-archive"]`))
	arc, err := p.DescribeArchive(bg, "form-archive")
	if err != nil || arc.EventBus != "default" || arc.EventPattern != `{"source":["replay.form"]}` {
		t.Fatalf("archive: %+v %v", arc, err)
	}
	for i := range 3 {
		putEvent(t, a, "replay.form", "Thing", fmt.Sprintf(`{"n":%d}`, i))
	}
	eventually(t, 30*time.Second, func() error {
		arc, err := p.DescribeArchive(bg, "form-archive")
		if err != nil || arc.EventCount < 3 {
			return fmt.Errorf("archive: %d events, %v", arc.EventCount, err)
		}
		return nil
	})
	// The rule exists only now, so only the replay delivers to it.
	hold := make(chan struct{})
	var release sync.Once
	open := func() { release.Do(func() { close(hold) }) }
	t.Cleanup(open)
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			<-hold
		}
		return http.StatusOK
	})
	_, err = p.CreateConnection(bg, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(bg, wims.APIDestination{Name: "replayed", ConnectionName: "open", InvocationEndpoint: rcv.srv.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	_, err = p.PutRule(bg, wims.Rule{Name: "replayed", EventBusName: "default", EventPattern: `{"source":["replay.form"]}`})
	mustNil(t, err)
	_, err = p.PutTargets(bg, "default", "replayed", []wims.Target{{ID: "hook", Arn: wims.APIDestinationARN("replayed")}})
	mustNil(t, err)

	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/archives"),
		chromedp.SendKeys(chromedp.ID("replay-name"), "form-replay"),
		submit("#replay-start-button", "#replay"))
	if absent(t, ctx, "#replay[data-replay-stream]") {
		t.Fatal("the replay page does not follow the running replay")
	}
	open()
	eventually(t, 30*time.Second, func() error {
		if got := text(t, ctx, `#replay [data-field="state"]`); got != "COMPLETED" {
			return fmt.Errorf("state %q", got)
		}
		return nil
	})
	if got := text(t, ctx, `#replay [data-field="replayed"]`); got != "3" {
		t.Errorf("replayed on the page: %q, want 3", got)
	}
	if got := text(t, ctx, "#replay-live"); got != "Finished." {
		t.Errorf("live line: %q", got)
	}
	screenshot(t, ctx, "replay")
	rp, err := p.DescribeReplay(bg, "form-replay")
	if err != nil || rp.State != "COMPLETED" || rp.Replayed != 3 {
		t.Errorf("DescribeReplay: %+v %v", rp, err)
	}
	if n := len(rcv.got()); n < 3 {
		t.Errorf("the rule's target got %d replayed events, want 3", n)
	}
}

// TestBrowserActionsSchemaVersions: a schema's page lists its versions,
// shows the latest's content and what changed since the one before, and
// links the older version.
func TestBrowserActionsSchemaVersions(t *testing.T) {
	a := startTestApp(t, nil)
	bg := context.Background()
	_, err := a.platform.CreateRegistry(bg, wims.Registry{Name: "shop"})
	mustNil(t, err)
	_, err = a.platform.CreateSchema(bg, wims.Schema{Registry: "shop", Name: "shop@Order", Type: wims.SchemaTypeJSONSchemaDraft4, Content: draft4Order})
	mustNil(t, err)
	_, err = a.platform.UpdateSchema(bg, wims.Schema{Registry: "shop", Name: "shop@Order", Content: strings.Replace(draft4Order, `["sku"]`, `["sku","quantity"]`, 1)})
	mustNil(t, err)
	ctx := browser(t)

	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/buses"),
		chromedp.Click(chromedp.CSS(`a[href="/ui/schemas"]`)),
		chromedp.WaitVisible(chromedp.ID("registries")),
		chromedp.Click(chromedp.CSS(`#registries a[href="/ui/schemas?registry=shop"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#schema-list tr[data-schema="shop@Order"]`)))
	if got := text(t, ctx, `#schema-list tr[data-schema="shop@Order"]`); !strings.Contains(got, "JSONSchemaDraft4") || !strings.Contains(got, "2") {
		t.Errorf("schema row: %q", got)
	}
	within(t, ctx, 15*time.Second,
		chromedp.Click(chromedp.CSS(`#schema-list tr[data-schema="shop@Order"] a`)),
		chromedp.WaitVisible(chromedp.ID("schema-versions")))
	if got := text(t, ctx, "#schema-versions tbody"); !strings.Contains(got, "1") || !strings.Contains(got, "2 (shown)") {
		t.Errorf("versions: %q", got)
	}
	added, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#schema-diff .diff-add")].map((e) => e.textContent).join("\n")`))
	if err != nil || !strings.Contains(added, `"quantity"`) {
		t.Errorf("diff's added lines: %q %v", added, err)
	}
	if got := text(t, ctx, "#diff-summary"); got == "" {
		t.Error("no diff summary")
	}
	screenshot(t, ctx, "schema-versions")
	within(t, ctx, 15*time.Second,
		chromedp.Click(chromedp.CSS(`#schema-versions tr[data-version="1"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`#schema-versions tr[data-version="1"] [aria-current]`)))
	if got := text(t, ctx, "#schema-version-content"); strings.Contains(got, "quantity") || !strings.Contains(got, `"sku"`) {
		t.Errorf("version 1 content: %q", got)
	}
	if !absent(t, ctx, "#schema-diff") {
		t.Error("version 1 has a diff")
	}
}

// TestBrowserActionsBulkRedrive: dead letters selected in the browser are
// redriven in bulk after a confirmation (a dry run that changes nothing),
// and the queue is empty; the receiver, now answering, gets each event.
func TestBrowserActionsBulkRedrive(t *testing.T) {
	a := startTestApp(t, nil)
	bg := context.Background()
	p := a.platform
	var failing atomic.Bool
	failing.Store(true)
	rcv := newReceiver(t, func(int) int {
		if failing.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	_, err := p.CreateConnection(bg, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(bg, wims.APIDestination{Name: "flaky", ConnectionName: "open", InvocationEndpoint: rcv.srv.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	_, err = p.PutRule(bg, wims.Rule{Name: "bulk", EventBusName: "default", EventPattern: `{"source":["bulk.test"]}`})
	mustNil(t, err)
	zero := 0
	_, err = p.PutTargets(bg, "default", "bulk", []wims.Target{{ID: "flaky", Arn: wims.APIDestinationARN("flaky"), RetryPolicy: &wims.RetryPolicy{MaximumRetryAttempts: &zero}}})
	mustNil(t, err)
	for i := range 3 {
		putEvent(t, a, "bulk.test", "Thing", fmt.Sprintf(`{"n":%d}`, i))
	}
	deadLetters := func() int {
		code, body := a.do("GET", "/dead-letters", nil)
		var resp struct{ DeadLetters []struct{ Seq uint64 } }
		if err := json.Unmarshal(body, &resp); code != http.StatusOK || err != nil {
			t.Fatalf("GET /dead-letters = %d %s", code, body)
		}
		return len(resp.DeadLetters)
	}
	eventually(t, 30*time.Second, func() error {
		if n := deadLetters(); n != 3 {
			return fmt.Errorf("%d dead letters", n)
		}
		return nil
	})
	failing.Store(false)
	calls := len(rcv.got())

	ctx := browser(t)
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/dead-letters"),
		chromedp.WaitVisible(chromedp.CSS("#dead-letters tbody tr")))
	// Inspect one first: its headers and failure reason.
	within(t, ctx, 15*time.Second, submit("#dead-letters tbody tr a.inspect", "#dead-letter-headers"))
	if got := text(t, ctx, "#dead-letter-headers"); !strings.Contains(got, "Wims-Dlq-Reason") || !strings.Contains(got, "Wims-Rule") {
		t.Errorf("headers: %q", got)
	}
	within(t, ctx, 15*time.Second, chromedp.Navigate(a.url+"/ui/dead-letters"), chromedp.WaitVisible(chromedp.CSS("#dead-letters tbody tr")))
	screenshot(t, ctx, "dead-letters")
	// Select every row with the keyboard-reachable checkboxes.
	within(t, ctx, 15*time.Second,
		chromedp.Click(chromedp.CSS("#dead-letters tbody tr:nth-child(1) input[type=checkbox]")),
		chromedp.Click(chromedp.CSS("#dead-letters tbody tr:nth-child(2) input[type=checkbox]")),
		chromedp.Click(chromedp.CSS("#dead-letters tbody tr:nth-child(3) input[type=checkbox]")),
		submit("#redrive-selected", "#bulk-confirm"))
	if got := text(t, ctx, "#bulk-dry-run"); !strings.Contains(got, "nothing has changed") {
		t.Errorf("confirmation: %q", got)
	}
	if got := text(t, ctx, "#bulk-rows tbody"); !strings.Contains(got, "platform-deliveries") {
		t.Errorf("what would be redriven: %q", got)
	}
	if n := deadLetters(); n != 3 {
		t.Fatalf("the dry run changed the queue: %d dead letters", n)
	}
	within(t, ctx, 15*time.Second, submit("#confirm", "#bulk-done"))
	if got := text(t, ctx, "#bulk-done"); !strings.Contains(got, "Redrove 3 dead letters") {
		t.Errorf("notice: %q", got)
	}
	if !absent(t, ctx, "#dead-letters tbody tr") {
		t.Error("dead letters still listed")
	}
	if n := deadLetters(); n != 0 {
		t.Errorf("%d dead letters after the bulk redrive", n)
	}
	eventually(t, 30*time.Second, func() error {
		if n := len(rcv.got()); n < calls+3 {
			return fmt.Errorf("%d calls after the redrive, want %d", n-calls, 3)
		}
		return nil
	})
}

// TestConsoleActionsRefused: a read key gets 403 from every action, and
// an admin's action without the CSRF token is refused; neither changes
// anything.
func TestConsoleActionsRefused(t *testing.T) {
	const admin, reader = "admin-secret-0123456789", "read-secret-0123456789"
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{admin + ":admin", reader + ":read"} })
	bg := context.Background()
	_, err := a.platform.PutRule(bg, wims.Rule{Name: "keep", EventBusName: "default", EventPattern: `{"source":["x"]}`})
	mustNil(t, err)
	_, err = a.platform.CreateArchive(bg, wims.Archive{Name: "keep", EventBus: "default"})
	mustNil(t, err)
	_, err = a.platform.CreateConnection(bg, wims.Connection{Name: "keep", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = a.platform.CreateEventBus(bg, wims.EventBus{Name: "keep-bus"})
	mustNil(t, err)
	now := time.Now().UTC()
	actions := map[string]url.Values{
		"/ui/dead-letters/bulk":      {"op": {"purge"}, "all": {"1"}, "confirm": {"1"}},
		"/ui/dead-letters/1/redrive": {},
		"/ui/rules/save":             {"mode": {"create"}, "name": {"new-rule"}, "bus": {"default"}, "pattern": {`{"source":["y"]}`}},
		"/ui/rules/delete":           {"bus": {"default"}, "rule": {"keep"}, "confirm": {"1"}},
		"/ui/rules/state":            {"bus": {"default"}, "rule": {"keep"}, "state": {"DISABLED"}},
		"/ui/rules/targets":          {"bus": {"default"}, "rule": {"keep"}, "id": {"t"}, "arn": {"arn:aws:logs:local:000000000000:log-group:g"}},
		"/ui/rules/targets/remove":   {"bus": {"default"}, "rule": {"keep"}, "id": {"t"}, "confirm": {"1"}},
		"/ui/connections/save":       {"mode": {"create"}, "name": {"new-conn"}, "auth": {"NONE"}},
		"/ui/api-destinations/save":  {"mode": {"create"}, "name": {"d"}, "connection": {"keep"}, "endpoint": {"http://127.0.0.1:9/"}, "method": {"POST"}},
		"/ui/connections/delete":     {"kind": {"connection"}, "name": {"keep"}, "confirm": {"1"}},
		"/ui/archives":               {"name": {"new-archive"}, "bus": {"default"}},
		"/ui/archives/delete":        {"name": {"keep"}, "confirm": {"1"}},
		"/ui/replays":                {"name": {"r"}, "archive": {"keep"}, "start": {now.Add(-time.Hour).Format(time.RFC3339)}, "end": {now.Format(time.RFC3339)}},
		"/ui/replays/r/cancel":       {"confirm": {"1"}},
		"/ui/orders/any/cancel":      {"confirm": {"1"}},
		"/ui/buses":                  {"name": {"new-bus"}},
		"/ui/buses/delete":           {"name": {"keep-bus"}, "confirm": {"1"}},
	}
	rc, readToken := consoleLogin(t, a.url, reader)
	ac, _ := consoleLogin(t, a.url, admin)
	for path, form := range actions {
		f := url.Values{"csrf": {readToken}}
		for k, v := range form {
			f[k] = v
		}
		if code := postForm(t, rc, a.url+path, f); code != http.StatusForbidden {
			t.Errorf("read POST %s: %d, want 403", path, code)
		}
		if code := postForm(t, ac, a.url+path, form); code != http.StatusForbidden {
			t.Errorf("admin POST %s without CSRF token: %d, want 403", path, code)
		}
	}
	if r, err := a.platform.DescribeRule(bg, "default", "keep"); err != nil || r.State != wims.RuleEnabled {
		t.Errorf("rule keep: %+v %v", r, err)
	}
	if _, err := a.platform.DescribeRule(bg, "default", "new-rule"); err == nil {
		t.Error("a refused action created a rule")
	}
	if _, err := a.platform.DescribeArchive(bg, "keep"); err != nil {
		t.Errorf("archive keep: %v", err)
	}
	if _, err := a.platform.DescribeConnection(bg, "keep"); err != nil {
		t.Errorf("connection keep: %v", err)
	}
	if _, err := a.platform.DescribeEventBus(bg, "keep-bus"); err != nil {
		t.Errorf("bus keep-bus: %v", err)
	}
	if _, err := a.platform.DescribeEventBus(bg, "new-bus"); err == nil {
		t.Error("a refused action created a bus")
	}
	if rs, err := a.platform.ListReplays(bg, wims.ReplayFilter{}); err != nil || len(rs) != 0 {
		t.Errorf("replays: %+v %v", rs, err)
	}
}
