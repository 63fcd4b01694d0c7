package retryafter_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wims/wims/internal/retryafter"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want retryafter.Value
	}{
		{"", retryafter.Value{}},
		{"0", retryafter.Value{OK: true}},
		{" 120 ", retryafter.Value{Delay: 2 * time.Minute, OK: true}},
		{"300", retryafter.Value{Delay: 5 * time.Minute, OK: true}},
		{"301", retryafter.Value{Delay: 5 * time.Minute, OK: true, Capped: true}},
		{"1.5", retryafter.Value{}},
		{"-3", retryafter.Value{Stop: true}},
		{"-x", retryafter.Value{}},
		{now.Add(90 * time.Second).Format(http.TimeFormat), retryafter.Value{Delay: 90 * time.Second, OK: true}},
	} {
		if got := retryafter.Parse(tc.v, now, 5*time.Minute); got != tc.want {
			t.Errorf("Parse(%q)=%+v, want %+v", tc.v, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "0", "", "Wed, 21 Oct 2015 07:28:00 GMT", "-5", "999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := retryafter.Parse(s, now, 5*time.Minute)
		if v.Delay < 0 || v.Delay > 5*time.Minute || (!v.OK && v.Delay != 0) || (v.Capped && !v.OK) || (v.Stop && v.OK) {
			t.Fatalf("Parse(%q)=%+v", s, v)
		}
	})
}
