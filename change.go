package wims

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/wims/wims/internal/jsonobj"
)

// NewChange builds the change record of one row change, the same way for
// every store engine, so that events do not depend on the engine.
//
// old and new are the row before and after as domain values (Item or Order),
// nil for none: old is nil for an INSERT, new for a REMOVE. The images are
// their JSON, so field names are the API's (NewImage.quantity).
// ChangedColumns lists, sorted, the fields whose JSON values differ between
// the two images, a field missing from one image counting as different; so
// an INSERT lists every field of the new image and a REMOVE every field of
// the old one. The event id is a UUIDv7: unique, and time-ordered, which
// keeps inserts into an event-id index at its right-hand edge. Seq is left
// for the store to assign.
func NewChange(table string, key map[string]string, old, new any, at time.Time, traceParent string) (Change, error) {
	oldImage, err := image(old)
	if err != nil {
		return Change{}, fmt.Errorf("change to %s: %w", table, err)
	}
	newImage, err := image(new)
	if err != nil {
		return Change{}, fmt.Errorf("change to %s: %w", table, err)
	}
	// json.Marshal output is compact already, so the images compare as is.
	return newChange(table, key, oldImage, newImage, oldImage, newImage, at, traceParent)
}

// NewDocChange is NewChange for rows that are JSON documents already (the
// platform's resources): oldDoc and newDoc, nil for none, become the images
// byte for byte, instead of being encoded again, which would compact and
// re-escape them. ChangedColumns compares the fields' values compacted, so
// whitespace inside a value does not count as a change.
func NewDocChange(table string, key map[string]string, oldDoc, newDoc json.RawMessage, at time.Time, traceParent string) (Change, error) {
	oldCmp, err := compact(oldDoc)
	if err != nil {
		return Change{}, fmt.Errorf("change to %s: old image: %w", table, err)
	}
	newCmp, err := compact(newDoc)
	if err != nil {
		return Change{}, fmt.Errorf("change to %s: new image: %w", table, err)
	}
	return newChange(table, key, oldDoc, newDoc, oldCmp, newCmp, at, traceParent)
}

// newChange builds a change from its images (nil for none) and the compact
// forms of the images that ChangedColumns compares.
func newChange(table string, key map[string]string, oldImage, newImage, oldCmp, newCmp []byte, at time.Time, traceParent string) (Change, error) {
	c := Change{Table: table, EventType: ChangeUpdate, Time: at, TraceParent: traceParent,
		OldImage: oldImage, NewImage: newImage}
	switch {
	case oldImage == nil && newImage == nil:
		return Change{}, fmt.Errorf("change to %s: no image", table)
	case oldImage == nil:
		c.EventType = ChangeInsert
	case newImage == nil:
		c.EventType = ChangeRemove
	}
	var err error
	if c.ChangedColumns, err = changedColumns(oldCmp, newCmp); err != nil {
		return Change{}, fmt.Errorf("change to %s: %w", table, err)
	}
	if c.Key, err = json.Marshal(key); err != nil {
		return Change{}, fmt.Errorf("change to %s: %w", table, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Change{}, fmt.Errorf("change to %s: event id: %w", table, err)
	}
	c.EventID = id.String()
	return c, nil
}

// compact strips insignificant whitespace from a JSON document, nil for nil.
func compact(doc []byte) ([]byte, error) {
	if doc == nil {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ItemKey and OrderKey are the change keys of the two tables, named like the
// API's fields.
func ItemKey(sku string) map[string]string { return map[string]string{"sku": sku} }

// OrderKey is the change key of an order; see ItemKey.
func OrderKey(id string) map[string]string { return map[string]string{"orderId": id} }

// image is the JSON image of a row, nil for no row.
func image(row any) (json.RawMessage, error) {
	if row == nil {
		return nil, nil
	}
	return json.Marshal(row)
}

// changedColumns returns, sorted, the top-level fields whose values differ
// between two JSON object images (nil meaning no row). Comparing the encoded
// values is exact because both images come from json.Marshal of the same type
// (or, for documents, are compacted first; see NewDocChange).
func changedColumns(oldImage, newImage []byte) ([]string, error) {
	o, err := members(oldImage)
	if err != nil {
		return nil, err
	}
	n, err := members(newImage)
	if err != nil {
		return nil, err
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

// members maps an image's top-level fields to their raw values, the last of
// a repeated field winning, as decoding would; nil for no image.
func members(image []byte) (map[string][]byte, error) {
	if image == nil {
		return nil, nil
	}
	ms, err := jsonobj.Members(image)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(ms))
	for _, m := range ms {
		out[m.Key] = m.Value
	}
	return out, nil
}

// MaxReadChanges caps one ReadChanges page, so a relay that asks for
// "everything" after a long outage does not load the whole log into memory.
const MaxReadChanges = 10_000

// ReadChangesLimit checks the arguments of ReadChanges and returns the limit
// to read with, lowered to MaxReadChanges. Returns EINVALID for limit <= 0
// or after < 0.
func ReadChangesLimit(after int64, limit int) (int, error) {
	if limit <= 0 {
		return 0, FieldError("limit", "must be positive")
	}
	if after < 0 {
		return 0, FieldError("after", "must not be negative")
	}
	return min(limit, MaxReadChanges), nil
}
