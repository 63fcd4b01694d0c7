package nats_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// durableSizes merges the sync journal's records: the size each block file
// is known to be durable up to.
func durableSizes(t *testing.T, journal string) (map[string]int64, int) {
	t.Helper()
	f, err := os.Open(journal)
	if os.IsNotExist(err) {
		return map[string]int64{}, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sizes := map[string]int64{}
	rounds := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]int64
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("journal line %d: %v", rounds+1, err)
		}
		for k, v := range rec {
			sizes[k] = v
		}
		rounds++
	}
	return sizes, rounds
}

// blockSizes lists the block files of the stream that holds subject events,
// with their sizes, keyed as the journal keys them.
func blockSizes(t *testing.T, storeDir string) map[string]int64 {
	t.Helper()
	root := filepath.Join(storeDir, "jetstream")
	paths, err := filepath.Glob(filepath.Join(root, "*", "streams", "*", "msgs", "*.blk"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = st.Size()
	}
	return out
}

// uncovered lists the block files whose bytes go beyond what the journal
// says is durable.
func uncovered(t *testing.T, storeDir, journal string) []string {
	t.Helper()
	durable, _ := durableSizes(t, journal)
	var out []string
	for path, size := range blockSizes(t, storeDir) {
		if durable[path] < size {
			out = append(out, path+": "+strconv.FormatInt(durable[path], 10)+" of "+strconv.FormatInt(size, 10)+" bytes durable")
		}
	}
	return out
}

// With the store group-committed (SyncInterval), a publish returns only
// once its bytes are fsynced, many concurrent publishes share a round of
// fsyncs, and a Rebuildable message does not wait for one.
func TestStoreSync_PublishIsDurableWhenItReturns(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(t.TempDir(), "sync.journal")
	// The server's own interval is long, so only the group commit syncs.
	b := natstest.OpenConfig(t, nats.Config{StoreDir: dir, SyncInterval: time.Minute, SyncJournal: journal})
	ctx := ctxT(t)
	subj := b.Subject("eventlog", "events")

	mustPublish(t, b, nats.Outgoing{Subject: subj, ID: "one", Data: []byte("one")})
	if u := uncovered(t, dir, journal); len(u) > 0 {
		t.Fatalf("after Publish returned, not durable: %v", u)
	}

	_, roundsBefore := durableSizes(t, journal)
	if _, err := b.Publish(ctx, nats.Outgoing{Subject: subj, ID: "rebuilt", Data: []byte("x"), Rebuildable: true}); err != nil {
		t.Fatal(err)
	}
	if _, rounds := durableSizes(t, journal); rounds != roundsBefore {
		t.Errorf("a Rebuildable publish ran %d rounds of fsyncs, want none", rounds-roundsBefore)
	}
	if len(uncovered(t, dir, journal)) == 0 {
		t.Error("the Rebuildable message is durable already: the test cannot tell a wait from none")
	}

	// A batch with one message that is not Rebuildable waits for them all.
	n, err := b.PublishBatch(ctx, []nats.Outgoing{
		{Subject: subj, ID: "b1", Data: []byte("1"), Rebuildable: true},
		{Subject: subj, ID: "b2", Data: []byte("2")},
	})
	if err != nil || n != 2 {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	if u := uncovered(t, dir, journal); len(u) > 0 {
		t.Fatalf("after PublishBatch returned, not durable: %v", u)
	}

	_, roundsBefore = durableSizes(t, journal)
	const callers = 200
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			if _, err := b.Publish(ctx, nats.Outgoing{Subject: subj, ID: "c" + strconv.Itoa(i), Data: []byte("c")}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if u := uncovered(t, dir, journal); len(u) > 0 {
		t.Fatalf("after %d concurrent publishes returned, not durable: %v", callers, u)
	}
	_, rounds := durableSizes(t, journal)
	if rounds-roundsBefore >= callers {
		t.Errorf("%d concurrent publishes ran %d rounds of fsyncs: they share none", callers, rounds-roundsBefore)
	}
	t.Logf("%d concurrent publishes shared %d rounds of fsyncs", callers, rounds-roundsBefore)
}

// A dead letter is on disk before the original is let go: otherwise a power
// loss could take the copy while the original's Term survives.
func TestStoreSync_DeadLetterIsDurableBeforeTheOriginalGoes(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(t.TempDir(), "sync.journal")
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: dir, SyncInterval: time.Minute, SyncJournal: journal, Registry: reg})
	subj := b.Subject("events", "cdc")
	consume(t, b, nats.ConsumerSpec{Stream: nats.Events, Durable: "poisoned", FilterSubject: subj},
		func(context.Context, *wims.Message) error { return wims.Permanent(errors.New("poison")) })
	// Rebuildable, so that only the dead letter's wait can make anything
	// durable.
	if _, err := b.Publish(ctxT(t), nats.Outgoing{Subject: subj, ID: "p1", Data: []byte("{}"), Rebuildable: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() error {
		if n := counter(t, reg, "wims_bus_messages_handled_total", map[string]string{"consumer": "poisoned", "result": "deadletter"}); n != 1 {
			return fmt.Errorf("%v messages dead-lettered", n)
		}
		return nil
	})
	if u := uncovered(t, dir, journal); len(u) > 0 {
		t.Fatalf("after the dead letter was counted, not durable: %v", u)
	}
}
