// Package paymentsmock is the mock payments API that wims ships and runs by
// default, so that a newcomer needs no external service to see an order go
// all the way to PAID.
//
// It is a real HTTP server, not a test fake: it behaves like the slow,
// throttled API of the course (a token bucket of 5 requests/s with a burst of
// 5), and it keeps the books an operator or a test needs to check the
// dispatcher's guarantees: how often each order was charged and refunded
// (never more than once), how many requests were throttled, and the most requests it admitted
// in any one-second window.
//
// # Protocol
//
//	POST /  Idempotency-Key: <key>  {"orderId","customerId","sku","quantity","lines"}
//	POST …/refunds  Idempotency-Key: refund:<orderId>  (the same body)
//
// The amount is Σ quantity × unit price over the lines ([{"sku","quantity"}],
// the order's), or quantity × unit price for a body without lines.
//
// A path ending in /refunds is a refund; any other path is a charge. Both
// share the token bucket and the answers below, except that a refund is
// answered 200 {"refundId","orderId","status":"REFUNDED","amount","currency"}
// and, for an order the mock never charged, 404 (declined for good).
//
// Answers, in the order they are checked:
//
//   - 429 with Retry-After (whole seconds, at least 1) when the token bucket is
//     empty. Throttled requests are not charged and not remembered.
//   - 405 for any method but POST.
//   - 400 without an Idempotency-Key, or for a body that is not a valid
//     request; 413 for a body over 64 KiB.
//   - 409 while a request with the same key is still being processed.
//   - 422 when a key is reused with a different request.
//   - the stored answer, with Idempotent-Replayed: true, when the key was
//     already answered with 200 or 402; nothing is charged again.
//   - 402 for a customer in Options.DeclineCustomers.
//   - 500 for a share Options.FailRate of requests (not remembered, so a
//     retry with the same key is processed afresh).
//   - 200 {"paymentId","orderId","status":"PAID","amount","currency"}.
//
// Errors are application/problem+json (RFC 9457) with a stable type.
package paymentsmock
