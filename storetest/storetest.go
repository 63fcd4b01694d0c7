// Package storetest is the contract suite for wims.Store: one set of tests
// that every engine (SQLite now, PostgreSQL later) must pass, so the engines
// cannot drift apart in behaviour. An engine's own test calls Run with a
// function that opens a fresh, empty, unseeded store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) wims.Store { return mustOpen(t) })
//	}
//
// The suite covers every Store method and its error codes, the contents of the
// change log (images, changed columns, event types, seq order, unique event
// ids), idempotency of the order transitions, cancels and refunds and their
// races with the workflow and the dispatcher, no overselling under
// concurrency, stock conservation under a random concurrent mix, and the
// change signal. Subtests run in parallel, each on its own store; open must
// close the store in t.Cleanup.
//
// The package imports only the domain and the standard library, so any engine
// package can use it without dependency cycles.
package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/wims/wims"
)

// Run runs the whole contract suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("Inventory", func(t *testing.T) { testInventory(t, open) })
	t.Run("Orders", func(t *testing.T) { testOrders(t, open) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, open) })
	t.Run("Ship", func(t *testing.T) { testShip(t, open) })
	t.Run("Backorders", func(t *testing.T) { testBackorders(t, open) })
	t.Run("Lines", func(t *testing.T) { testLines(t, open) })
	t.Run("LinesBackorders", func(t *testing.T) { testLinesBackorders(t, open) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("Logs", func(t *testing.T) { testLogs(t, open) })
	t.Run("Queries", func(t *testing.T) { testQueries(t, open) })
	t.Run("Resources", func(t *testing.T) { testResources(t, open) })
	t.Run("ItemEdit", func(t *testing.T) { testItemEdit(t, open) })
	t.Run("EventPayloads", func(t *testing.T) { testEventPayloads(t, open) })
	t.Run("EventPayloadExpiry", func(t *testing.T) { testEventPayloadExpiry(t, open) })
	t.Run("ItemPage", func(t *testing.T) { testItemPage(t, open) })
}

// sku is the SKU most tests use; it is not the seed SKU, so a store that
// seeds by mistake does not make tests pass by accident.
const sku = "TEST-SKU"

// newItem is a valid item with the given SKU and quantity.
func newItem(sku string, quantity int64) wims.Item {
	return wims.Item{SKU: sku, ProductName: "Widget", Model: "W1", Quantity: quantity, LowStockThreshold: 10}
}

// mustPutItem stores an item or fails the test.
func mustPutItem(t *testing.T, s wims.Store, sku string, quantity int64) wims.Item {
	t.Helper()
	it, err := s.PutItem(t.Context(), newItem(sku, quantity))
	if err != nil {
		t.Fatalf("PutItem(%s): %v", sku, err)
	}
	return it
}

// mustQuantity fails the test unless sku's quantity is want.
func mustQuantity(t *testing.T, s wims.Store, sku string, want int64) {
	t.Helper()
	it, err := s.GetItem(t.Context(), sku)
	if err != nil {
		t.Fatalf("GetItem(%s): %v", sku, err)
	}
	if it.Quantity != want {
		t.Fatalf("%s quantity = %d, want %d", sku, it.Quantity, want)
	}
}

// newOrder is a valid order for quantity of sku.
func newOrder(id, sku string, quantity int64) wims.Order {
	return wims.Order{ID: id, CustomerID: "customer-1", SKU: sku, Quantity: quantity}
}

// mustCreateOrder creates an order or fails the test.
func mustCreateOrder(t *testing.T, s wims.Store, id, sku string, quantity int64) wims.Order {
	t.Helper()
	o, created, err := s.CreateOrder(t.Context(), newOrder(id, sku, quantity))
	if err != nil {
		t.Fatalf("CreateOrder(%s): %v", id, err)
	}
	if !created {
		t.Fatalf("CreateOrder(%s): created = false for a new order", id)
	}
	return o
}

// mustCode fails the test unless err carries the domain error code want.
func mustCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := wims.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (err %v), want %q", got, err, want)
	}
}

// mustField fails the test unless err is EINVALID about field.
func mustField(t *testing.T, err error, field string) {
	t.Helper()
	mustCode(t, err, wims.EINVALID)
	if got := wims.ErrorField(err); got != field {
		t.Fatalf("error field = %q (err %v), want %q", got, err, field)
	}
}

