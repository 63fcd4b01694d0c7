package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// RecordPaymentAttempt appends an attempt; see wims.Tx.RecordPaymentAttempt.
// Returns EINVALID without an order ID.
func (s *Store) RecordPaymentAttempt(ctx context.Context, a wims.PaymentAttempt) error {
	if err := a.Validate(); err != nil {
		return err
	}
	// Group-committed with the pipeline's other writes (batch.go); an
	// insert of a new row, it locks nothing ahead.
	err := s.batchedAhead(ctx, nil, func(w *writeTx) error { return w.domain().RecordPaymentAttempt(a) })
	return wrap("record payment attempt "+a.OrderID, err)
}

// qInsertPaymentAttempt appends an attempt; paymentAttemptArgs are its
// parameters.
const qInsertPaymentAttempt = `INSERT INTO payment_attempts (order_id, attempt, outcome, status_code, error, at, duration_ms, kind)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// paymentAttemptArgs are qInsertPaymentAttempt's parameters for a.
func paymentAttemptArgs(a wims.PaymentAttempt) []any {
	return []any{a.OrderID, a.Attempt, string(a.Outcome), a.StatusCode, a.Error, a.At, a.DurationMS, string(a.Kind)}
}

// InsertPaymentAttempt implements wims.TxRows.
func (r txRows) InsertPaymentAttempt(a wims.PaymentAttempt) error {
	_, err := r.w.exec(qInsertPaymentAttempt, paymentAttemptArgs(a)...)
	return err
}

// PaymentAttempts lists an order's attempts in the order they were recorded;
// an order with none gets an empty list.
func (s *Store) PaymentAttempts(ctx context.Context, orderID string) ([]wims.PaymentAttempt, error) {
	out := []wims.PaymentAttempt{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT order_id, attempt, outcome, status_code, error, at, duration_ms, kind
			FROM payment_attempts WHERE order_id = $1 ORDER BY id`, orderID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				a       wims.PaymentAttempt
				outcome string
				kind    string
				at      time.Time
			)
			if err := rows.Scan(&a.OrderID, &a.Attempt, &outcome, &a.StatusCode, &a.Error, &at, &a.DurationMS, &kind); err != nil {
				return err
			}
			a.Outcome = wims.PaymentOutcome(outcome)
			a.Kind = wims.PaymentKind(kind)
			a.At = at.UTC()
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("payment attempts "+orderID, err)
	}
	return out, nil
}
