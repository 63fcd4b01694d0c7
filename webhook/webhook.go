// Package webhook delivers JSON documents to HTTP endpoints, for the
// notifications target (--notify-webhook). It makes one
// attempt per call and classifies the outcome; the retries, backoff and
// dead-lettering come from the bus consumer that calls it.
package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/internal/retryafter"
)

// Client posts JSON to webhooks.
type Client struct {
	HTTP    *http.Client
	Timeout time.Duration // per attempt, default 10s
}

// Post sends body to url with the Idempotency-Key header set to id (so a
// receiver can drop a redelivered copy) and a traceparent if given. A 2xx is
// success. A 429 or 503 with Retry-After returns a wims.RetryAfter error, any
// other 4xx a wims.Permanent error (the receiver refuses it; retrying cannot
// help), and anything else a plain error to be retried with backoff.
func (c *Client) Post(ctx context.Context, url, id, traceParent string, body []byte) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return wims.Permanent(fmt.Errorf("webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wims-webhook/1")
	req.Header.Set("Idempotency-Key", id)
	if traceParent != "" {
		req.Header.Set("traceparent", traceParent)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("webhook post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		err := fmt.Errorf("webhook answered %d", s)
		if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return wims.RetryAfter(d, err)
		}
		return err
	case s >= 400 && s < 500 && s != http.StatusRequestTimeout:
		return wims.Permanent(fmt.Errorf("webhook refused with %d", s))
	default:
		return fmt.Errorf("webhook answered %d", s)
	}
}

// RetryAfter parses a Retry-After header (delay seconds or an HTTP date),
// capped at an hour.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	ra := retryafter.Parse(v, now, time.Hour)
	return ra.Delay, ra.OK
}
