package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/wims/wims/internal/retryafter"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/wims/wims"
)

// maxDrain bounds how much of an answer is read (and thrown away) so the
// connection can be reused; nothing in a body is needed.
const maxDrain = 64 << 10

// busyRetry is how long to wait before retrying a payment the API reports as
// in flight elsewhere (409): the other request is usually done by then.
const busyRetry = time.Second

// result is the classified outcome of one call.
type result struct {
	outcome  wims.PaymentOutcome
	status   int           // 0 when no answer arrived
	err      error         // why it was not paid; safe to record: no URL, body or customer data
	delay    time.Duration // for PaymentThrottled: how long to wait
	hasDelay bool          // the API said how long (Retry-After)
	capped   bool          // it said longer than MaxBackoff, and was capped
	took     time.Duration
}

// send makes one call. It returns an error only when ctx ended, in which case
// the outcome is unknown and nothing should be recorded.
func (d *Dispatcher) send(ctx context.Context, endpoint, key string, req wims.PaymentRequest, traceparent string) (result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return result{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(rctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return result{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("Idempotency-Key", key)
	if traceparent != "" {
		hreq.Header.Set(wims.HeaderTraceParent, traceparent)
	}

	start := time.Now()
	resp, err := d.opt.Client.Do(hreq)
	if err != nil {
		took := time.Since(start)
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		return result{outcome: wims.PaymentError, err: transportError(err, d.opt.Timeout), took: took}, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
	r := classify(resp.StatusCode)
	r.took = time.Since(start)
	if r.outcome == wims.PaymentThrottled {
		if resp.StatusCode == http.StatusConflict {
			r.delay, r.hasDelay = busyRetry, true
		} else {
			// Capped at MaxBackoff: one hostile Retry-After must not stall
			// every payment for longer than a failing API would.
			ra := retryafter.Parse(resp.Header.Get("Retry-After"), d.opt.Now(), d.opt.MaxBackoff)
			r.delay, r.hasDelay, r.capped = ra.Delay, ra.OK, ra.Capped
		}
	}
	return r, nil
}

// classify maps a status code to an outcome, per the payments API contract:
// 2xx paid; 429 and 503 throttled; other 4xx declined for good; the rest
// (5xx, and 3xx, which a POST must not follow) a failure to retry.
//
// Two 4xx codes are not declines: 409 means another request with the same
// Idempotency-Key is in flight (declining would mark the order failed while
// that request charges it), so it is treated like throttling; 408 means the
// request never reached the payment logic, so it is a failure to retry.
func classify(status int) result {
	switch {
	case status >= 200 && status < 300:
		return result{outcome: wims.PaymentPaid, status: status}
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusConflict:
		return result{outcome: wims.PaymentThrottled, status: status, err: statusError(status)}
	case status == http.StatusRequestTimeout:
		return result{outcome: wims.PaymentError, status: status, err: statusError(status)}
	case status >= 400 && status < 500:
		return result{outcome: wims.PaymentDeclined, status: status, err: statusError(status)}
	default:
		return result{outcome: wims.PaymentError, status: status, err: statusError(status)}
	}
}

// statusError describes an answer by its status alone; bodies may echo the
// request, so they are never recorded.
func statusError(status int) error {
	return fmt.Errorf("payments API answered %d %s", status, http.StatusText(status))
}

// transportError describes a failed call without the URL, which may carry
// credentials in its user info or query.
func transportError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("payments API timed out after %s", timeout)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		if ue.Timeout() {
			return fmt.Errorf("payments API timed out after %s", timeout)
		}
		return fmt.Errorf("payments API %s: %v", ue.Op, ue.Err)
	}
	return fmt.Errorf("payments API: %v", err)
}
