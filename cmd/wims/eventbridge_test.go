package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// sdkClient is the real AWS SDK EventBridge client pointed at wims.
func sdkClient(a *testApp, creds aws.CredentialsProvider) *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		Region: "local", BaseEndpoint: aws.String(a.url), Credentials: creds,
		RetryMaxAttempts: 1,
	})
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// TestEventBridgeSDK drives every platform operation through the real
// aws-sdk-go-v2 EventBridge client against a running wims (unsigned: no API
// keys configured), including AWS's typed errors and pagination.
func TestEventBridgeSDK(t *testing.T) {
	a := startTestApp(t, nil)
	c := sdkClient(a, aws.AnonymousCredentials{})
	ctx := context.Background()
	rcv := newReceiver(t, nil)

	bus, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders"), Description: aws.String("shop orders")})
	mustNil(t, err)
	if *bus.EventBusArn != wims.BusARN("orders") {
		t.Fatalf("EventBusArn = %s", *bus.EventBusArn)
	}
	_, err = c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders")})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("second CreateEventBus: %v", err)
	}
	d, err := c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(wims.BusARN("orders"))})
	mustNil(t, err)
	if *d.Name != "orders" || *d.Description != "shop orders" || d.CreationTime == nil {
		t.Fatalf("DescribeEventBus = %+v", d)
	}
	buses, err := c.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	mustNil(t, err)
	if len(buses.EventBuses) != 2 || *buses.EventBuses[0].Name != "default" {
		t.Fatalf("ListEventBuses = %+v", buses.EventBuses)
	}

	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventBusName: aws.String("orders"), EventPattern: aws.String(`{"source":"x"}`)})
	var badPattern *types.InvalidEventPatternException
	if !errors.As(err, &badPattern) {
		t.Fatalf("invalid pattern: %v", err)
	}
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("nope"), EventPattern: aws.String(`{"source":["x"]}`)})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("rule on unknown bus: %v", err)
	}
	for i := range 3 {
		r, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(fmt.Sprintf("rule-%d", i)), EventBusName: aws.String("orders"),
			EventPattern: aws.String(`{"source":["shop"]}`), Description: aws.String("d")})
		mustNil(t, err)
		if *r.RuleArn != wims.RuleARN("orders", fmt.Sprintf("rule-%d", i)) {
			t.Fatalf("RuleArn = %s", *r.RuleArn)
		}
	}
	page1, err := c.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String("orders"), Limit: aws.Int32(2)})
	mustNil(t, err)
	if len(page1.Rules) != 2 || page1.NextToken == nil {
		t.Fatalf("ListRules page 1 = %d rules, token %v", len(page1.Rules), page1.NextToken)
	}
	page2, err := c.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String("orders"), Limit: aws.Int32(2), NextToken: page1.NextToken})
	mustNil(t, err)
	if len(page2.Rules) != 1 || *page2.Rules[0].Name != "rule-2" || page2.NextToken != nil {
		t.Fatalf("ListRules page 2 = %+v", page2.Rules)
	}
	_, err = c.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String("orders"), NextToken: aws.String("%%%")})
	wantAPIError(t, err, "ValidationException")

	conn, err := c.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String("crm"), AuthorizationType: types.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &types.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &types.CreateConnectionApiKeyAuthRequestParameters{
			ApiKeyName: aws.String("X-Key"), ApiKeyValue: aws.String("very-secret")}}})
	mustNil(t, err)
	if conn.ConnectionState != types.ConnectionStateAuthorized {
		t.Fatalf("ConnectionState = %s", conn.ConnectionState)
	}
	dc, err := c.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String("crm")})
	mustNil(t, err)
	if dc.AuthParameters == nil || *dc.AuthParameters.ApiKeyAuthParameters.ApiKeyName != "X-Key" {
		t.Fatalf("DescribeConnection = %+v", dc)
	}
	dest, err := c.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("crm-in"), ConnectionArn: conn.ConnectionArn,
		InvocationEndpoint: aws.String(rcv.srv.URL + "/in"), HttpMethod: types.ApiDestinationHttpMethodPost, InvocationRateLimitPerSecond: aws.Int32(20)})
	mustNil(t, err)
	dd, err := c.DescribeApiDestination(ctx, &eventbridge.DescribeApiDestinationInput{Name: aws.String("crm-in")})
	mustNil(t, err)
	if *dd.InvocationRateLimitPerSecond != 20 || *dd.ConnectionArn != *conn.ConnectionArn {
		t.Fatalf("DescribeApiDestination = %+v", dd)
	}

	pt, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("rule-0"), EventBusName: aws.String("orders"), Targets: []types.Target{
		{Id: aws.String("crm"), Arn: dest.ApiDestinationArn, InputPath: aws.String("$.detail"),
			RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(3), MaximumEventAgeInSeconds: aws.Int32(120)}},
		{Id: aws.String("bad"), Arn: aws.String(wims.BusARN("missing"))},
	}})
	mustNil(t, err)
	if pt.FailedEntryCount != 1 || *pt.FailedEntries[0].TargetId != "bad" {
		t.Fatalf("PutTargets = %+v", pt)
	}
	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("rule-0"), EventBusName: aws.String("orders")})
	mustNil(t, err)
	if len(lt.Targets) != 1 || *lt.Targets[0].RetryPolicy.MaximumRetryAttempts != 3 || *lt.Targets[0].InputPath != "$.detail" {
		t.Fatalf("ListTargetsByRule = %+v", lt.Targets)
	}
	names, err := c.ListRuleNamesByTarget(ctx, &eventbridge.ListRuleNamesByTargetInput{TargetArn: dest.ApiDestinationArn, EventBusName: aws.String("orders")})
	mustNil(t, err)
	if len(names.RuleNames) != 1 || names.RuleNames[0] != "rule-0" {
		t.Fatalf("ListRuleNamesByTarget = %v", names.RuleNames)
	}
	_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("rule-0"), EventBusName: aws.String("orders")})
	wantAPIError(t, err, "ValidationException")

	tp, err := c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"source":["shop"]}`),
		Event: aws.String(`{"id":"1","source":"shop","detail-type":"x","account":"000000000000","time":"2026-01-01T00:00:00Z","region":"local","resources":[],"detail":{}}`)})
	mustNil(t, err)
	if !tp.Result {
		t.Fatal("TestEventPattern = false")
	}

	pe, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{EventBusName: aws.String("orders"), Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"total":42}`), Time: aws.Time(time.Now())},
		{EventBusName: aws.String("orders"), Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`not json`)},
	}})
	mustNil(t, err)
	if pe.FailedEntryCount != 1 || pe.Entries[0].EventId == nil || *pe.Entries[1].ErrorCode != "MalformedDetail" {
		t.Fatalf("PutEvents = %+v", pe)
	}
	eventually(t, 20*time.Second, func() error {
		for _, r := range rcv.got() {
			if strings.Contains(r.Body, `"total":42`) && r.Header.Get("X-Key") == "very-secret" {
				return nil
			}
		}
		return fmt.Errorf("no delivery yet (%d)", len(rcv.got()))
	})
	tooMany := make([]types.PutEventsRequestEntry, 11)
	for i := range tooMany {
		tooMany[i] = types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String(`{}`)}
	}
	_, err = c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: tooMany})
	wantAPIError(t, err, "ValidationException")

	_, err = c.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("rule-0"), EventBusName: aws.String("orders")})
	mustNil(t, err)
	dr, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("rule-0"), EventBusName: aws.String("orders")})
	mustNil(t, err)
	if dr.State != types.RuleStateDisabled {
		t.Fatalf("state after DisableRule = %s", dr.State)
	}
	_, err = c.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String("rule-0"), EventBusName: aws.String("orders")})
	mustNil(t, err)
	_, err = c.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("rule-0"), EventBusName: aws.String("orders"), Ids: []string{"crm"}})
	mustNil(t, err)
	_, err = c.DeleteConnection(ctx, &eventbridge.DeleteConnectionInput{Name: aws.String("crm")})
	wantAPIError(t, err, "ValidationException") // still used by crm-in
	_, err = c.DeleteApiDestination(ctx, &eventbridge.DeleteApiDestinationInput{Name: aws.String("crm-in")})
	mustNil(t, err)
	_, err = c.DeleteConnection(ctx, &eventbridge.DeleteConnectionInput{Name: aws.String("crm")})
	mustNil(t, err)
	for i := range 3 {
		_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(fmt.Sprintf("rule-%d", i)), EventBusName: aws.String("orders")})
		mustNil(t, err)
	}
	_, err = c.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String("orders")})
	mustNil(t, err)

	// The built-in rules are listed on the default bus, managed by wims.
	rules, err := c.ListRules(ctx, &eventbridge.ListRulesInput{})
	mustNil(t, err)
	if len(rules.Rules) != 5 || *rules.Rules[0].ManagedBy != wims.ManagedByWims {
		t.Fatalf("default bus rules = %+v", rules.Rules)
	}
	_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("order-placed")})
	wantAPIError(t, err, "ManagedRuleException")
}

