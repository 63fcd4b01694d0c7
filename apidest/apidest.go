// Package apidest invokes API destinations: it sends one event to a
// destination's HTTP endpoint, authenticated through its connection, and
// classifies the answer for the bus consumer that retries, backs off and
// dead-letters. It makes one attempt per call.
//
// # Behaviour and its sources
//
// [UG] is the EventBridge user guide page "API destinations"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html),
// [API] the API reference page HttpParameters.
//
//   - The URL is InvocationEndpoint with each '*' of its path replaced, in
//     order, by a PathParameterValues entry, path-escaped so a value cannot
//     add path segments ([API]: "path wildcards ("*")"). A count mismatch is
//     a permanent error: no retry can make the values fit.
//   - Query parameters and headers are the endpoint's own query, then the
//     target's HTTPParameters, then the connection's
//     InvocationHTTPParameters: "merged …, with any values from the
//     Connection taking precedence" ([API]).
//   - Content-Type is "application/json; charset=utf-8", as EventBridge
//     sends it ([UG] headers table); a header parameter may override it.
//     User-Agent is "wims", Idempotency-Key the event id, so a receiver can
//     drop a redelivered copy; parameters cannot override these or the
//     authorization.
//   - Authorization: API_KEY sends the header APIKeyName with the key,
//     BASIC sends basic auth, NONE nothing ([UG] Connections).
//   - 2xx is success. 401, 407, 409, 429 and 5xx are retried; 1xx, 3xx and
//     other 4xx are not ([UG] API destination error codes: "Retries events
//     associated with error codes 401, 407, 409, 429, and 5xx"). Redirects
//     are not followed, so a 3xx is a permanent failure, as it is there.
//     Timeouts and connection failures are retried ([UG]: "EventBridge
//     retries timed out requests").
//   - The timeout of one call is 5 s by default ([UG]: "a maximum client
//     execution timeout of 5 seconds").
//   - Retry-After (seconds or an HTTP date) on a retried answer sets the
//     delay, capped at MaxRetryAfter so that a typo or a hostile value
//     cannot park a destination for days; the error says whether the cap
//     applied. A negative value stops the retries ([UG]: "If Retry-After
//     value is negative, EventBridge stops retrying delivery for that
//     event"). Without Retry-After the error is plain, and the consumer's
//     exponential backoff is the default backoff: it grows with repeated
//     throttling, where a fixed default would keep hammering.
//   - Rate: see Limiter.
//
// The connection's secret goes only into the request's headers: errors
// name the destination, the method and the URL without its query, and
// never carry response bodies, which may echo the request's headers back.
package apidest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/wims/wims/internal/retryafter"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wims/wims"
)

// Defaults of Invoker.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultMaxRetryAfter = 5 * time.Minute
)

// maxResponseBody bounds how much of an answer is read: enough to reuse the
// connection for a normal answer, not enough for a huge one to cost much.
const maxResponseBody = 64 << 10

// UserAgent identifies wims to the receivers.
const UserAgent = "wims"

// Invoker sends events to API destinations. Its zero value is ready to use
// and it is safe for concurrent use.
type Invoker struct {
	// HTTP sends the requests (default: a client that does not follow
	// redirects, since EventBridge does not retry or follow a 3xx).
	HTTP *http.Client
	// Timeout bounds one call (default 5 s).
	Timeout time.Duration
	// MaxRetryAfter caps the delay a Retry-After can ask for (default 5 min).
	MaxRetryAfter time.Duration
	// Now resolves Retry-After dates (default time.Now).
	Now wims.Clock
}

// StatusError is a non-2xx answer. Invoke wraps it in wims.Permanent or
// wims.RetryAfter, or returns it alone, according to the status; errors.As
// finds it in all three.
type StatusError struct {
	Destination string
	StatusCode  int
	// RetryAfter is the delay asked for by the answer's Retry-After, after
	// the cap; HasRetryAfter says whether there was a usable one.
	RetryAfter    time.Duration
	HasRetryAfter bool
	// Capped reports that Retry-After asked for more than MaxRetryAfter.
	Capped bool
}

// Error implements the error interface.
func (e *StatusError) Error() string {
	s := fmt.Sprintf("api destination %s answered %d", e.Destination, e.StatusCode)
	if e.Capped {
		s += fmt.Sprintf(" (Retry-After capped at %s)", e.RetryAfter)
	}
	return s
}

