package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// TestSensitiveCustomerIDEndToEnd: an order's events on the bus carry its
// customerId encrypted, never in plain text (at the target, in the event
// log); a rule on the plain customerId still matches that customer's
// events and no one else's; an event-log query on it finds them; the
// order is still reserved and paid (the workflow and the payments read the
// customer from the store). On both stores.
func TestSensitiveCustomerIDEndToEnd(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			_, payURL := fastPayments(t, paymentsmock.Options{})
			a := startTestApp(t, func(c *Config) {
				c.PaymentsURL = payURL
				c.EventKeys = []string{"k1:" + strings.Repeat("ab", 32)}
				if store == "postgres" {
					c.Store = pgtest.URL(t)
				}
			})
			testSensitive(t, a)
		})
	}
}

func testSensitive(t *testing.T, a *testApp) {
	ctx := t.Context()
	rcv := newReceiver(t, nil)
	p := a.platform
	_, err := p.CreateConnection(ctx, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: "crm", ConnectionName: "open", InvocationEndpoint: rcv.srv.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	const custPattern = `{"source":["wims.cdc"],"detail":{"data":{"table":["orders"],"NewImage":{"customerId":["c-42"]}}}}`
	_, err = p.PutRule(ctx, wims.Rule{Name: "vip", EventPattern: custPattern})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, wims.DefaultBus, "vip", []wims.Target{{ID: "crm", Arn: wims.APIDestinationARN("crm")}})
	mustNil(t, err)
	if _, err := p.PutRule(ctx, wims.Rule{Name: "bad", EventPattern: `{"detail":{"data":{"NewImage":{"customerId":[{"prefix":"c-"}]}}}}`}); wims.ErrorCode(err) != wims.EINVALID {
		t.Fatalf("a prefix rule on customerId: %v, want EINVALID", err)
	}

	vip := a.placeOrder("c-42", 1, "")
	other := a.placeOrder("c-7", 1, "")
	for _, id := range []string{vip.ID, other.ID} {
		eventually(t, 20*time.Second, func() error {
			code, body := a.do("GET", "/orders/"+id, nil)
			if code != http.StatusOK || !strings.Contains(string(body), `"status":"PAID"`) {
				return fmt.Errorf("order %s: %d %.200s", id, code, body)
			}
			return nil
		})
	}
	// PENDING, RESERVED and PAID: three changes of the vip's order.
	eventually(t, 20*time.Second, func() error {
		if n := len(rcv.got()); n < 3 {
			return fmt.Errorf("%d deliveries of the vip's events", n)
		}
		return nil
	})
	for _, r := range rcv.got() {
		if strings.Contains(r.Body, "c-42") || strings.Contains(r.Body, other.ID) || !strings.Contains(r.Body, vip.ID) ||
			!strings.Contains(r.Body, `"customerId":"wims:enc:k1:`) {
			t.Fatalf("delivered %s", r.Body)
		}
	}

	// The event log holds no plain customer id, and a query on one finds
	// that customer's events through the token.
	q := "/events?pattern=" + url.QueryEscape(custPattern)
	eventually(t, 20*time.Second, func() error {
		code, body := a.do("GET", q, nil)
		if code != http.StatusOK || !strings.Contains(string(body), vip.ID) {
			return fmt.Errorf("GET %s = %d %.300s", q, code, body)
		}
		if strings.Contains(string(body), other.ID) {
			t.Fatalf("the query on c-42 found c-7's order: %s", body)
		}
		return nil
	})
	code, body := a.do("GET", "/events?limit=100", nil)
	if code != http.StatusOK || strings.Contains(string(body), `"c-42"`) || strings.Contains(string(body), `"c-7"`) {
		t.Fatalf("the event log shows a customer id in plain text: %d %.500s", code, body)
	}
}
