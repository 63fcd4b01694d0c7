package sqlite

import (
	"context"

	"github.com/wims/wims"
)

// RecordPaymentAttempt appends an attempt; see wims.Tx.RecordPaymentAttempt.
// Returns EINVALID without an order ID.
func (s *Store) RecordPaymentAttempt(ctx context.Context, a wims.PaymentAttempt) error {
	if err := a.Validate(); err != nil {
		return err
	}
	err := s.write(ctx, func(w *writeTx) error { return w.domain().RecordPaymentAttempt(a) })
	return wrap("record payment attempt "+a.OrderID, err)
}

// Payment attempt statements, prepared (writerStatements, readStatements):
// the dispatcher records and reads attempts for every order it charges.
const (
	qInsertPaymentAttempt = `INSERT INTO payment_attempts (order_id, attempt, outcome, status_code, error, at, duration_ms, kind)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qPaymentAttempts = `SELECT order_id, attempt, outcome, status_code, error, at, duration_ms, kind
		FROM payment_attempts WHERE order_id = ? ORDER BY id`
)

// InsertPaymentAttempt implements wims.TxRows.
func (r txRows) InsertPaymentAttempt(a wims.PaymentAttempt) error {
	_, err := r.w.exec(qInsertPaymentAttempt,
		a.OrderID, a.Attempt, string(a.Outcome), a.StatusCode, a.Error, toMicros(a.At), a.DurationMS, string(a.Kind))
	return err
}

// PaymentAttempts lists an order's attempts in the order they were recorded;
// an order with none gets an empty list.
func (s *Store) PaymentAttempts(ctx context.Context, orderID string) ([]wims.PaymentAttempt, error) {
	rows, err := s.readRows(ctx, qPaymentAttempts, orderID)
	if err != nil {
		return nil, wrap("payment attempts "+orderID, err)
	}
	defer rows.Close()
	out := []wims.PaymentAttempt{}
	for rows.Next() {
		var (
			a       wims.PaymentAttempt
			outcome string
			kind    string
			at      int64
		)
		if err := rows.Scan(&a.OrderID, &a.Attempt, &outcome, &a.StatusCode, &a.Error, &at, &a.DurationMS, &kind); err != nil {
			return nil, wrap("payment attempts "+orderID, err)
		}
		a.Outcome = wims.PaymentOutcome(outcome)
		a.Kind = wims.PaymentKind(kind)
		a.At = fromMicros(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("payment attempts "+orderID, err)
	}
	return out, nil
}
