package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/console"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/sqlite"
)

// newConsole serves a console over a fresh SQLite store seeded with the
// MacGuffin and one order.
func newConsole(t *testing.T, keys ...wimshttp.APIKey) (*httptest.Server, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := time.Now().UTC()
	if _, _, err := db.CreateOrder(ctx, wims.Order{ID: "order-1", CustomerID: "cust-<b>1</b>", SKU: wims.DefaultSKU, Quantity: 2,
		Status: wims.OrderPending, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(console.New(console.Options{Store: db, APIKeys: keys, StreamInterval: 50 * time.Millisecond}))
	t.Cleanup(srv.Close)
	return srv, db
}

// client is a browser-like client: cookies, no redirects followed.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf token in page:\n%s", page)
	}
	return m[1]
}

func login(t *testing.T, srv *httptest.Server, key string) *http.Client {
	t.Helper()
	c := client(t)
	_, page := get(t, c, srv.URL+"/ui/login")
	resp, _ := post(t, c, srv.URL+"/ui/login", url.Values{"csrf": {csrfOf(t, page)}, "key": {key}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("login with %q: %d %s", key, resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

func TestConsolePagesAndHeaders(t *testing.T) {
	srv, _ := newConsole(t)
	c := client(t)
	for path, want := range map[string]string{
		"/":                      "Orders by status",
		"/ui/":                   "Orders by status",
		"/ui/orders":             "order-1",
		"/ui/orders?status=PAID": "No orders in PAID",
		"/ui/orders/order-1":     "cust-&lt;b&gt;1&lt;/b&gt;",
		"/ui/inventory":          "MACGUFFIN-LX",
	} {
		resp, body := get(t, c, srv.URL+path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, want 200 containing %q:\n%s", path, resp.StatusCode, want, body)
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", path, got)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("GET %s: headers %v", path, resp.Header)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
			t.Errorf("GET %s: inline script or style", path)
		}
	}
	for _, path := range []string{"/ui/nope", "/ui/orders/missing"} {
		if resp, _ := get(t, c, srv.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/ui/static/console.css", "/ui/static/console.js"} {
		if resp, _ := get(t, c, srv.URL+path); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
	if resp, _ := get(t, c, srv.URL+"/ui/orders?status=NOPE"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad status filter = %d, want 400", resp.StatusCode)
	}
}

func TestConsoleAdjustNeedsCSRF(t *testing.T) {
	srv, db := newConsole(t)
	c := client(t)
	_, page := get(t, c, srv.URL+"/ui/inventory")
	token := csrfOf(t, page)
	adjust := srv.URL + "/ui/inventory/" + wims.DefaultSKU + "/adjust"
	for name, form := range map[string]url.Values{
		"no token":    {"delta": {"5"}, "reason": {"x"}},
		"wrong token": {"delta": {"5"}, "reason": {"x"}, "csrf": {token + "x"}},
	} {
		if resp, _ := post(t, c, adjust, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	// Another client's token is no good either.
	if resp, _ := post(t, client(t), adjust, url.Values{"delta": {"5"}, "reason": {"x"}, "csrf": {token}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("token without its session: %d, want 403", resp.StatusCode)
	}
	resp, _ := post(t, c, adjust, url.Values{"delta": {"5"}, "reason": {"restock"}, "csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adjust: %d", resp.StatusCode)
	}
	it, err := db.GetItem(context.Background(), wims.DefaultSKU)
	if err != nil || it.Quantity != 1_000_005 {
		t.Fatalf("after adjust: %+v %v", it, err)
	}
	if resp, body := post(t, c, adjust, url.Values{"delta": {"-99999999"}, "reason": {"x"}, "csrf": {token}}); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusConflict || !strings.Contains(body, `role="alert"`) {
		t.Errorf("oversized write-off: %d", resp.StatusCode)
	}
}

func TestConsoleLoginAndRoles(t *testing.T) {
	srv, _ := newConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
	anon := client(t)
	if resp, _ := get(t, anon, srv.URL+"/ui/orders"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, anon, srv.URL+"/ui/stream"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous stream: %d", resp.StatusCode)
	}
	_, page := get(t, anon, srv.URL+"/ui/login")
	if resp, body := post(t, anon, srv.URL+"/ui/login", url.Values{"csrf": {csrfOf(t, page)}, "key": {"wrong"}}); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
		t.Fatalf("wrong key: %d", resp.StatusCode)
	}
	if resp, _ := post(t, client(t), srv.URL+"/ui/login", url.Values{"key": {"admin-secret"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d", resp.StatusCode)
	}

	reader := login(t, srv, "read-secret")
	_, inv := get(t, reader, srv.URL+"/ui/inventory")
	if strings.Contains(inv, `class="adjust"`) {
		t.Error("read sees the adjust form")
	}
	_, ord := get(t, reader, srv.URL+"/ui/orders/order-1")
	if strings.Contains(ord, "cust-") {
		t.Error("read sees the customer")
	}
	resp, _ := post(t, reader, srv.URL+"/ui/inventory/"+wims.DefaultSKU+"/adjust", url.Values{"csrf": {csrfOf(t, inv)}, "delta": {"1"}, "reason": {"x"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("read adjusts: %d, want 403", resp.StatusCode)
	}

	admin := login(t, srv, "admin-secret")
	_, inv = get(t, admin, srv.URL+"/ui/inventory")
	if !strings.Contains(inv, `class="adjust"`) {
		t.Error("admin does not see the adjust form")
	}
	if resp, _ := post(t, admin, srv.URL+"/ui/logout", url.Values{"csrf": {csrfOf(t, inv)}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := get(t, admin, srv.URL+"/ui/inventory"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d, want a redirect to login", resp.StatusCode)
	}
}

func TestConsoleStream(t *testing.T) {
	srv, db := newConsole(t)
	c := client(t)
	get(t, c, srv.URL+"/ui/") // the session
	resp, err := c.Get(srv.URL + "/ui/stream?newest=1&order=order-1&detail=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	if _, err := db.ReserveStock(context.Background(), "order-1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	var got strings.Builder
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(got.String(), `"status":"RESERVED"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no RESERVED in the stream:\n%s", got.String())
		}
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(buf[:n])
	}
	if !strings.Contains(got.String(), "event: snapshot\ndata: {") || !strings.Contains(got.String(), `"newest":["order-1"]`) {
		t.Errorf("stream:\n%s", got.String())
	}
}

// rowRE matches an order's row (not the empty row template the script clones).
var rowRE = regexp.MustCompile(`<tr data-order-id="[^"]+">`)

func TestConsoleOrdersPagination(t *testing.T) {
	srv, db := newConsole(t)
	ctx := context.Background()
	for i := range 60 {
		at := time.Now().UTC()
		if _, _, err := db.CreateOrder(ctx, wims.Order{ID: fmt.Sprintf("page-%02d", i), CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1,
			Status: wims.OrderPending, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	c := client(t)
	_, first := get(t, c, srv.URL+"/ui/orders")
	if n := len(rowRE.FindAllString(first, -1)); n != 50 {
		t.Fatalf("first page: %d rows, want 50", n)
	}
	// The store stamps creation times, so order-1 (made first) is the oldest.
	if !strings.Contains(first, `"page-59"`) || strings.Contains(first, `"page-09"`) {
		t.Errorf("first page is not the newest 50: %v", rowRE.FindAllString(first, -1))
	}
	m := regexp.MustCompile(`href="(/ui/orders\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("no next link:\n%s", first)
	}
	_, second := get(t, c, srv.URL+strings.ReplaceAll(m[1], "&amp;", "&"))
	if n := len(rowRE.FindAllString(second, -1)); n != 11 {
		t.Errorf("second page: %d rows, want 11", n)
	}
	if !strings.Contains(second, `"page-09"`) || !strings.Contains(second, `"order-1"`) {
		t.Errorf("second page: %v", rowRE.FindAllString(second, -1))
	}
	if strings.Contains(second, `rel="next"`) || !strings.Contains(second, ">Newest<") {
		t.Error("second page links")
	}
}

func TestConsoleIsConsoleRequest(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/", true}, {"HEAD", "/", true}, {"POST", "/", false}, // POST / is the EventBridge wire API
		{"GET", "/ui", true}, {"GET", "/ui/orders", true}, {"POST", "/ui/login", true},
		{"GET", "/uix", false}, {"GET", "/orders", false}, {"GET", "/inventory", false},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if got := console.IsConsoleRequest(r); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestConsoleLoginThrottle(t *testing.T) {
	srv, _ := newConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin})
	c := client(t)
	_, page := get(t, c, srv.URL+"/ui/login")
	token := csrfOf(t, page)
	codes := []int{}
	for range 7 {
		resp, _ := post(t, c, srv.URL+"/ui/login", url.Values{"csrf": {token}, "key": {"guess"}})
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != http.StatusUnauthorized || codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Errorf("failed logins answered %v, want 401s then 429", codes)
	}
	// Even the right key waits: the throttle is checked before the key.
	if resp, _ := post(t, c, srv.URL+"/ui/login", url.Values{"csrf": {token}, "key": {"admin-secret"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right key while throttled: %d, want 429", resp.StatusCode)
	}
}
