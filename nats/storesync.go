package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Group commit of the embedded server's store (--bus-sync INTERVAL).
//
// Without SyncAlways the server writes each message to its block file
// before it acknowledges it (a stream of one replica flushes in place) and
// fsyncs every SyncInterval, so an acknowledged message survives a process
// crash at once but power loss only after the next sync. That is enough for
// what the database rebuilds (the relay's change events, the payment
// requests the reconciler enqueues again): wims.Outgoing.Rebuildable. Every
// other publish — an entry PutEvents answers for, a copy or a delivery whose
// source is acknowledged next, a dead letter — waits until storeSync has
// fsynced the block files written before it. Many waiters share one sync,
// so a busy bus pays one round of fsyncs for all of them instead of one
// fsync per message.

// storeSync fsyncs the embedded server's message blocks on demand, one
// round at a time for any number of waiters.
type storeSync struct {
	root string // the server's store dir, <StoreDir>/jetstream
	// journal, if set, gets one line per completed round: the size of each
	// block file that round made durable (see syncJournalRecord).
	journal string

	mu      sync.Mutex
	started uint64        // rounds started
	done    uint64        // rounds finished
	running bool          // a round is in progress
	wake    chan struct{} // closed and replaced when a round finishes
	err     error         // the last round's error
	// newest is, per msgs dir, the highest block index the last round saw:
	// older blocks were made durable by an earlier round and only ever get
	// appended to through the newest one.
	newest map[string]int
}

func newStoreSync(storeDir, journal string) *storeSync {
	return &storeSync{
		root:    filepath.Join(storeDir, "jetstream"),
		journal: journal,
		wake:    make(chan struct{}),
		newest:  map[string]int{},
	}
}

// wait returns once a round of fsyncs that started after the call has
// finished: everything the server acknowledged before wait is then on disk.
func (s *storeSync) wait(ctx context.Context) error {
	s.mu.Lock()
	need := s.started + 1 // a round already running may have missed our write
	for s.done < need {
		if !s.running {
			s.running = true
			s.started++
			go s.round()
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("nats: sync store: %w", ctx.Err())
		}
		s.mu.Lock()
	}
	err := s.err
	s.mu.Unlock()
	return err
}

// round runs one round and wakes the waiters.
func (s *storeSync) round() {
	err := s.syncBlocks()
	s.mu.Lock()
	s.done = s.started
	s.running = false
	s.err = err
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
}

// syncBlocks fsyncs each stream's newest block files and their directory.
// Only rounds touch s.newest, and one runs at a time.
func (s *storeSync) syncBlocks() error {
	dirs, err := filepath.Glob(filepath.Join(s.root, "*", "streams", "*", "msgs"))
	if err != nil {
		return fmt.Errorf("nats: sync store: %w", err)
	}
	record := map[string]int64{}
	var errs []error
	for _, dir := range dirs {
		files, newest, err := s.newBlocks(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, name := range files {
			size, err := fsyncFile(filepath.Join(dir, name))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rel, _ := filepath.Rel(s.root, filepath.Join(dir, name))
			record[rel] = size
		}
		// The directory holds the entries of blocks created since.
		if _, err := fsyncFile(dir); err != nil {
			errs = append(errs, err)
		}
		s.newest[dir] = newest
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nats: sync store: %w", err)
	}
	if s.journal != "" {
		return appendSyncJournal(s.journal, record)
	}
	return nil
}

// newBlocks lists the block files of dir from the newest one the last
// round saw on, and the highest index among them.
func (s *storeSync) newBlocks(dir string) ([]string, int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil // a stream deleted meanwhile
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", dir, err)
	}
	from := s.newest[dir]
	newest := from
	var files []string
	for _, e := range entries {
		idx, ok := blockIndex(e.Name())
		if !ok || idx < from {
			continue
		}
		files = append(files, e.Name())
		newest = max(newest, idx)
	}
	return files, newest, nil
}

// blockIndex parses a message block's file name, "<index>.blk".
func blockIndex(name string) (int, bool) {
	n, ok := strings.CutSuffix(name, ".blk")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil
}

// fsyncFile fsyncs path and returns its size at the time. A file removed
// meanwhile (a block the server emptied) needs nothing.
func fsyncFile(path string) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// The size before the fsync: what was written up to it is made durable.
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("fsync %s: %w", path, err)
	}
	return st.Size(), nil
}

// appendSyncJournal appends one round's record: a JSON object from each
// block file's path under the store dir to the size it was made durable
// up to. A crash test throws away what a power loss may take, everything
// beyond the last complete line (cmd/wims TestPowerLossLosesOnlyWhatIsRebuilt).
func appendSyncJournal(path string, record map[string]int64) error {
	line, err := json.Marshal(record)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("nats: sync journal: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("nats: sync journal: %w", err)
	}
	return nil
}
