package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetTestHooks installs callbacks run inside every write transaction that
// appends changes: beforeSeq after its row changes and before it takes seqs,
// beforeCommit after it appended its changes and before COMMIT. Call it
// before the store is used concurrently.
func SetTestHooks(s *Store, beforeSeq, beforeCommit func(ctx context.Context, tx pgx.Tx) error) {
	s.hooks = hooks{beforeSeq: beforeSeq, beforeCommit: beforeCommit}
}
