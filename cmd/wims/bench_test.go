package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims/bench"
	"github.com/wims/wims/paymentsmock"
)

// TestBenchClosedAgainstV2 runs `wims bench` in-process against a started
// wims and checks the JSON report.
func TestBenchClosedAgainstV2(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"bench", "--url", a.url, "--mode", "closed", "--orders", "50",
		"--concurrency", "5", "--json", "--quiet", "--e2e-sample", "20"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("wims bench exit %d: %s", code, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout.String())
	}
	if rep.Sent != 50 || rep.Accepted != 50 || rep.Statuses["202"] != 50 || rep.Accept.N != 50 {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Accept.P50 <= 0 || rep.Accept.P99 < rep.Accept.P50 || rep.Accept.Max < rep.Accept.P99 {
		t.Fatalf("accept latency = %+v", rep.Accept)
	}
	if rep.Reserved == nil || rep.Reserved.Sampled != 20 || rep.Reserved.Reached != 20 ||
		rep.Paid == nil || rep.Paid.Reached != 20 {
		t.Fatalf("end-to-end = reserved %+v, paid %+v", rep.Reserved, rep.Paid)
	}
	if q := a.item("MACGUFFIN-LX").Quantity; q >= 1_000_000 {
		t.Fatalf("stock = %d: the orders did not reserve anything", q)
	}
}

// TestBenchDrain: --drain reports when every accepted order was RESERVED
// and PAID, after the accepts, with the ratios issue 12 sets goals for.
func TestBenchDrain(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"bench", "--url", a.url, "--mode", "closed", "--orders", "60",
		"--concurrency", "6", "--drain", "--e2e-sample", "0", "--json", "--quiet"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("wims bench exit %d: %s", code, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout.String())
	}
	d := rep.Drain
	if d == nil || d.TimedOut || d.AcceptSeconds <= 0 || d.AllReservedSeconds < d.AcceptSeconds ||
		d.AllPaidSeconds < d.AllReservedSeconds || d.ReservedRatio < 1 || d.PaidRatio < d.ReservedRatio {
		t.Fatalf("drain = %+v", d)
	}
	// Every order of the run was looked at: none is left short of PAID.
	for _, st := range []string{"PENDING", "RESERVED"} {
		if c, body := a.do("GET", "/orders?status="+st+"&limit=1", nil); c != 200 || !strings.Contains(string(body), `"orders":[]`) {
			t.Fatalf("%s orders after the drain: %d %s", st, c, body)
		}
	}
}

// TestBenchCourseAgainstV1 runs a small course benchmark against V1, where
// the inventory shows all of the sold quantity at once.
func TestBenchCourseAgainstV1(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startV1App(t, payURL)
	rep, err := bench.Run(context.Background(), bench.Options{
		URL: a.url, Mode: bench.ModeCourse, Rounds: 3, RoundSize: 5, E2ESample: 5, E2ETimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 15 || rep.Statuses["201"] != 15 {
		t.Fatalf("report = %+v", rep)
	}
	inv := rep.Inventory
	if inv == nil || inv.Sold < 15 || inv.AtOnce != inv.Sold || inv.After500ms != inv.Sold || inv.AtOncePct != 100 {
		t.Fatalf("inventory = %+v, want all of the sold quantity shown at once", inv)
	}
	if rep.Paid == nil || rep.Paid.Reached != 5 {
		t.Fatalf("paid = %+v", rep.Paid)
	}
	var text bytes.Buffer
	if err := bench.WriteText(&text, rep); err != nil || !strings.Contains(text.String(), "shown at once") {
		t.Fatalf("text report (%v):\n%s", err, text.String())
	}
}

// lockedBuffer is a bytes.Buffer safe to write from one goroutine while the
// test reads it from another.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBenchInterruptPrintsPartialReport runs a long `wims bench`, waits for
// its progress line on stderr, then cancels its context as Ctrl-C does: it
// must return, print the partial report marked interrupted and exit 130.
func TestBenchInterruptPrintsPartialReport(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL = payURL })
	out := interruptBench(t, "/s so far)", "bench", "--url", a.url, "--mode", "closed", "--duration", "1h", "--concurrency", "2")
	if !strings.Contains(out, "partial report") || !strings.Contains(out, "orders sent") {
		t.Fatalf("no partial report on stdout:\n%s", out)
	}
}

// TestBenchEventsInterruptPrintsPartialReport: the same for `wims bench
// events`.
func TestBenchEventsInterruptPrintsPartialReport(t *testing.T) {
	a := startTestApp(t, nil)
	out := interruptBench(t, "/s so far)", "bench", "events", "--url", a.url, "--rules", "1", "--duration", "1h",
		"--settle", "-1s", "--concurrency", "2")
	if !strings.Contains(out, "partial report") || !strings.Contains(out, "entries/s") {
		t.Fatalf("no partial report on stdout:\n%s", out)
	}
}

// interruptBench runs the command args, waits until its stderr shows
// progress, cancels its context (Ctrl-C) and checks that it returns (the
// minute is a hang detector, not a timing bound) with status 130 and says
// so; it returns the command's stdout.
func interruptBench(t *testing.T, progress string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), &stdout, &stderr) }()
	eventually(t, time.Minute, func() error {
		if !strings.Contains(stderr.String(), progress) {
			return fmt.Errorf("no progress line yet; stderr: %q", stderr.String())
		}
		return nil
	})
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%v still running a minute after the interrupt; stdout:\n%s", args, stdout.String())
	}
	out, errs := stdout.String(), stderr.String()
	if code != 130 || !strings.Contains(errs, "wims: bench: interrupted") {
		t.Fatalf("exit %d, want 130 and the interrupt on stderr:\n%s", code, errs)
	}
	if !strings.HasPrefix(out, "interrupted") {
		t.Fatalf("the report does not start with the interrupted marker:\n%s", out)
	}
	return out
}