// TestEventBridgeSigV4: with API keys configured, requests must be signed
// with a configured key (access key id: its fingerprint, or ID of an
// ID=SECRET key), and the key's role applies.
func TestEventBridgeSigV4(t *testing.T) {
	admin, reader := "admin-key-123456", "reader=reader-secret-98765"
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{admin + ":admin", reader + ":read"} })
	ctx := context.Background()
	signed := sdkClient(a, credentials.NewStaticCredentialsProvider(wimshttp.Fingerprint(admin), admin, ""))
	_, err := signed.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("signed")})
	mustNil(t, err)

	readOnly := sdkClient(a, credentials.NewStaticCredentialsProvider("reader", "reader-secret-98765", ""))
	_, err = readOnly.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	mustNil(t, err)
	_, err = readOnly.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("x"), EventPattern: aws.String(`{"source":["a"]}`)})
	wantAPIError(t, err, "AccessDeniedException")

	wrong := sdkClient(a, credentials.NewStaticCredentialsProvider(wimshttp.Fingerprint(admin), "not-the-key", ""))
	_, err = wrong.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	wantAPIError(t, err, "InvalidSignatureException")
	unknown := sdkClient(a, credentials.NewStaticCredentialsProvider("nobody", "x", ""))
	_, err = unknown.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	wantAPIError(t, err, "UnrecognizedClientException")
	anon := sdkClient(a, aws.AnonymousCredentials{})
	_, err = anon.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	wantAPIError(t, err, "MissingAuthenticationTokenException")

	// A body changed after signing is refused.
	req, _ := http.NewRequest("POST", a.url+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "AWSEvents.ListEventBuses")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+wimshttp.Fingerprint(admin)+"/"+time.Now().UTC().Format("20060102")+
		"/local/events/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	mustNil(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
		t.Fatalf("forged signature: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}
