package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims/postgres/pgtest"
)

// bench compare runs the same burst against V1, V2 and V2 on PostgreSQL,
// each a real wims process on fresh data, and every run drains.
func TestBenchCompare(t *testing.T) {
	bin := buildWims(t)
	var progress bytes.Buffer
	runs, err := runCompare(t.Context(), compareOptions{
		Orders: 40, Concurrency: 4, PaymentsRate: 100000, Timeout: time.Minute,
		Postgres: pgtest.URL(t), Binary: bin,
	}, &progress)
	if err != nil {
		t.Fatalf("runCompare: %v\n%s", err, progress.String())
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	for _, r := range runs {
		if r.Error != "" || r.Report == nil {
			t.Fatalf("%s: %s\n%s", r.Name, r.Error, progress.String())
		}
		d := r.Report.Drain
		if r.Report.Accepted != 40 || d == nil || d.TimedOut || d.AllPaidSeconds <= 0 {
			t.Fatalf("%s: accepted %d, drain %+v", r.Name, r.Report.Accepted, d)
		}
	}
	var out bytes.Buffer
	if err := writeCompareTable(&out, runs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"V1 (synchronous, SQLite)", "V2 (event-driven, SQLite)", "V2 (event-driven, PostgreSQL)", "all RESERVED"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// Bad flags are refused before anything starts (Binary names nothing, so
// a start would fail differently).
func TestBenchCompareRefusesBadFlags(t *testing.T) {
	if _, err := runCompare(t.Context(), compareOptions{Orders: 0, Concurrency: 1, PaymentsRate: 1, Binary: "/nonexistent"}, &bytes.Buffer{}); err == nil {
		t.Fatal("--orders 0 accepted")
	}
	if _, err := runCompare(t.Context(), compareOptions{Orders: 1, Concurrency: 1, PaymentsRate: 1, Postgres: "mysql://x", Binary: "/nonexistent"}, &bytes.Buffer{}); err == nil {
		t.Fatal("a non-postgres URL accepted")
	} else if !strings.Contains(err.Error(), "not a postgres:// URL") {
		t.Fatalf("error %q does not name the bad URL", err)
	}
}
