package sqlite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/wims/wims"
)

// recordChange appends one change to the change log in w's transaction. It is
// the only place images are built, so every write captures changes the same
// way.
//
// old and new are the row before and after as domain values (wims.Item or
// wims.Order), nil for none: old is nil for an INSERT, new for a REMOVE. The
// images are their JSON, so field names are the API's (NewImage.quantity).
// ChangedColumns lists, sorted, the fields whose JSON values differ between
// the two images, a field missing from one image counting as different; so an
// INSERT lists every field of the new image and a REMOVE every field of the
// old one.
//
// Event ids are UUIDv7: unique like any UUID, and time-ordered, which keeps
// inserts into the event_id index at its right-hand edge.
func recordChange(w *writeTx, table string, key map[string]string, old, new any) error {
	eventType := wims.ChangeUpdate
	switch {
	case old == nil && new == nil:
		return fmt.Errorf("record change to %s: no image", table)
	case old == nil:
		eventType = wims.ChangeInsert
	case new == nil:
		eventType = wims.ChangeRemove
	}
	oldImage, err := image(old)
	if err != nil {
		return fmt.Errorf("record change to %s: %w", table, err)
	}
	newImage, err := image(new)
	if err != nil {
		return fmt.Errorf("record change to %s: %w", table, err)
	}
	cols, err := changedColumns(oldImage, newImage)
	if err != nil {
		return fmt.Errorf("record change to %s: %w", table, err)
	}
	colsJSON, err := json.Marshal(cols)
	if err != nil {
		return err
	}
	keyJSON, err := json.Marshal(key)
	if err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("record change to %s: event id: %w", table, err)
	}
	_, err = w.exec(qInsertChange, id.String(), table, eventType, string(keyJSON), string(colsJSON),
		nullText(newImage), nullText(oldImage), toMicros(w.now), w.traceParent)
	if err != nil {
		return fmt.Errorf("record change to %s: %w", table, err)
	}
	w.changes++
	return nil
}

// qInsertChange appends to the change log; the writer prepares it once.
const qInsertChange = `INSERT INTO change_log
	(event_id, tbl, event_type, key_json, changed_columns_json, new_image, old_image, at, traceparent)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// image is the JSON image of a row, nil for no row.
func image(row any) ([]byte, error) {
	if row == nil {
		return nil, nil
	}
	return json.Marshal(row)
}

// changedColumns returns, sorted, the top-level fields whose values differ
// between two JSON object images (nil meaning no row). Comparing the encoded
// values is exact because both images come from json.Marshal of the same type.
func changedColumns(oldImage, newImage []byte) ([]string, error) {
	var o, n map[string]json.RawMessage
	if oldImage != nil {
		if err := json.Unmarshal(oldImage, &o); err != nil {
			return nil, err
		}
	}
	if newImage != nil {
		if err := json.Unmarshal(newImage, &n); err != nil {
			return nil, err
		}
	}
	cols := []string{}
	for k, nv := range n {
		if ov, ok := o[k]; !ok || !bytes.Equal(ov, nv) {
			cols = append(cols, k)
		}
	}
	for k := range o {
		if _, ok := n[k]; !ok {
			cols = append(cols, k)
		}
	}
	sort.Strings(cols)
	return cols, nil
}

// nullText stores a missing image as NULL rather than "null" or "".
func nullText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// skuKey and orderKey are the change keys, named like the API's fields.
func skuKey(sku string) map[string]string  { return map[string]string{"sku": sku} }
func orderKey(id string) map[string]string { return map[string]string{"orderId": id} }
