package payments_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wims/wims/payments"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{"120", 2 * time.Minute, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"86400", 5 * time.Minute, true},                   // capped
		{"99999999999999999999999", 5 * time.Minute, true}, // overflows, still "long"
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(30 * time.Second).Format(time.RFC850), 30 * time.Second, true},
		{now.Add(30 * time.Second).Format(time.ANSIC), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true}, // in the past: now
		{now.Add(24 * time.Hour).Format(http.TimeFormat), 5 * time.Minute, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"1s", 0, false},
		{"Wed, 32 Oct 2026 07:28:00 GMT", 0, false},
	} {
		got, ok := payments.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q)=%s,%v, want %s,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0", "", "Wed, 21 Oct 2015 07:28:00 GMT", "-5", "999999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := payments.ParseRetryAfter(s, now)
		if d < 0 || d > 5*time.Minute || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q)=%s,%v", s, d, ok)
		}
	})
}
