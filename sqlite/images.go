package sqlite

import (
	"encoding/json"
	"fmt"

	"github.com/wims/wims"
)

// recordChange appends one change to the change log in w's transaction,
// built by wims.NewChange so that every engine captures changes the same
// way. old and new are the row before and after (nil for none).
func recordChange(w *writeTx, table string, key map[string]string, old, new any) error {
	c, err := wims.NewChange(table, key, old, new, w.now, w.traceParent)
	if err != nil {
		return fmt.Errorf("record %w", err)
	}
	return appendChange(w, c)
}

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

// skuKey and orderKey are the change keys, named like the API's fields.
var (
	skuKey   = wims.ItemKey
	orderKey = wims.OrderKey
)