// allChanges reads the whole change log in pages.
func allChanges(t *testing.T, s wims.Store) []wims.Change {
	t.Helper()
	var all []wims.Change
	var after int64
	for {
		page, err := s.ReadChanges(t.Context(), after, 500)
		if err != nil {
			t.Fatalf("ReadChanges(%d): %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

// lastSeq is the seq of the newest change, 0 for an empty log.
func lastSeq(t *testing.T, s wims.Store) int64 {
	t.Helper()
	cs := allChanges(t, s)
	if len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].Seq
}

// changesAfter reads every change after seq.
func changesAfter(t *testing.T, s wims.Store, seq int64) []wims.Change {
	t.Helper()
	cs, err := s.ReadChanges(t.Context(), seq, 10_000)
	if err != nil {
		t.Fatalf("ReadChanges(%d): %v", seq, err)
	}
	return cs
}

// mustNoChangesAfter fails the test if anything was logged after seq.
func mustNoChangesAfter(t *testing.T, s wims.Store, seq int64) {
	t.Helper()
	if cs := changesAfter(t, s, seq); len(cs) != 0 {
		t.Fatalf("%d unexpected changes after seq %d, first: %s %s %s", len(cs), seq, cs[0].Table, cs[0].EventType, cs[0].Key)
	}
}

// decode unmarshals a change image, failing the test on bad JSON.
func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode image %s: %v", raw, err)
	}
	return v
}

// expectedColumns computes the changed columns a change must list: the
// top-level fields whose JSON values differ between its images, sorted.
func expectedColumns(t *testing.T, c wims.Change) []string {
	t.Helper()
	var o, n map[string]json.RawMessage
	if c.OldImage != nil {
		o = decode[map[string]json.RawMessage](t, c.OldImage)
	}
	if c.NewImage != nil {
		n = decode[map[string]json.RawMessage](t, c.NewImage)
	}
	cols := []string{}
	for k, v := range n {
		if ov, ok := o[k]; !ok || string(ov) != string(v) {
			cols = append(cols, k)
		}
	}
	for k := range o {
		if _, ok := n[k]; !ok {
			cols = append(cols, k)
		}
	}
	sort.Strings(cols)
	return cols
}

// checkChange verifies a change to inventory or orders: what every change
// must satisfy, and a key matching its image.
func checkChange(t *testing.T, c wims.Change) {
	t.Helper()
	checkChangeShape(t, c)
	key := decode[map[string]string](t, c.Key)
	img := c.NewImage
	if img == nil {
		img = c.OldImage
	}
	switch c.Table {
	case wims.TableInventory:
		it := decode[wims.Item](t, img)
		if want := map[string]string{"sku": it.SKU}; !reflect.DeepEqual(key, want) {
			t.Fatalf("seq %d: key %v, want %v", c.Seq, key, want)
		}
	case wims.TableOrders:
		o := decode[wims.Order](t, img)
		if want := map[string]string{"orderId": o.ID}; !reflect.DeepEqual(key, want) {
			t.Fatalf("seq %d: key %v, want %v", c.Seq, key, want)
		}
	default:
		t.Fatalf("seq %d: table %q", c.Seq, c.Table)
	}
}

// checkChangeShape verifies what every change must satisfy, whatever its
// table: an event id, a time, images that fit the event type, and the
// changed columns its images imply.
func checkChangeShape(t *testing.T, c wims.Change) {
	t.Helper()
	if c.EventID == "" {
		t.Fatalf("seq %d: empty event id", c.Seq)
	}
	if c.Time.IsZero() {
		t.Fatalf("seq %d: zero time", c.Seq)
	}
	switch c.EventType {
	case wims.ChangeInsert:
		if c.OldImage != nil || c.NewImage == nil {
			t.Fatalf("seq %d: INSERT with OldImage %s, NewImage %s", c.Seq, c.OldImage, c.NewImage)
		}
	case wims.ChangeUpdate:
		if c.OldImage == nil || c.NewImage == nil {
			t.Fatalf("seq %d: UPDATE with OldImage %s, NewImage %s", c.Seq, c.OldImage, c.NewImage)
		}
	case wims.ChangeRemove:
		if c.OldImage == nil || c.NewImage != nil {
			t.Fatalf("seq %d: REMOVE with OldImage %s, NewImage %s", c.Seq, c.OldImage, c.NewImage)
		}
	default:
		t.Fatalf("seq %d: event type %q", c.Seq, c.EventType)
	}
	cols := slices.Clone(c.ChangedColumns)
	sort.Strings(cols)
	if want := expectedColumns(t, c); !slices.Equal(cols, want) {
		t.Fatalf("seq %d (%s %s): changedColumns %v, want %v", c.Seq, c.Table, c.EventType, c.ChangedColumns, want)
	}
}

// checkLog verifies the whole log: every change well-formed, seq strictly
// increasing, event ids unique.
func checkLog(t *testing.T, cs []wims.Change) {
	t.Helper()
	ids := make(map[string]int64, len(cs))
	for i, c := range cs {
		checkChange(t, c)
		if i > 0 && c.Seq <= cs[i-1].Seq {
			t.Fatalf("seq %d after seq %d: not strictly increasing", c.Seq, cs[i-1].Seq)
		}
		if prev, dup := ids[c.EventID]; dup {
			t.Fatalf("event id %s at seq %d and %d", c.EventID, prev, c.Seq)
		}
		ids[c.EventID] = c.Seq
	}
}

// summary renders changes as "table EVENT" lines for readable failures.
func summary(cs []wims.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s %s", c.Table, c.EventType)
	}
	return out
}
