package apidest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/apidest"
)

const secret = "s3cr3t-value-never-shown"

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// recorder is an API that records the requests it gets and answers with
// the status and headers a test sets.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
	status int
	header http.Header
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r)
	rec.bodies = append(rec.bodies, string(body))
	status, header := rec.status, rec.header
	rec.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	// Echo the auth headers back, as httpbin does: they must not reach errors.
	_, _ = w.Write([]byte(r.Header.Get("X-Api-Key") + r.Header.Get("Authorization")))
}

func (rec *recorder) last(t *testing.T) *http.Request {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) == 0 {
		t.Fatal("no request received")
	}
	return rec.reqs[len(rec.reqs)-1]
}

func newServer(t *testing.T) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

func dest(url string) wims.APIDestination {
	return wims.APIDestination{Name: "orders-api", ConnectionName: "c", InvocationEndpoint: url, HTTPMethod: "POST", InvocationRateLimitPerSecond: 10}
}

var apiKey = wims.Connection{Name: "c", AuthorizationType: wims.AuthAPIKey, APIKeyName: "X-Api-Key", Secret: secret}

func TestAuthorization(t *testing.T) {
	rec, srv := newServer(t)
	inv := &apidest.Invoker{Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name  string
		conn  wims.Connection
		check func(t *testing.T, r *http.Request)
	}{
		{"APIKey", apiKey, func(t *testing.T, r *http.Request) {
			if got := r.Header.Get("X-Api-Key"); got != secret {
				t.Fatalf("X-Api-Key=%q", got)
			}
			if r.Header.Get("Authorization") != "" {
				t.Fatal("unexpected Authorization")
			}
		}},
		{"Basic", wims.Connection{Name: "c", AuthorizationType: wims.AuthBasic, Username: "bob", Secret: secret}, func(t *testing.T, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "bob" || p != secret {
				t.Fatalf("BasicAuth=%q %q %v", u, p, ok)
			}
		}},
		{"None", wims.Connection{Name: "c", AuthorizationType: wims.AuthNone}, func(t *testing.T, r *http.Request) {
			if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" {
				t.Fatal("unexpected credentials")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := inv.Invoke(context.Background(), dest(srv.URL+"/orders"), tc.conn, nil, []byte(`{"a":1}`), "evt-1"); err != nil {
				t.Fatal(err)
			}
			r := rec.last(t)
			tc.check(t, r)
			if got := r.Header.Get("Idempotency-Key"); got != "evt-1" {
				t.Fatalf("Idempotency-Key=%q", got)
			}
			if got := r.Header.Get("User-Agent"); got != "wims" {
				t.Fatalf("User-Agent=%q", got)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type=%q", got)
			}
			if r.Method != "POST" || r.URL.Path != "/orders" {
				t.Fatalf("%s %s", r.Method, r.URL)
			}
			if got := rec.bodies[len(rec.bodies)-1]; got != `{"a":1}` {
				t.Fatalf("body=%q", got)
			}
		})
	}
}

