package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// TestDamagedEventsStreamIsRebuilt: garbage in the middle of the events
// stream's block file while wims was down loses what it held; wims starts,
// and every order still reaches PAID (the relay resumes from the stream's
// tail, the reconciler puts back orders whose events were lost).
func TestDamagedEventsStreamIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	_, payURL := fastPayments(t, paymentsmock.Options{})
	onDir := func(c *Config) {
		c.DataDir, c.PaymentsURL = dir, payURL
		c.ReconcileGrace = 2e9
	}
	a := startTestApp(t, onDir)
	a.putItem("DMG", 100, 1)
	var ids []string
	for range 20 {
		ids = append(ids, a.placeOrder("c", 1, "DMG").ID)
	}
	mustNil(t, a.Close())
	blocks, _ := filepath.Glob(filepath.Join(dir, "jetstream", "jetstream", "*", "streams", "WIMS_EVENTS", "msgs", "*.blk"))
	if len(blocks) == 0 {
		t.Fatal("no events block to damage")
	}
	f, err := os.OpenFile(blocks[0], os.O_RDWR, 0)
	mustNil(t, err)
	st, _ := f.Stat()
	_, err = f.WriteAt(make([]byte, st.Size()/3), st.Size()/3)
	mustNil(t, err)
	mustNil(t, f.Close())

	b := startTestApp(t, onDir)
	for range 3 {
		ids = append(ids, b.placeOrder("c", 1, "DMG").ID)
	}
	for _, id := range ids {
		waitStatus(t, b, id, wims.OrderPaid)
	}
	if it := b.item("DMG"); it.Quantity != 100-int64(len(ids)) {
		t.Fatalf("stock %d after %d orders", it.Quantity, len(ids))
	}
}
