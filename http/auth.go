package http

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/wims/wims"
)

// Role is what an API key may do.
type Role string

// Roles, from most to least powerful. admin may do everything; orders may
// create and read orders and read inventory (a shop front end); read may
// make GET requests only (dashboards, monitoring) and sees no customer
// identifiers (redact.go).
const (
	RoleAdmin  Role = "admin"
	RoleOrders Role = "orders"
	RoleRead   Role = "read"
)

// APIKey is a bearer token and the role it grants.
type APIKey struct {
	Key  string
	Role Role
}

// String never shows the key, so an APIKey is safe in logs and config dumps.
func (k APIKey) String() string {
	return "APIKey{role:" + string(k.Role) + ", key:" + Fingerprint(k.Key) + "}"
}

// ParseAPIKey parses "KEY[:ROLE]"; the role defaults to admin. Since a key
// may itself contain ':', the text after the last ':' must then name a role:
// a typo in the role is an error, not an admin key with a colon in it. A key
// is 1–256 visible ASCII characters other than ',' (the separator of
// WIMS_API_KEYS).
func ParseAPIKey(s string) (APIKey, error) {
	k := APIKey{Key: s, Role: RoleAdmin}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		k.Key, k.Role = s[:i], Role(s[i+1:])
		switch k.Role {
		case RoleAdmin, RoleOrders, RoleRead:
		default:
			return APIKey{}, fmt.Errorf("api key %s: role %q: want admin, orders or read", Fingerprint(k.Key), k.Role)
		}
	}
	if err := validKey(k.Key); err != nil {
		return APIKey{}, err
	}
	return k, nil
}

func validKey(key string) error {
	if key == "" || len(key) > 256 {
		return fmt.Errorf("api key must be 1-256 characters")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c > '~' || c == ',' {
			return fmt.Errorf("api key %s: must be visible ASCII characters other than ','", Fingerprint(key))
		}
	}
	return nil
}

// Fingerprint identifies a key without revealing it: "key-" and the first 12
// hex digits of its SHA-256. It names the key in logs and scopes its
// idempotency keys.
func Fingerprint(key string) string {
	sum := sha256.Sum256([]byte("wims/api-key/v1\x00" + key))
	return "key-" + hex.EncodeToString(sum[:6])
}

// principal is who a request acts as: a configured key, or anonymous when
// the server has no keys.
type principal struct {
	// scope is the key's full fingerprint (its idempotency-key namespace),
	// "" for anonymous.
	scope string
	role  Role
	// limiter is the key's rate limiter, nil when unlimited or anonymous
	// (anonymous requests are limited per client address).
	limiter *rate.Limiter
}

type principalKey struct{}

// principalFrom returns the request's principal; anonymous admin if none.
func principalFrom(ctx context.Context) principal {
	p, ok := ctx.Value(principalKey{}).(principal)
	if !ok {
		return principal{role: RoleAdmin}
	}
	return p
}

// keyEntry is one configured key's principal; the key itself is kept only
// as a digest, in ring at the same index.
type keyEntry struct {
	principal
}

// auth authenticates, rate-limits and authorises requests.
type auth struct {
	ring *KeyRing
	keys []keyEntry
	// rate is requests/s per key (or per client address without keys); 0
	// turns limiting off.
	rate  rate.Limit
	burst int

	mu  sync.Mutex
	ips map[string]*rate.Limiter // anonymous limiters by client address
}

// maxTrackedIPs bounds the anonymous limiters kept; beyond it, idle ones
// (whose bucket has refilled, so forgetting them changes nothing) are dropped.
const maxTrackedIPs = 10_000

