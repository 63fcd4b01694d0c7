package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
)

// receiver is an HTTP endpoint standing in for a third-party API that an
// API destination calls; it records each request and answers with the
// status the test chooses.
type receiver struct {
	mu       sync.Mutex
	requests []receivedRequest
	status   func(n int) int
	srv      *httptest.Server
}

type receivedRequest struct {
	Header http.Header
	Body   string
	Path   string
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, receivedRequest{Header: req.Header.Clone(), Body: string(body), Path: req.URL.RequestURI()})
		n := len(r.requests)
		r.mu.Unlock()
		code := http.StatusOK
		if r.status != nil {
			code = r.status(n)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.requests...)
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPlatformRuleToAPIDestination is the platform's whole path: a custom
// bus, a rule added while wims runs, a target on an API destination with
// an API-key connection and an input transformer; PutEvents reaches the
// receiver once, transformed, authenticated, with the event id as the
// idempotency key. Disabling the rule stops deliveries at once.
func TestPlatformRuleToAPIDestination(t *testing.T) {
	a := startTestApp(t, nil)
	ctx := context.Background()
	p := a.platform
	rcv := newReceiver(t, nil)

	_, err := p.CreateEventBus(ctx, wims.EventBus{Name: "shop"})
	mustNil(t, err)
	_, err = p.CreateConnection(ctx, wims.Connection{Name: "crm", AuthorizationType: wims.AuthAPIKey, APIKeyName: "X-Api-Key", Secret: "s3cret-value"})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: "crm-orders", ConnectionName: "crm",
		InvocationEndpoint: rcv.srv.URL + "/hook", HTTPMethod: "POST", InvocationRateLimitPerSecond: 50})
	mustNil(t, err)
	_, err = p.PutRule(ctx, wims.Rule{Name: "big-orders", EventBusName: "shop",
		EventPattern: `{"source":["shop.web"],"detail":{"amount":[{"numeric":[">",100]}]}}`})
	mustNil(t, err)
	failures, err := p.PutTargets(ctx, "shop", "big-orders", []wims.Target{{
		ID: "crm", Arn: wims.APIDestinationARN("crm-orders"),
		InputTransformer: &wims.InputTransformer{
			InputPathsMap: map[string]string{"amount": "$.detail.amount", "id": "$.id"},
			InputTemplate: `{"amount": <amount>, "event": "<id>", "rule": "<aws.events.rule-name>"}`,
		},
	}})
	mustNil(t, err)
	if len(failures) != 0 {
		t.Fatalf("PutTargets failures: %+v", failures)
	}

	res, err := p.PutEvents(ctx, []wims.PutEventsEntry{
		{EventBusName: "shop", Source: "shop.web", DetailType: "Order", Detail: `{"amount": 250}`},
		{EventBusName: "shop", Source: "shop.web", DetailType: "Order", Detail: `{"amount": 5}`},
		{EventBusName: "nope", Source: "shop.web", DetailType: "Order", Detail: `{}`},
		{EventBusName: "shop", Source: "shop.web", DetailType: "Order", Detail: `[1]`},
	})
	mustNil(t, err)
	if res[0].EventID == "" || res[1].EventID == "" || res[2].ErrorCode != "ResourceNotFoundException" || res[3].ErrorCode != "MalformedDetail" {
		t.Fatalf("PutEvents results = %+v", res)
	}

	eventually(t, 20*time.Second, func() error {
		if n := len(rcv.got()); n < 1 {
			return fmt.Errorf("%d deliveries", n)
		}
		return nil
	})
	got := rcv.got()[0]
	var body struct {
		Amount float64 `json:"amount"`
		Event  string  `json:"event"`
		Rule   string  `json:"rule"`
	}
	if err := json.Unmarshal([]byte(got.Body), &body); err != nil || body.Amount != 250 || body.Event != res[0].EventID || body.Rule != "big-orders" {
		t.Fatalf("delivered body %q (%v)", got.Body, err)
	}
	if got.Header.Get("X-Api-Key") != "s3cret-value" || got.Header.Get("Idempotency-Key") != res[0].EventID || got.Path != "/hook" {
		t.Fatalf("delivered headers %v path %s", got.Header, got.Path)
	}
	// The connection's secret is never returned.
	c, err := p.DescribeConnection(ctx, "crm")
	mustNil(t, err)
	if c.Secret != "" {
		t.Fatal("DescribeConnection returned the secret")
	}

	// Disable: the next matching event is not delivered. A second, always
	// matching rule to another receiver proves the event was routed at all.
	mustNil(t, p.SetRuleState(ctx, "shop", "big-orders", wims.RuleDisabled))
	probe := newReceiver(t, nil)
	_, err = p.CreateConnection(ctx, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: "probe", ConnectionName: "open", InvocationEndpoint: probe.srv.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	_, err = p.PutRule(ctx, wims.Rule{Name: "all", EventBusName: "shop", EventPattern: `{"source":["shop.web"]}`})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, "shop", "all", []wims.Target{{ID: "probe", Arn: wims.APIDestinationARN("probe")}})
	mustNil(t, err)
	res, err = p.PutEvents(ctx, []wims.PutEventsEntry{{EventBusName: "shop", Source: "shop.web", DetailType: "Order", Detail: `{"amount": 999}`}})
	mustNil(t, err)
	eventually(t, 20*time.Second, func() error {
		for _, r := range probe.got() {
			if strings.Contains(r.Body, res[0].EventID) {
				return nil
			}
		}
		return fmt.Errorf("probe has not seen %s", res[0].EventID)
	})
	if n := len(rcv.got()); n != 1 {
		t.Fatalf("disabled rule delivered again: %d deliveries", n)
	}
}

