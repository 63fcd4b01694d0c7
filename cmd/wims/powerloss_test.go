package main

// The power-loss test (issue 12): with the bus's fsyncs group-committed
// (the default --bus-sync), a power loss may take from the embedded
// JetStream store whatever was written after its last fsync. A SIGKILL
// alone takes nothing (the kernel keeps the written pages), so after each
// kill the test throws that part away itself: the hidden --bus-sync-journal
// flag makes wims log, for every group commit, the size each block file
// was fsynced up to, and the test cuts every block file back to a point
// between that size and its size at the kill (all of it on some cycles) and
// deletes the blocks created since. The stream index files go too, as if
// never written, and the consumers' state files stay as they were, ahead
// of the streams. What JetStream fsynced on its own timer is thrown away
// with the rest, which only makes the loss larger than a real one.
//
// Then every guarantee is checked as after the plain kills: acknowledged
// orders are there and PAID, charged once, stock is conserved, every order
// change reaches a webhook as exactly one event, the event log has every
// one of them and no duplicate, and every entry PutEvents acknowledged reaches its rule's
// target.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncedSizes merges the lines of a sync journal that were written whole:
// the size each block file (by its path under the store) was fsynced up to.
func syncedSizes(t *testing.T, journal string) map[string]int64 {
	t.Helper()
	sizes := map[string]int64{}
	readJournalFrom(t, journal, 0, sizes)
	return sizes
}

// loseUnsyncedTail throws away from the store under dataDir what a power
// loss may take (see the file comment): on each block file, everything
// after a point between what the journal says was fsynced and its size,
// chosen by rng, or all of it when all is set. It returns the bytes thrown
// away per stream.
func loseUnsyncedTail(t *testing.T, dataDir, journal string, rng *rand.Rand, all bool) map[string]int64 {
	t.Helper()
	root := filepath.Join(dataDir, "jetstream", "jetstream")
	synced := syncedSizes(t, journal)
	blocks, err := filepath.Glob(filepath.Join(root, "*", "streams", "*", "msgs", "*.blk"))
	if err != nil {
		t.Fatal(err)
	}
	lost := map[string]int64{}
	for _, path := range blocks {
		rel, _ := filepath.Rel(root, path)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		durable, known := synced[rel]
		if !known && !newerThanSynced(rel, synced) {
			continue // older than every block the journal names: fsynced before them
		}
		if st.Size() <= durable {
			continue
		}
		keep := durable
		if !all {
			keep += rng.Int64N(st.Size() - durable + 1)
		}
		stream := strings.Split(rel, string(filepath.Separator))[2]
		lost[stream] += st.Size() - keep
		if keep == 0 && !known {
			// A block created after the last fsync: its directory entry
			// may be gone too.
			err = os.Remove(path)
		} else {
			err = os.Truncate(path, keep)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// The stream states, which the server rebuilds from the blocks.
	indexes, _ := filepath.Glob(filepath.Join(root, "*", "streams", "*", "msgs", "index.db"))
	for _, path := range indexes {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	return lost
}

// waitUnsyncedEvents polls until the events stream's newest block holds
// bytes the journal does not call fsynced, or timeout; it reports which.
func waitUnsyncedEvents(t *testing.T, dataDir, journal string, timeout time.Duration) bool {
	t.Helper()
	root := filepath.Join(dataDir, "jetstream", "jetstream")
	var offset int64
	synced := map[string]int64{}
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		offset = readJournalFrom(t, journal, offset, synced)
		blocks, _ := filepath.Glob(filepath.Join(root, "*", "streams", "WIMS_EVENTS", "msgs", "*.blk"))
		for _, path := range blocks {
			rel, _ := filepath.Rel(root, path)
			st, err := os.Stat(path)
			if err == nil && st.Size() > synced[rel] {
				if _, known := synced[rel]; known || newerThanSynced(rel, synced) {
					return true
				}
			}
		}
	}
	return false
}

// readJournalFrom merges the whole lines of journal after offset into
// synced and returns the offset after them.
func readJournalFrom(t *testing.T, journal string, offset int64, synced map[string]int64) int64 {
	t.Helper()
	f, err := os.Open(journal)
	if os.IsNotExist(err) {
		return offset
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return offset // a partial line waits for its end
		}
		var rec map[string]int64
		if json.Unmarshal(line, &rec) == nil {
			for k, v := range rec {
				synced[k] = v
			}
		}
		offset += int64(len(line))
	}
}

// newerThanSynced reports whether block rel (…/msgs/<index>.blk) has a
// higher index than every block of its directory in synced: it was created
// after the last group commit of that stream.
func newerThanSynced(rel string, synced map[string]int64) bool {
	dir, name := filepath.Split(rel)
	idx, err := strconv.Atoi(strings.TrimSuffix(name, ".blk"))
	if err != nil {
		return false
	}
	for p := range synced {
		d, n := filepath.Split(p)
		if d != dir {
			continue
		}
		if i, err := strconv.Atoi(strings.TrimSuffix(n, ".blk")); err == nil && i >= idx {
			return false
		}
	}
	return true
}

// putLedger is what the PutEvents clients know: the probes acknowledged
// (200, no failed entry) and what a webhook target received.
type putLedger struct {
	mu       sync.Mutex
	acked    map[int]bool
	received map[int]int
	nAcked   atomic.Int64
}

func (l *putLedger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e struct {
		Detail struct {
			N *int `json:"n"`
		} `json:"detail"`
	}
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil || e.Detail.N == nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.received[*e.Detail.N]++
	l.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// runPuts starts n clients putting one probe event per request until ctx
// ends; probe numbers start at base+1.
func runPuts(ctx context.Context, c *crashClient, l *putLedger, n int, next *atomic.Int64) (wait func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(next.Add(1))
				body := fmt.Sprintf(`{"entries":[{"source":"test.powerloss","detailType":"probe","detail":{"n":%d}}]}`, k)
				resp, out, err := c.do(ctx, "POST", "/events", []byte(body))
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(20 * time.Millisecond):
					}
					continue
				}
				var res struct {
					FailedEntryCount int `json:"failedEntryCount"`
				}
				if resp.StatusCode == http.StatusOK && json.Unmarshal(out, &res) == nil && res.FailedEntryCount == 0 {
					l.mu.Lock()
					l.acked[k] = true
					l.mu.Unlock()
					l.nAcked.Add(1)
				}
			}
		})
	}
	return wg.Wait
}

