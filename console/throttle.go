package console

import (
	"net"
	"net/http"
	"sync"

	"golang.org/x/time/rate"
)

// Failed logins a client address may make: a burst of loginBurst, then one
// per second. Keys are long, so guessing is hopeless anyway; this keeps a
// script from trying at full speed and filling the log.
const (
	loginRate  = rate.Limit(1)
	loginBurst = 5
	// maxThrottled bounds the addresses tracked; beyond it the table
	// starts over, which only ever lets more attempts through.
	maxThrottled = 10_000
)

// loginThrottle limits failed logins per client address.
type loginThrottle struct {
	mu  sync.Mutex
	ips map[string]*rate.Limiter
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{ips: map[string]*rate.Limiter{}}
}

// allowed reports whether r's address may try a login now. It does not
// use up an attempt: only a failure does (failed).
func (t *loginThrottle) allowed(r *http.Request) bool {
	return t.limiter(r).Tokens() >= 1
}

// failed uses up one of r's address's attempts.
func (t *loginThrottle) failed(r *http.Request) {
	t.limiter(r).Allow()
}

func (t *loginThrottle) limiter(r *http.Request) *rate.Limiter {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip = host // the peer, never a forwarded header any client can set
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	lim, ok := t.ips[ip]
	if !ok {
		if len(t.ips) >= maxThrottled {
			clear(t.ips)
		}
		lim = rate.NewLimiter(loginRate, loginBurst)
		t.ips[ip] = lim
	}
	return lim
}
