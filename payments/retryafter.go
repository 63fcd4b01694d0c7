package payments

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps a server's Retry-After: a typo or a hostile value must
// not park the whole dispatcher for days.
const maxRetryAfter = 5 * time.Minute

// ParseRetryAfter parses a Retry-After header value (RFC 9110 §10.2.3):
// either a number of seconds or an HTTP date, which is taken relative to now.
// It returns false for a missing or malformed value, so the caller falls
// back to its own backoff. A date in the past gives 0; values above 5
// minutes are capped.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			// All digits but too many of them is still "a long time".
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return maxRetryAfter, true
			}
			return 0, false
		}
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}
