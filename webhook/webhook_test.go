package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/webhook"
)

func TestPostClassifiesResponses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		check      func(error) bool
	}{
		{"2xx ok", 204, "", func(err error) bool { return err == nil }},
		{"429 with Retry-After", 429, "3", func(err error) bool {
			var ra *wims.RetryAfterError
			return errors.As(err, &ra) && ra.Delay == 3*time.Second
		}},
		{"503 without Retry-After retries", 503, "", func(err error) bool { return err != nil && !wims.IsPermanent(err) }},
		{"400 is permanent", 400, "", wims.IsPermanent},
		{"408 retries", 408, "", func(err error) bool { return err != nil && !wims.IsPermanent(err) }},
		{"500 retries", 500, "", func(err error) bool { return err != nil && !wims.IsPermanent(err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotKey, gotTrace, gotType string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotKey, gotTrace, gotType = r.Header.Get("Idempotency-Key"), r.Header.Get("traceparent"), r.Header.Get("Content-Type")
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			err := (&webhook.Client{}).Post(context.Background(), srv.URL, "id-1", "00-abc-def-01", []byte(`{}`))
			if !tt.check(err) {
				t.Fatalf("Post = %v", err)
			}
			if gotKey != "id-1" || gotTrace != "00-abc-def-01" || gotType != "application/json" {
				t.Fatalf("headers: key %q trace %q type %q", gotKey, gotTrace, gotType)
			}
		})
	}
}

func TestPostConnectionErrorRetries(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := (&webhook.Client{Timeout: time.Second}).Post(context.Background(), url, "id", "", nil)
	if err == nil || wims.IsPermanent(err) {
		t.Fatalf("Post to a closed server = %v, want a retryable error", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5", 5 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"999999", time.Hour, true},
	}
	for _, tt := range tests {
		got, ok := webhook.RetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"5", "", "Wed, 21 Oct 2015 07:28:00 GMT", "-3", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := webhook.RetryAfter(s, time.Now())
		if d < 0 || d > time.Hour || (!ok && d != 0) {
			t.Fatalf("RetryAfter(%q) = %s, %v", s, d, ok)
		}
	})
}

// TestPostCapsRetryAfter: a receiver asking for an hour's wait gets at most
// MaxRetryAfter (and DefaultMaxRetryAfter without one), as the payments
// dispatcher caps it at --payments-max-backoff.
func TestPostCapsRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		max, want time.Duration
	}{{0, webhook.DefaultMaxRetryAfter}, {2 * time.Second, 2 * time.Second}} {
		err := (&webhook.Client{MaxRetryAfter: tt.max}).Post(context.Background(), srv.URL, "id", "", []byte(`{}`))
		var ra *wims.RetryAfterError
		if !errors.As(err, &ra) || ra.Delay != tt.want {
			t.Fatalf("MaxRetryAfter %s: Post = %v, want a retry after %s", tt.max, err, tt.want)
		}
	}
}
