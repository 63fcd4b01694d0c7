package sqlite

import (
	"context"

	"github.com/wims/wims"
)

// RecordPaymentAttempt appends an attempt. The log is append-only history, so
// recording the same attempt number twice (a redelivered payment) keeps both
// rows rather than failing. A zero At is stamped with the store's clock.
// Returns EINVALID without an order ID.
func (s *Store) RecordPaymentAttempt(ctx context.Context, a wims.PaymentAttempt) error {
	if a.OrderID == "" {
		return wims.FieldError("orderId", "is required")
	}
	err := s.write(ctx, func(w *writeTx) error {
		at := normTime(a.At)
		if a.At.IsZero() {
			at = w.now
		}
		_, err := w.exec(`INSERT INTO payment_attempts (order_id, attempt, outcome, status_code, error, at, duration_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.OrderID, a.Attempt, string(a.Outcome), a.StatusCode, a.Error, toMicros(at), a.DurationMS)
		return err
	})
	return wrap("record payment attempt "+a.OrderID, err)
}

// PaymentAttempts lists an order's attempts in the order they were recorded;
// an order with none gets an empty list.
func (s *Store) PaymentAttempts(ctx context.Context, orderID string) ([]wims.PaymentAttempt, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT order_id, attempt, outcome, status_code, error, at, duration_ms
		FROM payment_attempts WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return nil, wrap("payment attempts "+orderID, err)
	}
	defer rows.Close()
	out := []wims.PaymentAttempt{}
	for rows.Next() {
		var (
			a       wims.PaymentAttempt
			outcome string
			at      int64
		)
		if err := rows.Scan(&a.OrderID, &a.Attempt, &outcome, &a.StatusCode, &a.Error, &at, &a.DurationMS); err != nil {
			return nil, wrap("payment attempts "+orderID, err)
		}
		a.Outcome = wims.PaymentOutcome(outcome)
		a.At = fromMicros(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("payment attempts "+orderID, err)
	}
	return out, nil
}
