package sqlite

import (
	"context"

	"github.com/wims/wims"
)

// txRows are wims.TxRows on a write closure's transaction. The writer is the
// database's only writer, so a plain read stays as read until the closure
// returns, and "insert unless it exists" is a read and then an insert.
type txRows struct{ w *writeTx }

var _ wims.TxRows = txRows{}

// domain is the closure's transaction as wims.Tx's transitions see it.
func (w *writeTx) domain() wims.Tx {
	return wims.Tx{Rows: txRows{w}, Now: w.now, TraceParent: w.traceParent}
}

// transition runs fn, one of wims.Tx's transitions, in a write closure and
// labels its error with what it did and to which id.
func transition[T any](s *Store, ctx context.Context, what, id string, fn func(wims.Tx) (T, error)) (T, error) {
	var out T
	err := s.write(ctx, func(w *writeTx) error {
		var err error
		out, err = fn(w.domain())
		return err
	})
	if err != nil {
		var zero T
		return zero, wrap(what+" "+id, err)
	}
	return out, nil
}
