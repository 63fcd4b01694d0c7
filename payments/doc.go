// Package payments drains the payments work queue into the payments API.
//
// The course's pipe sent queue messages to a 5 requests/s API as fast as they
// came and relied on redelivery to mop up the 429s. The Dispatcher instead
// keeps the API's rate itself: every request first waits on one token bucket
// (burst 1, so requests are evenly spaced) shared by all goroutines calling
// Handle, and a semaphore bounds how many are in flight, so a slow API is
// still driven at its full rate. When the API throttles anyway (another
// client, a lower limit than configured) the whole dispatcher pauses until
// the Retry-After has passed.
//
// Each payment carries Idempotency-Key: <orderId>, so a request that is sent
// again after a timeout or a redelivery is never charged twice; on top of
// that, Handle does not call the API at all for an order that is already
// PAID, PAYMENT_FAILED or REJECTED.
//
// Every call is recorded as a wims.PaymentAttempt. Only failures
// (wims.PaymentError: 5xx, timeouts, connection errors) count toward
// wims.MaxPaymentFailures; throttling is the API working as designed and only
// delays a payment. Once an order has that many failures Handle returns a
// wims.Permanent error, so the consumer dead-letters the message where it is
// visible and can be redriven; the order keeps its stock and stays RESERVED.
package payments
