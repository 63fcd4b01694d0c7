// Package rules holds wims' routing rules: a name, an EventBridge event
// pattern and the targets that receive matching events. The built-in rules
// reproduce the course (order inserted → order workflow; stock changes →
// notifications; everything → event log); a JSON config file adds, replaces
// or disables rules.
//
// Each target is served by its own durable consumer on the bus (see package
// router), so a Set compiles, per target, one matcher holding every rule that
// names that target.
package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
)

// Target types.
const (
	TargetOrderWorkflow = "order-workflow"
	TargetNotifications = "notifications"
	TargetEventLog      = "event-log"
	TargetWebhook       = "webhook"
)

// Target is where a rule sends matching events.
type Target struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"` // webhook only
}

// ID names the target's durable delivery: the type for built-in targets, and
// "webhook-" plus a hash of the URL for webhooks, so the same URL in several
// rules shares one delivery and the URL never appears in subject names.
func (t Target) ID() string {
	if t.Type != TargetWebhook {
		return t.Type
	}
	sum := sha256.Sum256([]byte(t.URL))
	return "webhook-" + hex.EncodeToString(sum[:6])
}

func (t Target) validate() error {
	switch t.Type {
	case TargetOrderWorkflow, TargetNotifications, TargetEventLog:
		if t.URL != "" {
			return fmt.Errorf("target %s takes no url", t.Type)
		}
		return nil
	case TargetWebhook:
		u, err := url.Parse(t.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("webhook target needs an absolute http(s) url, got %q", t.URL)
		}
		return nil
	case "":
		return fmt.Errorf("target type is required")
	default:
		return fmt.Errorf("unknown target type %q (want %s, %s, %s or %s)",
			t.Type, TargetOrderWorkflow, TargetNotifications, TargetEventLog, TargetWebhook)
	}
}

// Rule routes events matching Pattern to Targets.
type Rule struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Pattern     json.RawMessage `json:"pattern"`
	Targets     []Target        `json:"targets"`
	// Disabled keeps a rule (e.g. a built-in one named in a config) without routing.
	Disabled bool `json:"disabled,omitempty"`
}

// Config is the rules part of the --config file.
type Config struct {
	Rules []Rule `json:"rules"`
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Defaults returns the built-in rules, the course's V2 diagram.
func Defaults() []Rule {
	return []Rule{
		{
			Name:        "order-placed",
			Description: "An order was inserted: run the order workflow (reserve stock, then enqueue the payment).",
			Pattern:     json.RawMessage(`{"source":["wims.cdc"],"detail":{"data":{"table":["orders"],"eventType":["INSERT"]}}}`),
			Targets:     []Target{{Type: TargetOrderWorkflow}},
		},
		{
			Name: "order-refund",
			Description: "An order became REFUND_PENDING (cancelled after payment, or charged after its cancel): " +
				"the order workflow enqueues its refund.",
			Pattern: json.RawMessage(`{"source":["wims.cdc"],"detail":{"data":{"table":["orders"],"eventType":["UPDATE"],"NewImage":{"status":["REFUND_PENDING"]}}}}`),
			Targets: []Target{{Type: TargetOrderWorkflow}},
		},
		{
			Name: "order-backorder-filled",
			Description: "A BACKORDERED order was filled by a restock (now RESERVED): the order workflow enqueues its payment, " +
				"as for an order reserved at once.",
			Pattern: json.RawMessage(`{"source":["wims.cdc"],"detail":{"data":{"table":["orders"],"eventType":["UPDATE"],"OldImage":{"status":["BACKORDERED"]},"NewImage":{"status":["RESERVED"]}}}}`),
			Targets: []Target{{Type: TargetOrderWorkflow}},
		},
		{
			Name: "stock-changed",
			Description: "An item's stock changed: the notifications target reports LOW_STOCK / OUT_OF_STOCK / OVERSTOCK " +
				"once per crossing of the item's own thresholds (the course's rule fired on every update below 100).",
			Pattern: json.RawMessage(`{"source":["wims.cdc"],"detail":{"data":{"table":["inventory"],"eventType":["UPDATE"],"changedColumns":["quantity"]}}}`),
			Targets: []Target{{Type: TargetNotifications}},
		},
		{
			Name:        "everything",
			Description: "Every event goes to the event log (the course's CloudWatch log group).",
			Pattern:     json.RawMessage(`{"source":[{"prefix":""}]}`),
			Targets:     []Target{{Type: TargetEventLog}},
		},
	}
}

// FulfillmentRule is the name of the rule --fulfillment-url adds.
const FulfillmentRule = "order-fulfillment"

// FulfillmentPattern matches an order's change to PAID: the moment it may
// be picked, packed and shipped. It matches the change event, not the
// domain event Payment Succeeded, because the change carries the customer
// id the fulfillment service needs and domain events leave out.
const FulfillmentPattern = `{"source":["wims.cdc"],"detail":{"data":{"table":["orders"],"eventType":["UPDATE"],"NewImage":{"status":["PAID"]}}}}`

// Fulfillment is the built-in rule of --fulfillment-url: every order that
// becomes PAID is posted to url, the fulfillment service, as its change
// event (Idempotency-Key: the event id), with the webhook targets' retries
// and dead letters. The service ships the order and reports it with POST
// /orders/{id}/shipment. A rule of the same name in the config replaces it.
func Fulfillment(url string) Rule {
	return Rule{
		Name: FulfillmentRule,
		Description: "An order became PAID: post its change event to the fulfillment service (--fulfillment-url), " +
			"which reports the shipment with POST /orders/{id}/shipment.",
		Pattern: json.RawMessage(FulfillmentPattern),
		Targets: []Target{{Type: TargetWebhook, URL: url}},
	}
}

// LoadFile reads a JSON config file. Unknown fields are errors, so a typo in
// a rule does not silently route nothing.
func LoadFile(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(data)
}

// Parse decodes and validates a config document.
func Parse(data []byte) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	if dec.More() {
		return Config{}, fmt.Errorf("parse config: trailing data after the JSON object")
	}
	if _, err := Compile(cfg.Rules); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Merge returns the defaults with the config's rules applied: a rule with a
// default's name replaces it (set "disabled": true to turn a default off),
// other rules are added.
func Merge(defaults []Rule, cfg Config) []Rule {
	out := slices.Clone(defaults)
	for _, r := range cfg.Rules {
		i := slices.IndexFunc(out, func(d Rule) bool { return d.Name == r.Name })
		if i >= 0 {
			out[i] = r
		} else {
			out = append(out, r)
		}
	}
	return out
}
