package wims

import (
	"slices"
	"time"
)

// PaymentRequest is the body the dispatcher sends to the payments API; the
// Idempotency-Key header carries OrderID. SKU and Quantity are the order's
// (for a multi-line order the first line's SKU and the total quantity), so
// an API that predates Lines still charges the right number of units; Lines
// are the order's lines, omitted only by a sender that predates them.
type PaymentRequest struct {
	OrderID    string      `json:"orderId"`
	CustomerID string      `json:"customerId"`
	SKU        string      `json:"sku"`
	Quantity   int64       `json:"quantity"`
	Lines      []OrderLine `json:"lines,omitempty"`
}

// PaymentKind says which call to the payments API an attempt or a queued
// message is: a charge (the default, "") or a refund.
type PaymentKind string

// Payment kinds.
const (
	PaymentCharge PaymentKind = ""       // POST <payments-url>, Idempotency-Key: <orderId>
	PaymentRefund PaymentKind = "refund" // POST <payments-url>/refunds, Idempotency-Key: refund:<orderId>
)

// String names the kind for people: "charge" or "refund".
func (k PaymentKind) String() string {
	if k == PaymentCharge {
		return "charge"
	}
	return string(k)
}

// HeaderPaymentKind marks a payments queue message that is not a charge;
// its value is the PaymentKind ("refund"). Charges carry none, so messages
// queued before refunds existed stay charges.
const HeaderPaymentKind = "Wims-Payment-Kind"

// RefundIdempotencyKey is the Idempotency-Key of an order's refund: never
// an order id, so a refund and its charge never share a key.
func RefundIdempotencyKey(orderID string) string { return "refund:" + orderID }

// PaymentOutcome classifies one call to the payments API.
type PaymentOutcome string

// Payment outcomes.
const (
	PaymentPaid      PaymentOutcome = "paid"      // 2xx (of a refund: refunded)
	PaymentDeclined  PaymentOutcome = "declined"  // 4xx other than 429: final
	PaymentThrottled PaymentOutcome = "throttled" // 429 or 503: retry after a delay, not a failure
	PaymentError     PaymentOutcome = "error"     // 5xx, timeout, connection error: retry, counts as a failure
)

// MaxPaymentFailures is how many failed attempts (PaymentError) a payment may
// have before it goes to the dead-letter stream, as the course's DLQ after 10 receives.
const MaxPaymentFailures = 10

// PaymentAttempt records one call to the payments API.
type PaymentAttempt struct {
	OrderID string `json:"orderId"`
	// Kind is the call's kind: "" for a charge, "refund" for a refund.
	Kind       PaymentKind    `json:"kind,omitempty"`
	Attempt    int            `json:"attempt"`
	Outcome    PaymentOutcome `json:"outcome"`
	StatusCode int            `json:"statusCode,omitempty"`
	Error      string         `json:"error,omitempty"`
	At         time.Time      `json:"at"`
	DurationMS float64        `json:"durationMs"`
}

// Validate checks an attempt before it is recorded: it needs an order ID.
func (a PaymentAttempt) Validate() error {
	if a.OrderID == "" {
		return FieldError("orderId", "is required")
	}
	return nil
}

// Equal reports whether r and p are the same request, line by line (a
// PaymentRequest holds a slice, so == does not compile).
func (r PaymentRequest) Equal(p PaymentRequest) bool {
	return r.OrderID == p.OrderID && r.CustomerID == p.CustomerID && r.SKU == p.SKU && r.Quantity == p.Quantity &&
		slices.Equal(r.Lines, p.Lines)
}

// PaymentRequest is the request that charges or refunds order o: its SKU,
// Quantity and Lines as Order.WithLines makes them consistent.
func (o Order) PaymentRequest() PaymentRequest {
	o = o.WithLines()
	return PaymentRequest{OrderID: o.ID, CustomerID: o.CustomerID, SKU: o.SKU, Quantity: o.Quantity, Lines: o.Lines}
}
