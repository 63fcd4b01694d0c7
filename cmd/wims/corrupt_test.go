package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// TestCorruptConsumerStateIsRebuilt: a consumer's state file damaged while
// wims was down (a kill -9 mid-write, a bad disk) does not stall its
// component: wims notices, rebuilds the consumer and the orders move on.
func TestCorruptConsumerStateIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	onDir := func(c *Config) { c.DataDir, c.PaymentsURL = dir, payURL }
	a := startTestApp(t, onDir)
	a.putItem("CRP", 100, 1)
	first := a.placeOrder("c", 1, "CRP")
	waitStatus(t, a, first.ID, wims.OrderPaid)
	mustNil(t, a.Close())

	var damaged []string
	mustNil(t, filepath.Walk(filepath.Join(dir, "jetstream"), func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "o.dat" && strings.Contains(path, "payments") {
			damaged = append(damaged, path)
			return os.WriteFile(path, []byte("\x00garbage\xff\xfe not a consumer state"), 0o600)
		}
		return err
	}))
	if len(damaged) == 0 {
		t.Fatal("no payments consumer state file found to damage")
	}
	t.Logf("damaged %v", damaged)
	b := startTestApp(t, onDir)
	var ids []string
	for range 5 {
		ids = append(ids, b.placeOrder("c", 1, "CRP").ID)
	}
	for _, id := range ids {
		waitStatus(t, b, id, wims.OrderPaid)
	}
	// The rebuilt consumer starts from the stream's first message; nothing
	// already charged is charged again (DESIGN §5: exactly-once effects).
	for _, id := range append(ids, first.ID) {
		if n := mock.Charges(id); n != 1 {
			t.Errorf("order %s charged %d times", id, n)
		}
	}
	// The repair is an alert: a metric to page on, besides the ERROR log.
	code, body := b.do("GET", "/metrics", nil)
	if code != 200 || !strings.Contains(string(body), `wims_bus_consumer_repairs_total{consumer="wims_payments-dispatcher"} 1`) {
		t.Fatalf("metrics do not count the repair:\n%s", grepLines(string(body), "repairs"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