// TestPlatformRetryPolicyDeadLetters: a target whose receiver always fails
// is tried 1 + MaximumRetryAttempts times, then dead-lettered naming its
// rule and target; redriving it reaches only that target.
func TestPlatformRetryPolicyDeadLetters(t *testing.T) {
	a := startTestApp(t, nil)
	ctx := context.Background()
	p := a.platform
	failing := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	other := newReceiver(t, nil)
	_, err := p.CreateConnection(ctx, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	for name, r := range map[string]*receiver{"failing": failing, "other": other} {
		_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: name, ConnectionName: "open", InvocationEndpoint: r.srv.URL, HTTPMethod: "POST"})
		mustNil(t, err)
	}
	_, err = p.PutRule(ctx, wims.Rule{Name: "r", EventBusName: "default", EventPattern: `{"source":["t.retry"]}`})
	mustNil(t, err)
	retries := 2
	_, err = p.PutTargets(ctx, "default", "r", []wims.Target{
		{ID: "failing", Arn: wims.APIDestinationARN("failing"), RetryPolicy: &wims.RetryPolicy{MaximumRetryAttempts: &retries},
			DeadLetterConfig: &wims.DeadLetterConfig{Arn: "arn:aws:sqs:local:000000000000:failed-crm"}},
		{ID: "other", Arn: wims.APIDestinationARN("other")},
	})
	mustNil(t, err)
	res, err := p.PutEvents(ctx, []wims.PutEventsEntry{{Source: "t.retry", DetailType: "x", Detail: `{"n":1}`}})
	mustNil(t, err)

	var dl []struct {
		Seq           uint64
		Rule          string
		Target        string
		Reason        string
		DeadLetterArn string
	}
	eventually(t, 30*time.Second, func() error {
		code, body := a.do("GET", "/dead-letters", nil)
		if code != http.StatusOK {
			return fmt.Errorf("GET /dead-letters = %d", code)
		}
		var resp struct {
			DeadLetters []struct {
				Seq           uint64
				Rule          string
				Target        string
				Reason        string
				DeadLetterArn string
			}
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return err
		}
		if dl = resp.DeadLetters; len(dl) == 0 {
			return fmt.Errorf("no dead letter yet (%d calls)", len(failing.got()))
		}
		return nil
	})
	if n := len(failing.got()); n != 1+retries {
		t.Fatalf("failing target called %d times, want %d", n, 1+retries)
	}
	if dl[0].Rule != "r" || dl[0].Target != "failing" || dl[0].DeadLetterArn != "arn:aws:sqs:local:000000000000:failed-crm" {
		t.Fatalf("dead letter names rule %q target %q queue %q", dl[0].Rule, dl[0].Target, dl[0].DeadLetterArn)
	}
	if n := len(other.got()); n != 1 {
		t.Fatalf("other target got %d deliveries, want 1", n)
	}
	code, body := a.do("POST", fmt.Sprintf("/dead-letters/%d/redrive", dl[0].Seq), nil)
	if code != http.StatusOK && code != http.StatusAccepted && code != http.StatusNoContent {
		t.Fatalf("redrive = %d %s", code, body)
	}
	eventually(t, 30*time.Second, func() error {
		if n := len(failing.got()); n < 2+retries {
			return fmt.Errorf("failing target called %d times after redrive", n)
		}
		return nil
	})
	for _, r := range failing.got() {
		if r.Header.Get("Idempotency-Key") != res[0].EventID {
			t.Fatalf("redriven delivery's Idempotency-Key %q, want the event id %s", r.Header.Get("Idempotency-Key"), res[0].EventID)
		}
	}
	if n := len(other.got()); n != 1 {
		t.Fatalf("redrive reached the other target too: %d deliveries", n)
	}
}

