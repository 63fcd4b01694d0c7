package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetTestHooks installs callbacks for every write transaction that appends
// changes: beforeSeq runs after its row changes and before it takes seqs;
// beforeCommit returns a statement ("" for none) sent after the append and
// before COMMIT, in the same round trip. Call it before the store is used
// concurrently.
func SetTestHooks(s *Store, beforeSeq func(ctx context.Context, c *pgx.Conn) error, beforeCommit func() string) {
	s.hooks.beforeSeq, s.hooks.beforeCommit = beforeSeq, beforeCommit
}

// QueuedWrites is how many writes wait for a committer.
func QueuedWrites(s *Store) int { return len(s.batchOps) }

// BreakSpeculation makes every batch's one-statement order insert fail, so
// batches run op by op. Call it before the store is used concurrently.
func BreakSpeculation(s *Store) { s.hooks.breakSpeculation = true }

// QueuedTransitions is how many of the pipeline's other writes wait for the
// transition committer.
func QueuedTransitions(s *Store) int { return len(s.aheadOps) }

// BreakAhead makes the last of every locked-ahead batch's queued writes
// fail, so batches run op by op. Call it before the store is used
// concurrently.
func BreakAhead(s *Store) { s.hooks.breakAhead = true }
