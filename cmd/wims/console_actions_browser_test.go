package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/chromedp/chromedp"
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
func TestBrowserActionsReplay(t *testing.T) {
	a := startTestApp(t, nil)
	bg := context.Background()
	ctx := browser(t)
	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/archives"),
		chromedp.SendKeys(chromedp.ID("archive-name"), "form-archive"),
		chromedp.SendKeys(chromedp.ID("archive-pattern"), `{"source":["replay.form"]}`),
		submit("#archive-save", `#archive-list tr[data-archive="form-archive"]`))
	arc, err := a.platform.DescribeArchive(bg, "form-archive")
	if err != nil || arc.EventBus != "default" || arc.EventPattern != `{"source":["replay.form"]}` {
		t.Fatalf("archive: %+v %v", arc, err)
	}
	for i := range 3 {
		putEvent(t, a, "replay.form", "Thing", fmt.Sprintf(`{"n":%d}`, i))
	}
	eventually(t, 30*time.Second, func() error {
		arc, err := a.platform.DescribeArchive(bg, "form-archive")
		if err != nil || arc.EventCount < 3 {
			return fmt.Errorf("archive: %d events, %v", arc.EventCount, err)
		}
		return nil
	})

	within(t, ctx, 15*time.Second,
		chromedp.Navigate(a.url+"/ui/archives"),
		chromedp.SendKeys(chromedp.ID("replay-name"), "form-replay"),
		submit("#replay-start-button", "#replay"))
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
	rp, err := a.platform.DescribeReplay(bg, "form-replay")
	if err != nil || rp.State != "COMPLETED" || rp.Replayed != 3 {
		t.Errorf("DescribeReplay: %+v %v", rp, err)
	}
}
