package nats_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// Concurrent single publishes share atomic batches, every caller learns
// whether its own message was new, and the stored messages carry none of
// the batch's headers.
func TestPublish_ConcurrentCallersShareBatches(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir(), Registry: reg, SyncAlways: true})
	ctx := ctxT(t)
	subj := b.Subject("eventlog", "events")
	const workers, each = 64, 40
	// Every fourth id is already stored, so some batches are refused and
	// go one by one.
	for i := 0; i < workers*each; i += 4 {
		mustPublish(t, b, nats.Outgoing{Subject: subj, ID: "m-" + strconv.Itoa(i), Data: []byte("old")})
	}
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for j := range each {
				i := w*each + j
				dup, err := b.Publish(ctx, nats.Outgoing{Subject: subj, ID: "m-" + strconv.Itoa(i), Data: []byte("new")})
				if err != nil || dup != (i%4 == 0) {
					errs <- "m-" + strconv.Itoa(i) + ": duplicate " + strconv.FormatBool(dup) + ", err " + errString(err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := streamMsgs(t, b, nats.EventLog); got != workers*each {
		t.Fatalf("stream holds %d messages, want %d", got, workers*each)
	}
	if got := counter(t, reg, "wims_bus_atomic_batches_total", map[string]string{"result": "stored"}); got == 0 {
		t.Fatal("no publish shared an atomic batch")
	}
	recent, err := b.Recent(ctx, subj, 50, 10_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range recent {
		for k := range m.Header {
			if strings.HasPrefix(k, "Nats-Batch") {
				t.Fatalf("stored message %s carries header %s", m.ID, k)
			}
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
