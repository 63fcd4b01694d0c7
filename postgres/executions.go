package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// SaveExecution creates or replaces an execution by ID; see
// wims.Tx.SaveExecution. Returns EINVALID without an execution or order ID.
func (s *Store) SaveExecution(ctx context.Context, e wims.Execution) error {
	if err := e.Validate(); err != nil {
		return err
	}
	// Group-committed with the pipeline's other writes (batch.go); an
	// upsert of its own row, it locks nothing ahead.
	err := s.batchedAhead(ctx, nil, func(w *writeTx) error { return w.domain().SaveExecution(e) })
	return wrap("save execution "+e.ID, err)
}

// qUpsertExecution creates or replaces an execution; executionArgs are its
// parameters.
const qUpsertExecution = `INSERT INTO executions (execution_id, order_id, workflow, status, started_at, finished_at, steps_json, event_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (execution_id) DO UPDATE SET
		order_id = excluded.order_id, workflow = excluded.workflow, status = excluded.status,
		started_at = excluded.started_at, finished_at = excluded.finished_at,
		steps_json = excluded.steps_json, event_id = excluded.event_id`

// executionArgs are qUpsertExecution's parameters for e and its steps'
// JSON; a zero FinishedAt is stored as NULL.
func executionArgs(e wims.Execution, steps []byte) []any {
	var finished *time.Time
	if !e.FinishedAt.IsZero() {
		finished = &e.FinishedAt
	}
	return []any{e.ID, e.OrderID, e.Workflow, e.Status, e.StartedAt, finished, string(steps), e.EventID}
}

// UpsertExecution implements wims.TxRows.
func (r txRows) UpsertExecution(e wims.Execution, steps []byte) error {
	_, err := r.w.exec(qUpsertExecution, executionArgs(e, steps)...)
	return err
}

// Executions lists an order's executions, oldest first (by start time, then
// by when they were first saved); an order with none gets an empty list.
func (s *Store) Executions(ctx context.Context, orderID string) ([]wims.Execution, error) {
	out := []wims.Execution{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT execution_id, order_id, workflow, status, started_at, finished_at, steps_json, event_id
			FROM executions WHERE order_id = $1 ORDER BY started_at, rid`, orderID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e        wims.Execution
				started  time.Time
				finished *time.Time
				steps    string
			)
			if err := rows.Scan(&e.ID, &e.OrderID, &e.Workflow, &e.Status, &started, &finished, &steps, &e.EventID); err != nil {
				return err
			}
			e.StartedAt = started.UTC()
			if finished != nil {
				e.FinishedAt = finished.UTC()
			}
			if err := json.Unmarshal([]byte(steps), &e.Steps); err != nil {
				return fmt.Errorf("steps of %s: %w", e.ID, err)
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("executions "+orderID, err)
	}
	return out, nil
}
