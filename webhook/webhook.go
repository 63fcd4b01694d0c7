// Package webhook delivers JSON documents to HTTP endpoints, for the
// notifications target (--notify-webhook). It makes one
// attempt per call and classifies the outcome; the retries, backoff and
// dead-lettering come from the bus consumer that calls it (and the bound on
// attempts from package notify, which also counts throttled ones).
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

// DefaultMaxRetryAfter is the longest wait a Retry-After may ask for when
// Client.MaxRetryAfter is not set; it is the default of
// --payments-max-backoff, which `wims serve` passes on.
const DefaultMaxRetryAfter = 30 * time.Second

// Client posts JSON to webhooks.
type Client struct {
	HTTP    *http.Client
	Timeout time.Duration // per attempt, default 10s
	// MaxRetryAfter caps the delay a 429 or 503 answer's Retry-After can
	// ask for (default DefaultMaxRetryAfter), so a hostile or mistyped
	// value cannot park a notification for hours.
	MaxRetryAfter time.Duration
}

// Post sends body to url with the Idempotency-Key header set to id (so a
// receiver can drop a redelivered copy) and a traceparent if given. A 2xx is
// success. A 429 or 503 with Retry-After returns a wims.RetryAfter error
// (the delay capped at MaxRetryAfter), any
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
		if ra := retryafter.Parse(resp.Header.Get("Retry-After"), time.Now(), c.maxRetryAfter()); ra.OK {
			if ra.Capped {
				err = fmt.Errorf("%w (Retry-After capped at %s)", err, ra.Delay)
			}
			return wims.RetryAfter(ra.Delay, err)
		}
		return err
	case s >= 400 && s < 500 && s != http.StatusRequestTimeout:
		return wims.Permanent(fmt.Errorf("webhook refused with %d", s))
	default:
		return fmt.Errorf("webhook answered %d", s)
	}
}

func (c *Client) maxRetryAfter() time.Duration {
	if c.MaxRetryAfter > 0 {
		return c.MaxRetryAfter
	}
	return DefaultMaxRetryAfter
}

// RetryAfter parses a Retry-After header (delay seconds or an HTTP date),
// capped at an hour. Post applies the Client's own, shorter cap instead.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	ra := retryafter.Parse(v, now, time.Hour)
	return ra.Delay, ra.OK
}