// Retryable reports whether EventBridge retries an answer with this status.
func Retryable(status int) bool {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusProxyAuthRequired,
		status == http.StatusConflict, status == http.StatusTooManyRequests:
		return true
	case status >= 500:
		return true
	}
	return false
}

// Invoke sends body to d through c, with the target's params (nil for
// none), and returns:
//   - nil for a 2xx;
//   - a wims.RetryAfter error around a *StatusError for a retried status
//     with a Retry-After;
//   - a *StatusError for a retried status without one, and a plain error
//     for a timeout or a failed connection, for the consumer's backoff;
//   - a wims.Permanent error for any other status, a negative Retry-After,
//     or a destination the request cannot be built for (bad URL, path
//     parameters that do not fit, unknown authorization type).
func (i *Invoker) Invoke(ctx context.Context, d wims.APIDestination, c wims.Connection, params *wims.HTTPParameters, body []byte, idempotencyKey string) error {
	u, err := endpoint(d.InvocationEndpoint, params, c.InvocationHTTPParameters)
	if err != nil {
		return wims.Permanent(fmt.Errorf("api destination %s: %w", d.Name, err))
	}
	timeout := i.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, d.HTTPMethod, u.String(), bytes.NewReader(body))
	if err != nil {
		return wims.Permanent(fmt.Errorf("api destination %s: %s %s: bad request", d.Name, d.HTTPMethod, safeURL(u)))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for _, p := range []*wims.HTTPParameters{params, c.InvocationHTTPParameters} {
		if p != nil {
			for k, v := range p.HeaderParameters {
				req.Header.Set(k, v)
			}
		}
	}
	req.Header.Set("User-Agent", UserAgent)
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	switch c.AuthorizationType {
	case wims.AuthAPIKey:
		// An empty or malformed name would fail in Do as if the network had,
		// and be retried for a day; it is the connection that is wrong.
		if !validHeaderName(c.APIKeyName) {
			return wims.Permanent(fmt.Errorf("api destination %s: connection %s: API key name %q is not a header name", d.Name, c.Name, c.APIKeyName))
		}
		req.Header.Set(c.APIKeyName, c.Secret)
	case wims.AuthBasic:
		req.SetBasicAuth(c.Username, c.Secret)
	case wims.AuthNone, "":
	default:
		return wims.Permanent(fmt.Errorf("api destination %s: connection %s: unsupported authorization type %q", d.Name, c.Name, c.AuthorizationType))
	}

	hc := i.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, query included; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("api destination %s: %s %s: %w", d.Name, d.HTTPMethod, safeURL(u), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	_ = resp.Body.Close()

	s := resp.StatusCode
	if s >= 200 && s < 300 {
		return nil
	}
	se := &StatusError{Destination: d.Name, StatusCode: s}
	if !Retryable(s) {
		return wims.Permanent(se)
	}
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	maxDelay := i.MaxRetryAfter
	if maxDelay <= 0 {
		maxDelay = DefaultMaxRetryAfter
	}
	ra := retryafter.Parse(resp.Header.Get("Retry-After"), now(), maxDelay)
	switch {
	case ra.Stop:
		return wims.Permanent(fmt.Errorf("negative Retry-After: %w", se))
	case ra.OK:
		se.RetryAfter, se.HasRetryAfter, se.Capped = ra.Delay, true, ra.Capped
		return wims.RetryAfter(ra.Delay, se)
	}
	return se
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

var defaultClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// endpoint builds the request URL: path wildcards filled in, query merged.
func endpoint(raw string, target, conn *wims.HTTPParameters) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("invocation endpoint is not an absolute http(s) URL")
	}
	u.User = nil // credentials come from the connection, never the URL
	var values []string
	if target != nil {
		values = target.PathParameterValues
	}
	p := u.EscapedPath()
	if n := strings.Count(p, "*"); n != len(values) {
		return nil, fmt.Errorf("endpoint path %s has %d wildcards but the target gives %d path parameter values", p, n, len(values))
	}
	if len(values) > 0 {
		var b strings.Builder
		k := 0
		for _, r := range p {
			if r == '*' {
				b.WriteString(url.PathEscape(values[k]))
				k++
				continue
			}
			b.WriteRune(r)
		}
		u.RawPath = b.String()
		if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
			return nil, fmt.Errorf("endpoint path: %w", err)
		}
	}
	q := u.Query()
	for _, hp := range []*wims.HTTPParameters{target, conn} {
		if hp != nil {
			for k, v := range hp.QueryStringParameters {
				q.Set(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// safeURL is u for messages: no query, which may carry parameters the
// receiver treats as credentials.
func safeURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
