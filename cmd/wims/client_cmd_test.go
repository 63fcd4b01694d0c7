package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
)

// runCLI runs the wims CLI in-process and returns its exit code and output.
func runClient(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestClientCommands(t *testing.T) {
	app := startTestApp(t, func(c *Config) {
		c.APIKeys = []string{"admin-key", "shop-key:orders", "ro-key:read"}
	})
	t.Setenv("WIMS_URL", app.url)
	t.Setenv("WIMS_API_KEY", "admin-key")

	t.Run("InventorySetGetAdjustList", func(t *testing.T) {
		code, out, errs := runClient(t, "inventory", "set", "W-1", "--name", "Widget", "--model", "X", "--quantity", "10", "--threshold", "2")
		if code != 0 || !strings.Contains(out, "W-1") || !strings.Contains(out, "Widget") {
			t.Fatalf("set: %d %q %q", code, out, errs)
		}
		code, out, _ = runClient(t, "inventory", "adjust", "W-1", "--delta", "-3", "--reason", "broken", "--json")
		var it wims.Item
		if code != 0 || json.Unmarshal([]byte(out), &it) != nil || it.Quantity != 7 {
			t.Fatalf("adjust: %d %q", code, out)
		}
		code, out, _ = runClient(t, "inventory", "get", "W-1")
		if code != 0 || !strings.Contains(out, "QUANTITY") || !strings.Contains(out, " 7 ") {
			t.Fatalf("get: %d %q", code, out)
		}
		code, out, _ = runClient(t, "inventory", "set", "W-BO", "--name", "Widget", "--quantity", "0", "--allow-backorder", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &it) != nil || !it.AllowBackorder {
			t.Fatalf("set --allow-backorder: %d %q", code, out)
		}
		code, out, _ = runClient(t, "inventory", "list", "--json")
		var list struct{ Items []wims.Item }
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Items) != 3 {
			t.Fatalf("list: %d %q", code, out)
		}
	})
	t.Run("OrderCreateLines", func(t *testing.T) {
		code, out, errs := runClient(t, "order", "create", "--customer", "c-l", "--line", wims.DefaultSKU+"=2", "--json")
		var o wims.Order
		if code != 0 || json.Unmarshal([]byte(out), &o) != nil || len(o.Lines) != 1 || o.Lines[0] != (wims.OrderLine{SKU: wims.DefaultSKU, Quantity: 2}) {
			t.Fatalf("create --line: %d %q %q", code, out, errs)
		}
		for _, bad := range [][]string{{"--line", "X"}, {"--line", "X=0"}, {"--line", wims.DefaultSKU + "=1", "--quantity", "1"}} {
			if code, _, errs := runClient(t, append([]string{"order", "create", "--customer", "c-l"}, bad...)...); code == 0 {
				t.Fatalf("create %v: exit 0, %q", bad, errs)
			}
		}
	})
	t.Run("OrderCreateGetList", func(t *testing.T) {
		code, out, errs := runClient(t, "order", "create", "--customer", "c-9", "--quantity", "2", "--idempotency-key", "cli-1", "--json", "--api-key", "shop-key")
		var o wims.Order
		if code != 0 || json.Unmarshal([]byte(out), &o) != nil || o.Status != wims.OrderPending || o.CustomerID != "c-9" {
			t.Fatalf("create: %d %q %q", code, out, errs)
		}
		// A retry with the same key is the same order.
		code, out, errs = runClient(t, "order", "create", "--customer", "c-9", "--quantity", "2", "--idempotency-key", "cli-1", "--api-key", "shop-key")
		if code != 0 || !strings.Contains(out, o.ID) || !strings.Contains(errs, "replayed") {
			t.Fatalf("retry: %d %q %q", code, out, errs)
		}
		code, out, _ = runClient(t, "order", "get", o.ID)
		if code != 0 || !strings.Contains(out, o.ID) || !strings.Contains(out, "HISTORY") || !strings.Contains(out, "PENDING") {
			t.Fatalf("get: %d %q", code, out)
		}
		eventually(t, 30*time.Second, func() error {
			_, out, _ := runClient(t, "order", "get", o.ID)
			if !strings.Contains(out, "PAID") {
				return fmt.Errorf("order not paid yet: %s", out)
			}
			return nil
		})
		code, out, _ = runClient(t, "order", "get", o.ID)
		if code != 0 || !strings.Contains(out, "EXECUTION") || !strings.Contains(out, "reserve-stock") ||
			!regexp.MustCompile(`\d{2}:\d{2}:\d{2}\.\d{3}Z`).MatchString(out) {
			t.Fatalf("get shows no execution steps or no milliseconds: %q", out)
		}
		code, out, _ = runClient(t, "order", "get", o.ID, "--json")
		var d client.OrderDetail
		if code != 0 || json.Unmarshal([]byte(out), &d) != nil || len(d.History) == 0 {
			t.Fatalf("get --json: %d %q", code, out)
		}
		runClient(t, "order", "create", "--customer", "c-9", "--quantity", "1")
		code, out, errs = runClient(t, "order", "list", "--customer", "c-9", "--limit", "1", "--json")
		var page wims.OrderPage
		if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Orders) != 1 || page.NextCursor == "" {
			t.Fatalf("list: %d %q %q", code, out, errs)
		}
		code, out, _ = runClient(t, "order", "list", "--customer", "c-9", "--cursor", page.NextCursor)
		if code != 0 || !strings.Contains(out, o.ID) {
			t.Fatalf("list page 2: %d %q", code, out)
		}
	})
	t.Run("OrderCancel", func(t *testing.T) {
		code, out, errs := runClient(t, "order", "create", "--customer", "c-10", "--quantity", "1", "--json")
		var o wims.Order
		if code != 0 || json.Unmarshal([]byte(out), &o) != nil {
			t.Fatalf("create: %d %q %q", code, out, errs)
		}
		eventually(t, 30*time.Second, func() error {
			_, out, _ := runClient(t, "order", "get", o.ID)
			if !strings.Contains(out, "PAID") {
				return fmt.Errorf("order not paid yet: %s", out)
			}
			return nil
		})
		code, out, errs = runClient(t, "order", "cancel", o.ID, "--api-key", "shop-key")
		if code != 0 || !strings.Contains(out, o.ID) || !strings.Contains(out, "REFUND_PENDING") && !strings.Contains(out, "REFUNDED") {
			t.Fatalf("cancel of a paid order: %d %q %q", code, out, errs)
		}
		// The refund goes through the pipeline: the order-refund rule, the
		// workflow, the dispatcher and the mock's /refunds.
		eventually(t, 30*time.Second, func() error {
			_, out, _ := runClient(t, "order", "get", o.ID)
			if !strings.Contains(out, "REFUNDED") {
				return fmt.Errorf("order not refunded yet: %s", out)
			}
			return nil
		})
		code, _, errs = runClient(t, "order", "cancel", o.ID)
		if code != 1 || !strings.Contains(errs, "409") || !strings.Contains(errs, "order-not-cancellable") {
			t.Fatalf("second cancel of a paid order: %d %q", code, errs)
		}
		code, _, errs = runClient(t, "order", "cancel", "no-such-order")
		if code != 1 || !strings.Contains(errs, "404") {
			t.Fatalf("cancel of an unknown order: %d %q", code, errs)
		}
		if code, _, errs := runClient(t, "order", "cancel"); code != 2 {
			t.Fatalf("cancel without an id: exit %d (%s), want 2", code, errs)
		}
	})
	t.Run("OrderShip", func(t *testing.T) {
		code, out, errs := runClient(t, "order", "create", "--customer", "c-11", "--quantity", "1", "--json")
		var o wims.Order
		if code != 0 || json.Unmarshal([]byte(out), &o) != nil {
			t.Fatalf("create: %d %q %q", code, out, errs)
		}
		eventually(t, 30*time.Second, func() error {
			_, out, _ := runClient(t, "order", "get", o.ID)
			if !strings.Contains(out, "PAID") {
				return fmt.Errorf("order not paid yet: %s", out)
			}
			return nil
		})
		// Shipping is the warehouse's: the orders role may not.
		code, _, errs = runClient(t, "order", "ship", o.ID, "--carrier", "UPS", "--tracking-id", "1Z9", "--api-key", "shop-key")
		if code != 1 || !strings.Contains(errs, "403") {
			t.Fatalf("ship as orders: %d %q", code, errs)
		}
		for range 2 { // the second is the same shipment: the same answer
			code, out, errs = runClient(t, "order", "ship", o.ID, "--carrier", "UPS", "--tracking-id", "1Z9")
			if code != 0 || !strings.Contains(out, o.ID) || !strings.Contains(out, "SHIPPED") {
				t.Fatalf("ship: %d %q %q", code, out, errs)
			}
		}
		code, out, _ = runClient(t, "order", "get", o.ID)
		if code != 0 || !strings.Contains(out, "Shipped:") || !strings.Contains(out, "UPS 1Z9") {
			t.Fatalf("get of a shipped order: %d %q", code, out)
		}
		code, _, errs = runClient(t, "order", "ship", o.ID, "--carrier", "DHL", "--tracking-id", "JD1")
		if code != 1 || !strings.Contains(errs, "409") || !strings.Contains(errs, "order-not-shippable") {
			t.Fatalf("another shipment: %d %q", code, errs)
		}
		code, _, errs = runClient(t, "order", "ship", o.ID, "--carrier", "UPS")
		if code != 1 || !strings.Contains(errs, "400") || !strings.Contains(errs, "trackingId") {
			t.Fatalf("ship without a tracking id: %d %q", code, errs)
		}
		if code, _, errs := runClient(t, "order", "ship"); code != 2 {
			t.Fatalf("ship without an id: exit %d (%s), want 2", code, errs)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		// Problem details are printed readably, exit 1.
		code, _, errs := runClient(t, "order", "create", "--customer", "c", "--quantity", "1", "--sku", "NOPE")
		if code != 1 || !strings.Contains(errs, "400") || !strings.Contains(errs, "field:  sku") || !strings.Contains(errs, "validation-error") {
			t.Fatalf("bad sku: %d %q", code, errs)
		}
		code, _, errs = runClient(t, "inventory", "get", "NOPE")
		if code != 1 || !strings.Contains(errs, "404") {
			t.Fatalf("not found: %d %q", code, errs)
		}
		code, _, errs = runClient(t, "inventory", "list", "--api-key", "wrong")
		if code != 1 || !strings.Contains(errs, "401") {
			t.Fatalf("wrong key: %d %q", code, errs)
		}
		code, _, errs = runClient(t, "inventory", "set", "W-2", "--name", "x", "--quantity", "1", "--api-key", "ro-key")
		if code != 1 || !strings.Contains(errs, "403") {
			t.Fatalf("read role: %d %q", code, errs)
		}
		// Usage errors exit 2 without calling the server.
		for _, args := range [][]string{
			{"order", "create", "--quantity", "1"},
			{"order", "get"},
			{"order", "list", "--limit", "x"},
			{"inventory", "adjust", "W-1"},
			{"inventory", "set", "W-1", "--name", "x"},
			{"inventory", "list", "--url", "ftp://x"},
		} {
			if code, _, errs := runClient(t, args...); code != 2 {
				t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
			}
		}
		// Transport errors exit 1.
		if code, _, _ := runClient(t, "inventory", "list", "--url", "http://127.0.0.1:1"); code != 1 {
			t.Fatalf("unreachable server: exit %d", code)
		}
	})
}

func TestServeAuthConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"LoopbackNoKey", Config{Addr: "127.0.0.1:0"}, true},
		{"PublicNoKey", Config{Addr: "0.0.0.0:8080"}, false},
		{"PublicInsecure", Config{Addr: "0.0.0.0:8080", Insecure: true}, true},
		{"PublicWithKey", Config{Addr: "0.0.0.0:8080", APIKeys: []string{"k:read"}}, true},
		{"BadRole", Config{Addr: "127.0.0.1:0", APIKeys: []string{"k:root"}}, false},
		{"NegativeRate", Config{Addr: "127.0.0.1:0", RateLimit: -1}, false},
		{"MailWithoutSMTP", Config{Addr: "127.0.0.1:0", NotifyEmails: []string{"a@b.c"}}, false},
		{"BadMailAddress", Config{Addr: "127.0.0.1:0", SMTPURL: "smtp://h", NotifyEmailFrom: "w@h", NotifyEmails: []string{"not an address"}}, false},
		{"BadSMTPURL", Config{Addr: "127.0.0.1:0", SMTPURL: "http://k:secret@h", NotifyEmailFrom: "w@h"}, false},
		{"Mail", Config{Addr: "127.0.0.1:0", SMTPURL: "smtp://k:secret@h:2525", NotifyEmailFrom: "w@h", NotifyEmails: []string{"a@b.c"}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Architecture, cfg.PaymentsRate, cfg.NATSReplicas = "v2", 5, 1
			err := cfg.validate()
			if (err == nil) != c.ok {
				t.Fatalf("validate = %v, want ok=%v", err, c.ok)
			}
			if err != nil && (strings.Contains(err.Error(), "k:") || strings.Contains(err.Error(), "secret")) {
				t.Fatalf("error shows a key: %v", err)
			}
		})
	}
	t.Run("EnvKeys", func(t *testing.T) {
		t.Setenv("WIMS_API_KEYS", "a-key:read, b-key")
		t.Setenv("WIMS_API_KEY", "client-key")
		cfg := Config{Addr: "0.0.0.0:8080"}
		keys, err := cfg.apiKeys()
		if err != nil || len(keys) != 2 || keys[0].Role != "read" || keys[1].Role != "admin" {
			t.Fatalf("keys = %v, %v", keys, err)
		}
	})
	t.Run("Redacted", func(t *testing.T) {
		s := Config{APIKeys: []string{"supersecret:orders"}}.String()
		if strings.Contains(s, "supersecret") || !strings.Contains(s, "orders") {
			t.Fatalf("String() = %s", s)
		}
	})
}

// FuzzParseOrderLine: a --line value either parses to a line whose SKU=N
// form reads back the same, or is refused; never a panic.
func FuzzParseOrderLine(f *testing.F) {
	for _, s := range []string{"A=1", "A=", "=1", "A", "A=-1", "A=1=2", "A=99999999999999999999", "a b=3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseOrderLine(s)
		if err != nil {
			return
		}
		if l.SKU == "" || l.Quantity <= 0 {
			t.Fatalf("%q parsed to %+v", s, l)
		}
		if again, err := parseOrderLine(fmt.Sprintf("%s=%d", l.SKU, l.Quantity)); err != nil || again != l {
			t.Fatalf("%q: %+v reads back as %+v, %v", s, l, again, err)
		}
	})
}
