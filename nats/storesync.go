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
	"sync/atomic"
	"time"
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
	// block file that round made durable (see appendSyncJournal).
	journal string

	mu      sync.Mutex
	started uint64        // rounds started
	done    uint64        // rounds finished
	running bool          // a round is in progress
	wake    chan struct{} // closed and replaced when a round finishes
	err     error         // the last round's error

	// Only rounds touch dirs and listedAt, and one runs at a time.
	dirs     map[string]*blockDir // by msgs dir
	listedAt time.Time            // when the msgs dirs were last listed
	relist   atomic.Bool          // set by streamCreated: list them again
}

// blockDir is what the last round made durable in one stream's msgs dir:
// its newest block, which is the only one the server appends to. Older
// blocks were made durable when they were the newest, and the server only
// ever creates a block after the newest one.
type blockDir struct {
	newest int         // index of the newest block, -1 before the first round
	synced os.FileInfo // that block as fsynced (size, file identity), or nil
}

// relistEvery bounds how long a stream created without streamCreated (the
// leaders' KV bucket, made by the client library; its writes need no
// durability) goes unsynced, and how long a deleted stream is still looked
// at.
const relistEvery = time.Second

func newStoreSync(storeDir, journal string) *storeSync {
	return &storeSync{
		root:    filepath.Join(storeDir, "jetstream"),
		journal: journal,
		wake:    make(chan struct{}),
		dirs:    map[string]*blockDir{},
	}
}

// streamCreated makes the next round look for new streams.
func (s *storeSync) streamCreated() { s.relist.Store(true) }

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

// syncBlocks fsyncs what changed in each stream's blocks since the last
// round: the newest block if it grew or was replaced, new blocks and their
// directory entries. A quiet stream costs two stats.
func (s *storeSync) syncBlocks() error {
	if err := s.listDirs(); err != nil {
		return err
	}
	var record map[string]int64 // what the round made durable, for the journal only
	if s.journal != "" {
		record = map[string]int64{}
	}
	var errs []error
	for dir, d := range s.dirs {
		if err := s.syncDir(dir, d, record); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nats: sync store: %w", err)
	}
	if len(record) > 0 {
		return appendSyncJournal(s.root, s.journal, record)
	}
	return nil
}

// listDirs finds the streams' msgs dirs on the first round, after a stream
// was created, and every relistEvery.
func (s *storeSync) listDirs() error {
	if !s.relist.Swap(false) && len(s.dirs) > 0 && time.Since(s.listedAt) < relistEvery {
		return nil
	}
	dirs, err := filepath.Glob(filepath.Join(s.root, "*", "streams", "*", "msgs"))
	if err != nil {
		return fmt.Errorf("nats: sync store: %w", err)
	}
	seen := make(map[string]bool, len(dirs))
	for _, dir := range dirs {
		seen[dir] = true
		if s.dirs[dir] == nil {
			s.dirs[dir] = &blockDir{newest: -1}
		}
	}
	for dir := range s.dirs {
		if !seen[dir] {
			delete(s.dirs, dir) // a deleted stream
		}
	}
	s.listedAt = time.Now()
	return nil
}

// syncDir makes d's changes durable and adds what it fsynced to record
// (if not nil).
func (s *storeSync) syncDir(dir string, d *blockDir, record map[string]int64) error {
	if d.newest >= 0 {
		if done, err := s.syncNewest(dir, d, record); done || err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a stream deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	listed := false
	for _, e := range entries {
		if idx, ok := blockIndex(e.Name()); ok && idx >= d.newest {
			if err := s.syncBlock(dir, d, idx, record); err != nil {
				return err
			}
			listed = true
		}
	}
	if !listed {
		d.newest, d.synced = max(d.newest, 0), nil
	}
	// The directory holds the entries of the blocks created or replaced.
	_, err = fsyncFile(dir)
	return err
}

// syncNewest handles the usual case, where d's newest block is still the
// newest: it fsyncs it if it grew. It reports false when the blocks must be
// listed instead: a block was added after it, or it was replaced
// (compacted) or removed (emptied).
func (s *storeSync) syncNewest(dir string, d *blockDir, record map[string]int64) (bool, error) {
	if _, err := os.Stat(blockPath(dir, d.newest+1)); !errors.Is(err, os.ErrNotExist) {
		return false, nil // a new block, or an error that listing reports
	}
	cur, err := os.Stat(blockPath(dir, d.newest))
	if err != nil || d.synced == nil || !os.SameFile(cur, d.synced) {
		return false, nil
	}
	if cur.Size() == d.synced.Size() {
		return true, nil // nothing written since
	}
	return true, s.syncBlock(dir, d, d.newest, record)
}

// syncBlock fsyncs block idx of dir and, if it is the newest so far,
// remembers it as d's.
func (s *storeSync) syncBlock(dir string, d *blockDir, idx int, record map[string]int64) error {
	path := blockPath(dir, idx)
	fi, err := fsyncFile(path)
	if err != nil {
		return err
	}
	if fi == nil {
		d.synced = nil // removed meanwhile: the next round lists
		return nil
	}
	if idx >= d.newest {
		d.newest, d.synced = idx, fi
	}
	if record != nil {
		record[path] = fi.Size()
	}
	return nil
}

func blockPath(dir string, idx int) string {
	return filepath.Join(dir, strconv.Itoa(idx)+".blk")
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

// fsyncFile fsyncs path and returns it as it was before the fsync: what
// was written up to its size is durable. A file removed meanwhile (a block
// the server emptied) needs nothing: nil, nil.
func fsyncFile(path string) (os.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("fsync %s: %w", path, err)
	}
	return fi, nil
}

// appendSyncJournal appends one round's record: a JSON object from each
// block file's path under the store dir to the size it was made durable
// up to. A crash test throws away what a power loss may take, everything
// beyond the last complete line (cmd/wims TestPowerLossLosesOnlyWhatIsRebuilt).
func appendSyncJournal(root, path string, record map[string]int64) error {
	rel := make(map[string]int64, len(record))
	for p, size := range record {
		r, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel[r] = size
	}
	line, err := json.Marshal(rel)
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