// TestPowerLossLosesOnlyWhatIsRebuilt kills wims three times under orders
// and PutEvents, each time throwing away the bus's unfsynced tail, and
// checks that nothing acknowledged is lost and nothing is stuck or doubled.
func TestPowerLossLosesOnlyWhatIsRebuilt(t *testing.T) {
	bin := buildWims(t)
	mock, payURL := newCountingMock(t)

	const sku = "POWER-SKU"
	rcv := &changeReceiver{changes: orderChanges{}}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	puts := &putLedger{acked: map[int]bool{}, received: map[int]int{}}
	putHook := httptest.NewServer(puts)
	t.Cleanup(putHook.Close)
	rulesFile := writeRules(t,
		orderChangesRule("power-loss-order-changes", sku, hook.URL+"/changes"),
		map[string]any{
			"name":    "power-loss-probes",
			"pattern": map[string]any{"source": []string{"test.powerloss"}},
			"targets": []any{map[string]any{"type": "webhook", "url": putHook.URL + "/probes"}},
		})

	journal := filepath.Join(t.TempDir(), "bus-sync.journal")
	// The default --bus-sync, which this test is about; a short grace so the
	// reconciler puts back the payment requests the loss took.
	p := newWimsProc(t, bin, payURL, "--config", rulesFile,
		"--bus-sync-journal", journal, "--reconcile-grace", "2s")
	dataDir := p.args[4]
	p.start()
	c := newCrashClient(p.url)

	const initial = 100_000
	c.putItem(t, sku, initial, 10)

	l := newLedger()
	var probe atomic.Int64
	rng := rand.New(rand.NewPCG(12, uint64(time.Now().UnixNano())))
	start := time.Now()
	var lostTotal, lostEvents int64
	for cycle, more := range []int64{200, 350, 500, 300, 300} {
		if cycle >= 3 && lostEvents > 0 {
			break // two more cycles only if none took relayed events yet
		}
		target := l.nAcked.Load() + more
		ctx, cancel := context.WithCancel(context.Background())
		wait := runLoad(ctx, c, l, cycle, 6, sku)
		waitPuts := runPuts(ctx, c, puts, 3, &probe)
		deadline := time.Now().Add(60 * time.Second)
		for l.nAcked.Load() < target {
			if time.Now().After(deadline) {
				cancel()
				wait()
				waitPuts()
				t.Fatalf("cycle %d: only %d of %d orders acknowledged within 60s", cycle, l.nAcked.Load(), target)
			}
			time.Sleep(time.Millisecond)
		}
		// Kill when the events stream has a tail no group commit has
		// fsynced yet (the relay's newest events), so the loss takes some
		// of them; a commit may still come between the look and the kill.
		caught := waitUnsyncedEvents(t, dataDir, journal, 5*time.Second)
		p.kill()
		cancel()
		wait()
		waitPuts()
		all := cycle != 1 // the whole unsynced tail, or (cycle 1) a random part of each file's
		lost := loseUnsyncedTail(t, dataDir, journal, rng, all)
		var sum int64
		for _, n := range lost {
			sum += n
		}
		lostTotal += sum
		lostEvents += lost["WIMS_EVENTS"]
		t.Logf("cycle %d: killed wims after %d acknowledged orders and %d acknowledged puts (events stream unsynced at the look: %v); threw away %d unsynced bytes of the bus (whole tail: %v) %v (%s)",
			cycle, l.nAcked.Load(), puts.nAcked.Load(), caught, sum, all, lost, time.Since(start).Round(time.Millisecond))
		p.start()
	}
	if lostTotal == 0 || lostEvents == 0 {
		t.Fatalf("the kills threw away %d unsynced bytes of the bus, %d of the events stream: the test did not simulate the loss it is about",
			lostTotal, lostEvents)
	}

	retried := retryUnknown(t, c, l)
	t.Logf("retried %d unknown requests; %d orders acknowledged in all", retried, len(l.acked))
	orders := checkGuarantees(t, c, l, mock, sku, initial, 120*time.Second)
	checkChangeEventsExactlyOnce(t, rcv, orders)
	checkEventLogNoDuplicates(t, c)
	checkEventLogComplete(t, c, rcv)
	checkPutsDelivered(t, puts)
	t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
}

// checkPutsDelivered polls until every acknowledged probe reached its
// webhook target.
func checkPutsDelivered(t *testing.T, l *putLedger) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		l.mu.Lock()
		var missing []int
		for k := range l.acked {
			if l.received[k] == 0 {
				missing = append(missing, k)
			}
		}
		acked := len(l.acked)
		l.mu.Unlock()
		if len(missing) == 0 {
			t.Logf("PutEvents: all %d acknowledged entries reached their target", acked)
			return
		}
		if time.Now().After(deadline) {
			sort.Ints(missing)
			t.Fatalf("LOST EVENTS: %d of %d entries PutEvents acknowledged never reached their target, e.g. %v",
				len(missing), acked, missing[:min(10, len(missing))])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
