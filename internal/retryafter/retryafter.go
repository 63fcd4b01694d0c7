// Package retryafter parses HTTP Retry-After headers for every client in
// wims that honours them (the payment dispatcher, API destinations, the V1
// architecture), with one cap rule: a hostile or mistyped value must not
// park a sender for longer than its caller allows.
package retryafter

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Value is a parsed Retry-After header.
type Value struct {
	// Delay is the wait asked for, at most the cap.
	Delay time.Duration
	// OK reports a usable value; Capped that it asked for more than the cap.
	OK, Capped bool
	// Stop reports a negative value: the receiver asks not to retry.
	Stop bool
}

// Parse parses a Retry-After value (RFC 9110 §10.2.3): a number of
// seconds or an HTTP date taken relative to now, capped at maxDelay. A date
// in the past means no wait. A missing or malformed value is not OK, so the
// caller falls back to its own backoff.
func Parse(v string, now time.Time, maxDelay time.Duration) Value {
	v = strings.TrimSpace(v)
	if v == "" {
		return Value{}
	}
	capAt := func(d time.Duration) Value {
		if d > maxDelay {
			return Value{Delay: maxDelay, OK: true, Capped: true}
		}
		return Value{Delay: max(d, 0), OK: true}
	}
	if v[0] == '-' {
		if _, err := strconv.ParseUint(v[1:], 10, 64); err == nil || isRange(err) {
			return Value{Stop: true}
		}
		return Value{}
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			// All digits but too many: still "a long time".
			if isRange(err) {
				return capAt(maxDelay + 1)
			}
			return Value{}
		}
		if n > uint64(maxDelay/time.Second)+1 {
			return capAt(maxDelay + 1)
		}
		return capAt(time.Duration(n) * time.Second)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return Value{}
	}
	return capAt(t.Sub(now))
}

func isRange(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}
