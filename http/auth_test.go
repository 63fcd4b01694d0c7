package http_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

var testKeys = []wimshttp.APIKey{
	{Key: "admin-secret", Role: wimshttp.RoleAdmin},
	{Key: "orders-secret", Role: wimshttp.RoleOrders},
	{Key: "read-secret", Role: wimshttp.RoleRead},
	{Key: "orders-other", Role: wimshttp.RoleOrders},
}

func withKeys(o *wimshttp.Options) { o.APIKeys = testKeys }

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

func TestAuthentication(t *testing.T) {
	e := newEnv(t, withKeys)
	t.Run("HealthzIsPublic", func(t *testing.T) {
		e.do("GET", "/healthz", "").wantJSON(t, http.StatusOK)
	})
	for _, c := range []struct{ name, header, wantChallenge string }{
		{"None", "", `Bearer realm="wims"`},
		{"Unknown", "Bearer nope", `Bearer realm="wims", error="invalid_token"`},
		{"Prefix", "Bearer admin-secre", `Bearer realm="wims", error="invalid_token"`},
		{"Longer", "Bearer admin-secret2", `Bearer realm="wims", error="invalid_token"`},
		{"OtherScheme", "Basic YWRtaW4tc2VjcmV0", `Bearer realm="wims", error="invalid_token"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot()
			for _, req := range [][2]string{{"GET", "/inventory"}, {"POST", "/orders"}, {"GET", "/openapi.json"}, {"GET", "/metrics"}, {"GET", "/nope"}} {
				r := e.do(req[0], req[1], `{"customerId":"1","quantity":1}`, "Authorization", c.header)
				if c.header == "" {
					r = e.do(req[0], req[1], `{"customerId":"1","quantity":1}`)
				}
				r.wantProblem(t, http.StatusUnauthorized, "unauthorized", "")
				if got := r.header.Get("WWW-Authenticate"); got != c.wantChallenge {
					t.Fatalf("WWW-Authenticate = %q, want %q", got, c.wantChallenge)
				}
			}
			e.wantUnchanged(before)
		})
	}
	t.Run("KeysNeverLogged", func(t *testing.T) {
		e.do("GET", "/inventory", "", bearer("admin-secret")...).wantJSON(t, http.StatusOK)
		e.do("GET", "/inventory", "", bearer("wrong-secret")...)
		if logs := e.logs.String(); strings.Contains(logs, "secret") {
			t.Fatalf("a key reached the log: %s", logs)
		}
	})
	t.Run("CaseInsensitiveScheme", func(t *testing.T) {
		e.do("GET", "/inventory", "", "Authorization", "bearer read-secret").wantJSON(t, http.StatusOK)
	})
}

func TestRoles(t *testing.T) {
	e := newEnv(t, withKeys)
	item := `{"productName":"W","quantity":5}`
	order := `{"customerId":"c","quantity":1}`
	adjust := `{"delta":1}`
	tests := []struct {
		method, path, body  string
		admin, orders, read int
	}{
		{"GET", "/inventory", "", 200, 200, 200},
		{"GET", "/inventory/MACGUFFIN-LX", "", 200, 200, 200},
		{"PUT", "/inventory/W-1", item, 200, 403, 403},
		{"POST", "/inventory/MACGUFFIN-LX/adjustments", adjust, 200, 403, 403},
		{"POST", "/orders", order, 202, 202, 403},
		{"GET", "/orders", "", 200, 200, 200},
		{"POST", "/orders/no-such-order/cancel", "", 404, 404, 403},
		{"POST", "/orders/no-such-order/shipment", `{"carrier":"UPS","trackingId":"1Z"}`, 404, 403, 403},
		{"GET", "/events", "", 503, 403, 503},
		{"GET", "/dead-letters", "", 503, 403, 503},
		{"GET", "/traces/4bf92f3577b34da6a3ce929d0e0e4736", "", 503, 403, 503},
		{"POST", "/dead-letters/1/redrive", "", 503, 403, 403},
		{"GET", "/metrics", "", 200, 403, 200},
		{"GET", "/openapi.json", "", 200, 200, 200},
		{"GET", "/healthz", "", 200, 200, 200},
	}
	for _, tt := range tests {
		for key, want := range map[string]int{"admin-secret": tt.admin, "orders-secret": tt.orders, "read-secret": tt.read} {
			before := e.snapshot()
			r := e.do(tt.method, tt.path, tt.body, bearer(key)...)
			if r.status != want {
				t.Errorf("%s %s as %s = %d, want %d: %s", tt.method, tt.path, key, r.status, want, r.body)
			}
			if want == http.StatusForbidden {
				r.wantProblem(t, http.StatusForbidden, "forbidden", "")
				e.wantUnchanged(before)
			}
		}
	}
}

func TestParseAPIKey(t *testing.T) {
	for _, c := range []struct {
		in      string
		key     string
		role    wimshttp.Role
		wantErr bool
	}{
		{"abc", "abc", wimshttp.RoleAdmin, false},
		{"abc:read", "abc", wimshttp.RoleRead, false},
		{"abc:orders", "abc", wimshttp.RoleOrders, false},
		{"a:b:admin", "a:b", wimshttp.RoleAdmin, false},
		{"abc:reader", "", "", true},
		{"", "", "", true},
		{":read", "", "", true},
		{"a b", "", "", true},
		{"a,b", "", "", true},
	} {
		k, err := wimshttp.ParseAPIKey(c.in)
		if (err != nil) != c.wantErr || (err == nil && (k.Key != c.key || k.Role != c.role)) {
			t.Errorf("ParseAPIKey(%q) = %+v, %v", c.in, k, err)
		}
	}
	if _, err := wimshttp.ParseAPIKey("supersecret:reader"); err == nil || strings.Contains(err.Error(), "supersecret") {
		t.Errorf("error %v shows the key", err)
	}
	if s := (wimshttp.APIKey{Key: "topsecret", Role: wimshttp.RoleRead}).String(); strings.Contains(s, "topsecret") {
		t.Fatalf("String() = %q shows the key", s)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, withKeys, func(o *wimshttp.Options) { o.RateLimit = 2 })
	// Burst 2: two requests pass, the third is limited.
	for i := range 2 {
		e.do("GET", "/inventory", "", bearer("read-secret")...).wantJSON(t, http.StatusOK)
		_ = i
	}
	r := e.do("GET", "/inventory", "", bearer("read-secret")...)
	r.wantProblem(t, http.StatusTooManyRequests, "rate-limited", "")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// Buckets are per key: another key is not limited by this one's use.
	e.do("GET", "/inventory", "", bearer("admin-secret")...).wantJSON(t, http.StatusOK)
	// /healthz is never limited.
	for range 5 {
		e.do("GET", "/healthz", "").wantJSON(t, http.StatusOK)
	}
	// A limited POST changes nothing.
	e.do("POST", "/orders", `{"customerId":"c","quantity":1}`, bearer("orders-secret")...)
	e.do("POST", "/orders", `{"customerId":"c","quantity":1}`, bearer("orders-secret")...)
	before := e.snapshot()
	e.do("POST", "/orders", `{"customerId":"c","quantity":1}`, bearer("orders-secret")...).
		wantProblem(t, http.StatusTooManyRequests, "rate-limited", "")
	e.wantUnchanged(before)
}

func TestRateLimitAnonymous(t *testing.T) {
	e := newEnv(t, func(o *wimshttp.Options) { o.RateLimit = 1 })
	e.do("GET", "/inventory", "").wantJSON(t, http.StatusOK)
	e.do("GET", "/inventory", "").wantProblem(t, http.StatusTooManyRequests, "rate-limited", "")
}

func TestIdempotencyScopedPerKey(t *testing.T) {
	e := newEnv(t, withKeys)
	body := `{"customerId":"c","quantity":1}`
	a := e.do("POST", "/orders", body, append(bearer("orders-secret"), "Idempotency-Key", "k1")...).wantJSON(t, http.StatusAccepted)
	b := e.do("POST", "/orders", body, append(bearer("orders-other"), "Idempotency-Key", "k1")...).wantJSON(t, http.StatusAccepted)
	if a["orderId"] == b["orderId"] {
		t.Fatal("two API keys share an idempotency key's order")
	}
	if a["orderId"] == wimshttp.OrderIDForKey("k1") {
		t.Fatal("a keyed scope derived the anonymous id")
	}
	// The other key may use k1 with another body: it is its own key.
	e.do("POST", "/orders", `{"customerId":"d","quantity":2}`, append(bearer("admin-secret"), "Idempotency-Key", "k1")...).
		wantJSON(t, http.StatusAccepted)
	r := e.do("POST", "/orders", body, append(bearer("orders-secret"), "Idempotency-Key", "k1")...)
	if m := r.wantJSON(t, http.StatusAccepted); m["orderId"] != a["orderId"] || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %v", m)
	}
	if n := e.orderInserts(); n != 3 {
		t.Fatalf("orders = %d, want 3", n)
	}
}

// blockingStore holds CreateOrder until released, to keep a request in flight.
type blockingStore struct {
	wimshttp.Store
	entered chan struct{}
	release chan struct{}
	first   atomic.Bool
}

func (s *blockingStore) CreateOrder(ctx context.Context, o wims.Order) (wims.Order, bool, error) {
	if s.first.CompareAndSwap(false, true) {
		close(s.entered)
		<-s.release
	}
	return s.Store.CreateOrder(ctx, o)
}

func TestIdempotencyInFlight(t *testing.T) {
	bs := &blockingStore{entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, func(o *wimshttp.Options) { bs.Store = o.Store; o.Store = bs })
	body := `{"customerId":"c","quantity":1}`
	first := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("POST", e.srv.URL+"/orders", strings.NewReader(body))
		req.Header.Set("Idempotency-Key", "slow")
		res, err := e.srv.Client().Do(req)
		if err != nil {
			first <- response{}
			return
		}
		res.Body.Close()
		first <- response{status: res.StatusCode}
	}()
	select {
	case <-bs.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("first request never reached the store")
	}
	r := e.do("POST", "/orders", body, "Idempotency-Key", "slow")
	r.wantProblem(t, http.StatusConflict, "idempotency-key-in-flight", "Idempotency-Key")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After on 409")
	}
	// Another key is not held up.
	e.do("POST", "/orders", body, "Idempotency-Key", "fast").wantJSON(t, http.StatusAccepted)
	close(bs.release)
	if got := <-first; got.status != http.StatusAccepted {
		t.Fatalf("first request = %d", got.status)
	}
	// Once done, the key replays.
	r = e.do("POST", "/orders", body, "Idempotency-Key", "slow")
	if r.wantJSON(t, http.StatusAccepted); r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("not replayed after the first request finished")
	}
}
