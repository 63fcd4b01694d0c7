package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/wims/wims"
)

// encryptedCustomer finds the customerId values events carry.
var encryptedCustomer = regexp.MustCompile(`"customerId":"(wims:enc:[^"]*)"`)

// TestSensitivePutEvents: events put with PutEvents, through the AWS SDK
// and through POST /events, carry their customerId (and a
// --sensitive-field) encrypted at the targets and in the event log; a
// rule on the plain customerId matches them and no one else's; a
// bus-to-bus target forwards the encrypted value as it is (not encrypted
// twice), so the other bus's rule on the customer matches too; and
// TestEventPattern answers for the plain event as those rules do.
func TestSensitivePutEvents(t *testing.T) {
	a := startTestApp(t, func(c *Config) {
		c.EventKeys = []string{"k1:" + strings.Repeat("ab", 32)}
		c.SensitiveFields = []string{"detail.contact.email"}
	})
	ctx := context.Background()
	c := sdkClient(a, aws.AnonymousCredentials{})
	p := a.platform
	vipRcv, fwdRcv := newReceiver(t, nil), newReceiver(t, nil)
	_, err := p.CreateConnection(ctx, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	for name, rcv := range map[string]*receiver{"crm": vipRcv, "crm-other": fwdRcv} {
		_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: name, ConnectionName: "open", InvocationEndpoint: rcv.srv.URL, HTTPMethod: "POST"})
		mustNil(t, err)
	}
	_, err = c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("other")})
	mustNil(t, err)
	const vip = `{"source":["shop"],"detail":{"customerId":["c-42"]}}`
	for _, r := range []struct{ bus, name, pattern, arn string }{
		{wims.DefaultBus, "vip", vip, wims.APIDestinationARN("crm")},
		{wims.DefaultBus, "forward", `{"source":["shop"]}`, wims.BusARN("other")},
		{"other", "vip-other", vip, wims.APIDestinationARN("crm-other")},
	} {
		_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(r.name), EventBusName: aws.String(r.bus), EventPattern: aws.String(r.pattern)})
		mustNil(t, err)
		_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(r.name), EventBusName: aws.String(r.bus),
			Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String(r.arn)}}})
		mustNil(t, err)
	}

	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"customerId":"c-42","n":"sdk"}`)},
		{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"customerId":"c-7","n":"other","contact":{"email":"x@example.com"}}`)},
		{Source: aws.String("shop"), DetailType: aws.String("Numbered"), Detail: aws.String(`{"customerId":4242,"contact":{"email":"2026-12-01"}}`)},
	}})
	mustNil(t, err)
	if out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %+v", out.Entries)
	}
	code, body := a.do("POST", "/events", map[string]any{"entries": []map[string]any{
		{"source": "shop", "detailType": "Order", "detail": map[string]any{"customerId": "c-42", "n": "rest"}},
	}})
	if code != http.StatusOK || !strings.Contains(string(body), `"failedEntryCount":0`) {
		t.Fatalf("POST /events = %d %s", code, body)
	}

	// Both of c-42's events reach the rule's target on each bus, and only
	// they; encrypted, and forwarded with the very value the first bus had.
	values := map[string]map[string]string{} // receiver → n → customerId
	for name, rcv := range map[string]*receiver{"vip": vipRcv, "vip-other": fwdRcv} {
		eventually(t, 20*time.Second, func() error {
			if n := len(rcv.got()); n < 2 {
				return fmt.Errorf("%s: %d deliveries", name, n)
			}
			return nil
		})
		values[name] = map[string]string{}
		for _, r := range rcv.got() {
			m := encryptedCustomer.FindStringSubmatch(r.Body)
			if strings.Contains(r.Body, `"c-42"`) || strings.Contains(r.Body, `"n":"other"`) || m == nil || strings.Count(r.Body, "wims:enc:") != 1 {
				t.Fatalf("%s got %s", name, r.Body)
			}
			for _, n := range []string{"sdk", "rest"} {
				if strings.Contains(r.Body, `"n":"`+n+`"`) {
					values[name][n] = m[1]
				}
			}
		}
	}
	for _, n := range []string{"sdk", "rest"} {
		if v := values["vip"][n]; v == "" || v != values["vip-other"][n] {
			t.Fatalf("event %s: customerId %q on the default bus, %q on the other", n, v, values["vip-other"][n])
		}
	}

	// The event log holds the three events, with no plain value.
	eventually(t, 20*time.Second, func() error {
		code, body := a.do("GET", "/events?source=shop&limit=100", nil)
		if code != http.StatusOK {
			return fmt.Errorf("GET /events = %d %s", code, body)
		}
		if got := strings.Count(string(body), `"detail-type":"Order"`); got < 3 {
			return fmt.Errorf("%d events of shop logged", got)
		}
		for _, leak := range []string{`"c-42"`, `"c-7"`, "x@example.com"} {
			if strings.Contains(string(body), leak) {
				t.Fatalf("the event log shows %s: %s", leak, body)
			}
		}
		return nil
	})

	// Schema discovery learns the shape as stored: the integer customer
	// and the date-like email are encrypted strings, with no format.
	eventually(t, 20*time.Second, func() error {
		sc, err := p.DescribeSchema(ctx, wims.DiscoveredRegistry, "shop@Numbered", "")
		if err != nil {
			return err
		}
		var doc any
		mustNil(t, json.Unmarshal([]byte(sc.Content), &doc))
		for _, field := range []string{"customerId", "email"} {
			prop, ok := findMember(doc, field).(map[string]any)
			if !ok || prop["type"] != "string" || prop["format"] != nil {
				t.Fatalf("discovered %s as %v in %s", field, prop, sc.Content)
			}
		}
		return nil
	})

	for event, want := range map[string]bool{
		`{"source":"shop","detail-type":"Order","detail":{"customerId":"c-42"}}`: true,
		`{"source":"shop","detail-type":"Order","detail":{"customerId":"c-7"}}`:  false,
	} {
		res, err := c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(vip), Event: aws.String(event)})
		mustNil(t, err)
		if res.Result != want {
			t.Errorf("TestEventPattern(%s) = %v, want %v", event, res.Result, want)
		}
	}
}

// findMember returns the value of the first member named name in a
// decoded JSON document, depth first.
func findMember(doc any, name string) any {
	switch v := doc.(type) {
	case map[string]any:
		if m, ok := v[name]; ok {
			return m
		}
		for _, m := range v {
			if found := findMember(m, name); found != nil {
				return found
			}
		}
	case []any:
		for _, m := range v {
			if found := findMember(m, name); found != nil {
				return found
			}
		}
	}
	return nil
}
