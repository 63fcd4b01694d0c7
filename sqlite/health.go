package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wims/wims"
)

// errUnwritable is what a write gets while the database cannot be written:
// the disk is full, or the file system fails. It is EUNAVAILABLE (503 with
// Retry-After on the API) rather than an internal error: the request was
// fine, and the same request succeeds once space is back.
var errUnwritable = wims.Errorf(wims.EUNAVAILABLE, "The database cannot be written now (disk full or I/O error); retry later.")

// unwritable reports whether err is SQLite failing to write for want of
// disk space or because of an I/O error.
func unwritable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		return true
	}
	return false
}

// writeHealth remembers whether the last write batch failed for want of
// disk (0: healthy; else the unix nanos of the failure), for Check.
type writeHealth struct{ failedAt atomic.Int64 }

func (h *writeHealth) record(err error) {
	if err == nil {
		h.failedAt.Store(0)
		return
	}
	if unwritable(err) {
		h.failedAt.Store(time.Now().UnixNano())
	}
}

// Check reports whether the store can serve: it can read, and its last
// write did not fail for want of disk space (a read alone would not tell).
// The writer clears that as soon as a write succeeds again.
func (s *Store) Check(ctx context.Context) error {
	if at := s.health.failedAt.Load(); at != 0 {
		// Probe with a write that changes nothing but still goes to disk:
		// the failure clears as soon as there is room again, whether or not
		// anyone else writes.
		err := s.write(ctx, func(w *writeTx) error {
			_, err := w.exec(`UPDATE resource_generation SET generation = generation WHERE id = 1`)
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: writes fail since %s (disk full or I/O error): %w", time.Unix(0, at).UTC().Format(time.RFC3339), err)
		}
	}
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: read: %w", err)
	}
	return nil
}