func newAuth(keys []APIKey, perSecond float64) *auth {
	a := &auth{ips: map[string]*rate.Limiter{}, ring: NewKeyRing(keys)}
	if perSecond > 0 {
		a.rate = rate.Limit(perSecond)
		a.burst = max(1, int(math.Ceil(perSecond)))
	}
	for _, k := range keys {
		role := k.Role
		if role == "" {
			role = RoleAdmin
		}
		sum := sha256.Sum256([]byte("wims/api-key/v1\x00" + k.Key))
		e := keyEntry{principal: principal{
			scope: hex.EncodeToString(sum[:]), role: role,
		}}
		if a.rate > 0 {
			e.limiter = rate.NewLimiter(a.rate, a.burst)
		}
		a.keys = append(a.keys, e)
	}
	return a
}

// Errors of authentication, with the kinds that make them problems.
var (
	errNoCredentials  = wims.Errorf(wims.EUNAUTHORIZED, "This API needs an API key: send Authorization: Bearer <key>.")
	errBadCredentials = wims.Errorf(wims.EUNAUTHORIZED, "The API key is not valid.")
)

// lookup finds the principal of the key equal to token (KeyRing.Find).
func (a *auth) lookup(token string) (principal, bool) {
	i, ok := a.ring.Find(token)
	if !ok {
		return principal{}, false
	}
	return a.keys[i].principal, true
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (token string, present bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

// guard authenticates r, applies the rate limit and checks the route's
// roles. It returns r with its principal in the context, or the error to
// answer with (and sets WWW-Authenticate or Retry-After on w).
func (s *Server) guard(w http.ResponseWriter, r *http.Request, route string) (*http.Request, error) {
	acl, known := routeACL[route]
	if known && acl.public {
		return r, nil
	}
	a := s.auth
	p := principal{role: RoleAdmin}
	if len(a.keys) > 0 {
		token, present := bearer(r)
		if !present {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wims"`)
			return r, errNoCredentials
		}
		var ok bool
		if p, ok = a.lookup(token); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wims", error="invalid_token"`)
			return r, errBadCredentials
		}
	}
	lim := p.limiter
	if lim == nil && len(a.keys) == 0 && a.rate > 0 {
		lim = a.ipLimiter(clientIP(r))
	}
	if lim != nil {
		if err := limit(w, lim); err != nil {
			return r, err
		}
	}
	// Unmatched routes fall through to 404/405, which need no role.
	if known && !acl.allows(p.role, r.Method) {
		return r, wims.Errorf(wims.EFORBIDDEN, "The API key's role %q may not %s %s.", p.role, r.Method, r.URL.Path)
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), nil
}

// limit takes a token from lim or returns ERATELIMIT with Retry-After set to
// the whole seconds until one is available (at least 1).
func limit(w http.ResponseWriter, lim *rate.Limiter) error {
	now := time.Now()
	res := lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if res.OK() && delay == 0 {
		return nil
	}
	res.CancelAt(now) // the request is refused, so it must not use up the token
	secs := int(math.Ceil(delay.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	return wims.Errorf(wims.ERATELIMIT, "Too many requests; retry after %d s.", max(1, secs))
}

// ipLimiter returns the anonymous limiter of a client address.
func (a *auth) ipLimiter(ip string) *rate.Limiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	lim, ok := a.ips[ip]
	if ok {
		return lim
	}
	if len(a.ips) >= maxTrackedIPs {
		now := time.Now()
		for k, l := range a.ips {
			if l.TokensAt(now) >= float64(a.burst) {
				delete(a.ips, k)
			}
		}
	}
	lim = rate.NewLimiter(a.rate, a.burst)
	a.ips[ip] = lim
	return lim
}

// clientIP is the connection's peer address. Forwarded headers are not
// trusted: any client can set them.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// acl says who may use a route: public routes need no key; otherwise admin
// always may, and roles lists the others.
type acl struct {
	public bool
	roles  []Role
}

func (a acl) allows(role Role, method string) bool {
	if role == RoleAdmin {
		return true
	}
	for _, r := range a.roles {
		if r == role {
			return true
		}
	}
	// read may make any GET (or HEAD) request, by definition.
	return role == RoleRead && (method == http.MethodGet || method == http.MethodHead)
}
