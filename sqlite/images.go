package sqlite

import (
	"encoding/json"
	"fmt"

	"github.com/wims/wims"
)

// appendChange appends a change record built by wims.NewChange or
// wims.NewDocChange to the change log in w's transaction.
func appendChange(w *writeTx, c wims.Change) error {
	cols, err := json.Marshal(c.ChangedColumns)
	if err != nil {
		return err
	}
	_, err = w.exec(qInsertChange, c.EventID, c.Table, c.EventType, string(c.Key), string(cols),
		nullText(c.NewImage), nullText(c.OldImage), toMicros(c.Time), c.TraceParent)
	if err != nil {
		return fmt.Errorf("record change to %s: %w", c.Table, err)
	}
	w.changes++
	return nil
}

// qInsertChange appends to the change log; the writer prepares it once.
const qInsertChange = `INSERT INTO change_log
	(event_id, tbl, event_type, key_json, changed_columns_json, new_image, old_image, at, traceparent)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// nullText stores a missing image as NULL rather than "null" or "".
func nullText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// Record implements wims.TxRows.
func (r txRows) Record(c wims.Change) error { return appendChange(r.w, c) }