// TestPlatformBusForwardingAndBuiltins: a rule on a custom bus forwards to
// the default bus, where the built-in event log keeps the event; a user
// event with detail.orderId routed to the order workflow reserves stock;
// domain events ("Order Reserved") reach user rules on the default bus.
func TestPlatformBusForwardingAndBuiltins(t *testing.T) {
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = "" })
	ctx := context.Background()
	p := a.platform
	_, err := p.CreateEventBus(ctx, wims.EventBus{Name: "partner.bus"})
	mustNil(t, err)
	_, err = p.PutRule(ctx, wims.Rule{Name: "to-default", EventBusName: "partner.bus", EventPattern: `{"source":["partner"]}`})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, "partner.bus", "to-default", []wims.Target{
		{ID: "d", Arn: wims.BusARN("default")},
		{ID: "audit", Arn: wims.LogGroupARN("partner/audit"), InputTransformer: &wims.InputTransformer{
			InputPathsMap: map[string]string{"x": "$.detail.x"}, InputTemplate: `{"x": <x>, "rule": "<aws.events.rule-name>"}`}},
	})
	mustNil(t, err)
	res, err := p.PutEvents(ctx, []wims.PutEventsEntry{{EventBusName: "partner.bus", Source: "partner", DetailType: "Ping", Detail: `{"x":1}`}})
	mustNil(t, err)
	eventually(t, 20*time.Second, func() error {
		_, body := a.do("GET", "/events?limit=100&source=partner", nil)
		if !strings.Contains(string(body), res[0].EventID) {
			return fmt.Errorf("event log has not got the forwarded event yet: %s", body)
		}
		return nil
	})

	// The log group target kept the transformed input.
	eventually(t, 20*time.Second, func() error {
		_, body := a.do("GET", "/events?log-group=partner%2Faudit", nil)
		if !strings.Contains(string(body), `"rule":"to-default"`) {
			return fmt.Errorf("log group partner/audit: %s", body)
		}
		return nil
	})

	// A user event routed to the order workflow reserves the order it names.
	// The built-in order-placed rule is disabled meanwhile (at runtime, as a
	// user would), so only the user's rule can move the order; the
	// reconciler's grace (1 min) is longer than the wait.
	mustNil(t, p.SetRuleState(ctx, "", "order-placed", wims.RuleDisabled))
	a.putItem("WF", 10, 2)
	pending := a.placeOrder("c8", 2, "WF")
	_, err = p.PutRule(ctx, wims.Rule{Name: "retry-order", EventBusName: "partner.bus", EventPattern: `{"detail-type":["Retry Order"]}`})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, "partner.bus", "retry-order", []wims.Target{{ID: "wf", Arn: wims.OrderWorkflowARN}})
	mustNil(t, err)
	_, err = p.PutEvents(ctx, []wims.PutEventsEntry{{EventBusName: "partner.bus", Source: "partner", DetailType: "Retry Order",
		Detail: `{"orderId":"` + pending.ID + `"}`}})
	mustNil(t, err)
	waitStatus(t, a, pending.ID, wims.OrderReserved, wims.OrderPaid)
	mustNil(t, p.SetRuleState(ctx, "", "order-placed", wims.RuleEnabled))

	// Domain events: a rule on "Order Reserved" reaches a receiver.
	rcv := newReceiver(t, nil)
	_, err = p.CreateConnection(ctx, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: "reserved", ConnectionName: "open", InvocationEndpoint: rcv.srv.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	_, err = p.PutRule(ctx, wims.Rule{Name: "on-reserved", EventPattern: `{"source":["wims.orders"],"detail-type":["Order Reserved"]}`})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, "", "on-reserved", []wims.Target{{ID: "r", Arn: wims.APIDestinationARN("reserved"), InputPath: "$.detail"}})
	mustNil(t, err)
	a.putItem("FWD", 10, 2)
	o := a.placeOrder("c9", 3, "FWD")
	eventually(t, 20*time.Second, func() error {
		for _, r := range rcv.got() {
			var d wims.OrderEventDetail
			if json.Unmarshal([]byte(r.Body), &d) == nil && d.OrderID == o.ID && d.Status == wims.OrderReserved {
				return nil
			}
		}
		return fmt.Errorf("no Order Reserved delivery for %s yet (%d)", o.ID, len(rcv.got()))
	})
}
