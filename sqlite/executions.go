package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/wims/wims"
)

// SaveExecution creates or replaces an execution by ID; see
// wims.Tx.SaveExecution. Returns EINVALID without an execution or order ID.
func (s *Store) SaveExecution(ctx context.Context, e wims.Execution) error {
	if err := e.Validate(); err != nil {
		return err
	}
	err := s.write(ctx, func(w *writeTx) error { return w.domain().SaveExecution(e) })
	return wrap("save execution "+e.ID, err)
}

// qUpsertExecution stores an execution record; prepared (writerStatements),
// as the workflow saves one per order.
const qUpsertExecution = `INSERT INTO executions (execution_id, order_id, workflow, status, started_at, finished_at, steps_json, event_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (execution_id) DO UPDATE SET
			order_id = excluded.order_id, workflow = excluded.workflow, status = excluded.status,
			started_at = excluded.started_at, finished_at = excluded.finished_at,
			steps_json = excluded.steps_json, event_id = excluded.event_id`

// UpsertExecution implements wims.TxRows.
func (r txRows) UpsertExecution(e wims.Execution, steps []byte) error {
	var finished sql.NullInt64
	if !e.FinishedAt.IsZero() {
		finished = sql.NullInt64{Int64: toMicros(e.FinishedAt), Valid: true}
	}
	_, err := r.w.exec(qUpsertExecution,
		e.ID, e.OrderID, e.Workflow, e.Status, toMicros(e.StartedAt), finished, string(steps), e.EventID)
	return err
}

// Executions lists an order's executions, oldest first; an order with none
// gets an empty list.
func (s *Store) Executions(ctx context.Context, orderID string) ([]wims.Execution, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT execution_id, order_id, workflow, status, started_at, finished_at, steps_json, event_id
		FROM executions WHERE order_id = ? ORDER BY started_at, rowid`, orderID)
	if err != nil {
		return nil, wrap("executions "+orderID, err)
	}
	defer rows.Close()
	out := []wims.Execution{}
	for rows.Next() {
		var (
			e        wims.Execution
			started  int64
			finished sql.NullInt64
			steps    string
		)
		if err := rows.Scan(&e.ID, &e.OrderID, &e.Workflow, &e.Status, &started, &finished, &steps, &e.EventID); err != nil {
			return nil, wrap("executions "+orderID, err)
		}
		e.StartedAt = fromMicros(started)
		if finished.Valid {
			e.FinishedAt = fromMicros(finished.Int64)
		}
		if err := json.Unmarshal([]byte(steps), &e.Steps); err != nil {
			return nil, fmt.Errorf("executions %s: steps of %s: %w", orderID, e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("executions "+orderID, err)
	}
	return out, nil
}