func TestRequestParameters(t *testing.T) {
	rec, srv := newServer(t)
	inv := &apidest.Invoker{}
	d := dest(srv.URL + "/v1/*/orders/*?fixed=1&shared=endpoint")
	d.HTTPMethod = "PUT"
	conn := apiKey
	conn.InvocationHTTPParameters = &wims.HTTPParameters{
		HeaderParameters:      map[string]string{"X-Tenant": "from-connection", "X-Conn": "c"},
		QueryStringParameters: map[string]string{"shared": "connection", "conn": "c"},
	}
	target := &wims.HTTPParameters{
		PathParameterValues:   []string{"eu west", "o/1"},
		HeaderParameters:      map[string]string{"X-Tenant": "from-target", "X-Target": "t", "User-Agent": "spoof", "X-Api-Key": "spoof", "Content-Type": "application/vnd.x+json"},
		QueryStringParameters: map[string]string{"shared": "target", "tgt": "t"},
	}
	if err := inv.Invoke(context.Background(), d, conn, target, []byte(`{}`), "evt-2"); err != nil {
		t.Fatal(err)
	}
	r := rec.last(t)
	if r.Method != "PUT" {
		t.Fatalf("method=%s", r.Method)
	}
	if got, want := r.URL.EscapedPath(), "/v1/eu%20west/orders/o%2F1"; got != want {
		t.Fatalf("path=%s, want %s", got, want)
	}
	q := r.URL.Query()
	for k, want := range map[string]string{"fixed": "1", "shared": "connection", "conn": "c", "tgt": "t"} {
		if got := q.Get(k); got != want {
			t.Fatalf("query %s=%q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]string{"X-Tenant": "from-connection", "X-Conn": "c", "X-Target": "t",
		"User-Agent": "wims", "X-Api-Key": secret, "Content-Type": "application/vnd.x+json", "Idempotency-Key": "evt-2"} {
		if got := r.Header.Get(k); got != want {
			t.Fatalf("header %s=%q, want %q", k, got, want)
		}
	}
}

func TestPathParameterMismatchIsPermanent(t *testing.T) {
	_, srv := newServer(t)
	inv := &apidest.Invoker{}
	for _, values := range [][]string{nil, {"a", "b"}} {
		err := inv.Invoke(context.Background(), dest(srv.URL+"/x/*"), apiKey, &wims.HTTPParameters{PathParameterValues: values}, nil, "e")
		if !wims.IsPermanent(err) {
			t.Fatalf("values %v: err=%v, want permanent", values, err)
		}
	}
}

// TestClassification follows the user guide's API destination error codes:
// 401, 407, 409, 429 and 5xx are retried, other statuses are not.
func TestClassification(t *testing.T) {
	rec, srv := newServer(t)
	inv := &apidest.Invoker{Now: func() time.Time { return now }, MaxRetryAfter: time.Minute}
	type want int
	const (
		ok want = iota
		permanent
		retryAfter
		retry
	)
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		want       want
		delay      time.Duration
		capped     bool
	}{
		{"200", 200, "", ok, 0, false},
		{"201", 201, "", ok, 0, false},
		{"204", 204, "", ok, 0, false},
		{"301", 301, "", permanent, 0, false},
		{"400", 400, "", permanent, 0, false},
		{"401", 401, "", retry, 0, false},
		{"403", 403, "", permanent, 0, false},
		{"404", 404, "", permanent, 0, false},
		{"407", 407, "", retry, 0, false},
		{"408", 408, "", permanent, 0, false},
		{"409", 409, "", retry, 0, false},
		{"422", 422, "", permanent, 0, false},
		{"429", 429, "", retry, 0, false},
		{"429Seconds", 429, "7", retryAfter, 7 * time.Second, false},
		{"429Date", 429, now.Add(30 * time.Second).Format(http.TimeFormat), retryAfter, 30 * time.Second, false},
		{"429PastDate", 429, now.Add(-time.Hour).Format(http.TimeFormat), retryAfter, 0, false},
		{"429Huge", 429, "99999999999999999999999", retryAfter, time.Minute, true},
		{"429HugeDate", 429, now.Add(48 * time.Hour).Format(http.TimeFormat), retryAfter, time.Minute, true},
		{"429JustOverCap", 429, "61", retryAfter, time.Minute, true},
		{"429Garbage", 429, "soon", retry, 0, false},
		{"429Negative", 429, "-1", permanent, 0, false},
		{"500", 500, "", retry, 0, false},
		{"502", 502, "", retry, 0, false},
		{"503Seconds", 503, "2", retryAfter, 2 * time.Second, false},
		{"500WithRetryAfter", 500, "3", retryAfter, 3 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.status, rec.header = tc.status, http.Header{}
			if tc.retryAfter != "" {
				rec.header.Set("Retry-After", tc.retryAfter)
			}
			if tc.status == 301 {
				rec.header.Set("Location", "/elsewhere")
			}
			rec.mu.Unlock()
			err := inv.Invoke(context.Background(), dest(srv.URL), apiKey, nil, []byte(`{}`), "e")
			if strings.Contains(errString(err), secret) {
				t.Fatalf("secret in error: %v", err)
			}
			var ra *wims.RetryAfterError
			var se *apidest.StatusError
			switch tc.want {
			case ok:
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			case permanent:
				if !wims.IsPermanent(err) {
					t.Fatalf("err=%v, want permanent", err)
				}
			case retryAfter:
				if !errors.As(err, &ra) || wims.IsPermanent(err) {
					t.Fatalf("err=%v, want RetryAfter", err)
				}
				if ra.Delay != tc.delay {
					t.Fatalf("delay=%s, want %s", ra.Delay, tc.delay)
				}
			case retry:
				if err == nil || wims.IsPermanent(err) || errors.As(err, &ra) {
					t.Fatalf("err=%v, want a plain error", err)
				}
			}
			if !errors.As(err, &se) || se.StatusCode != tc.status {
				t.Fatalf("err=%v, want a StatusError with %d", err, tc.status)
			}
			if se.Capped != tc.capped {
				t.Fatalf("Capped=%v, want %v", se.Capped, tc.capped)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	conn := apiKey
	conn.InvocationHTTPParameters = &wims.HTTPParameters{QueryStringParameters: map[string]string{"token": secret}}
	err = (&apidest.Invoker{}).Invoke(context.Background(), dest("http://"+addr+"/x"), conn, nil, nil, "e")
	if err == nil || wims.IsPermanent(err) {
		t.Fatalf("err=%v, want a retryable error", err)
	}
	var ra *wims.RetryAfterError
	if errors.As(err, &ra) {
		t.Fatalf("err=%v, want a plain error", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("secret in error: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	conn := wims.Connection{Name: "c", AuthorizationType: wims.AuthBasic, Username: "u", Secret: secret}
	err := (&apidest.Invoker{Timeout: 50 * time.Millisecond}).Invoke(context.Background(), dest(srv.URL+"?k="+secret), conn, nil, nil, "e")
	if err == nil || wims.IsPermanent(err) {
		t.Fatalf("err=%v, want a retryable error", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err=%v, want a deadline", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("secret in error: %v", err)
	}
}

func TestBadConfigIsPermanent(t *testing.T) {
	_, srv := newServer(t)
	inv := &apidest.Invoker{}
	for name, tc := range map[string]struct {
		d wims.APIDestination
		c wims.Connection
	}{
		"NotHTTP":      {dest("ftp://x/y"), apiKey},
		"EmptyKeyName": {dest(srv.URL), wims.Connection{Name: "c", AuthorizationType: wims.AuthAPIKey, Secret: secret}},
		"BadKeyName":   {dest(srv.URL), wims.Connection{Name: "c", AuthorizationType: wims.AuthAPIKey, APIKeyName: "X Key", Secret: secret}},
		"BadAuthType":  {dest(srv.URL), wims.Connection{Name: "c", AuthorizationType: "OAUTH_CLIENT_CREDENTIALS", Secret: secret}},
	} {
		err := inv.Invoke(context.Background(), tc.d, tc.c, nil, nil, "e")
		if !wims.IsPermanent(err) {
			t.Fatalf("%s: err=%v, want permanent", name, err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: secret in error: %v", name, err)
		}
	}
}
