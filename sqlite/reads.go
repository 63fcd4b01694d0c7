package sqlite

import (
	"context"
	"database/sql"
)

// readStatements are the reads the pipeline makes for every order (the
// payment dispatcher reads the order and its attempts before each charge),
// prepared once on the read pool. database/sql prepares a pool statement on
// each connection the first time it runs there and keeps it, so after a few
// calls no read of these parses SQL again; parsing was as much CPU as running
// them.
var readStatements = []string{qGetOrder, qPaymentAttempts}

// prepareReads prepares readStatements on the read pool.
func (s *Store) prepareReads(ctx context.Context) (err error) {
	s.rstmts, err = prepareAll(ctx, s.rdb, readStatements)
	return err
}

// readRow runs a single-row read on the read pool, prepared if it is one of
// readStatements.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.rstmts[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return s.rdb.QueryRowContext(ctx, query, args...)
}

// readRows runs a read on the read pool, prepared if it is one of
// readStatements.
func (s *Store) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := s.rstmts[query]; ok {
		return st.QueryContext(ctx, args...)
	}
	return s.rdb.QueryContext(ctx, query, args...)
}

// reader is the read pool as a queryer, using the prepared statements.
type reader struct{ s *Store }

// QueryRowContext implements queryer.
func (r reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.s.readRow(ctx, query, args...)
}
