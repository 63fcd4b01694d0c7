package wims

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// memRows are TxRows over maps, for testing the transitions' decisions
// without an engine. raceSKU, if set, makes the next InsertItem of that SKU
// find it inserted by "someone else" (as a concurrent PostgreSQL writer).
type memRows struct {
	orders  map[string]Order
	items   map[string]Item
	changes []Change
	raceSKU string
	locked  []string // the SKUs LockItem was asked for, in order
}

func newMemRows(items ...Item) *memRows {
	r := &memRows{orders: map[string]Order{}, items: map[string]Item{}}
	for _, it := range items {
		r.items[it.SKU] = it
	}
	return r
}

func (r *memRows) LockOrder(id string) (Order, bool, error) { o, ok := r.orders[id]; return o, ok, nil }
func (r *memRows) ReadOrder(id string) (Order, bool, error) { return r.LockOrder(id) }
func (r *memRows) InsertOrder(o Order) (Order, InsertOutcome, error) {
	if old, ok := r.orders[o.ID]; ok {
		return old, InsertKeyExists, nil
	}
	if _, ok := r.items[o.SKU]; !ok {
		return Order{}, InsertReferenceMissing, nil
	}
	r.orders[o.ID] = o
	return Order{}, InsertDone, nil
}
func (r *memRows) SetOrderStatus(old, next Order) error {
	if r.orders[old.ID].Status != old.Status {
		return fmt.Errorf("order %s changed", old.ID)
	}
	r.orders[old.ID] = next
	return nil
}
func (r *memRows) LockItem(sku string) (Item, bool, error) {
	r.locked = append(r.locked, sku)
	it, ok := r.items[sku]
	return it, ok, nil
}
func (r *memRows) TryLockItem(sku string) (Item, bool, error) { return r.LockItem(sku) }
func (r *memRows) InsertItem(it Item) (InsertOutcome, error) {
	if it.SKU == r.raceSKU {
		r.raceSKU = ""
		r.items[it.SKU] = Item{SKU: it.SKU, Quantity: 7}
	}
	if _, ok := r.items[it.SKU]; ok {
		return InsertKeyExists, nil
	}
	r.items[it.SKU] = it
	return InsertDone, nil
}
func (r *memRows) UpdateItem(it Item) error  { r.items[it.SKU] = it; return nil }
func (r *memRows) SetQuantity(it Item) error { return r.UpdateItem(it) }
func (r *memRows) TakeStock(sku string, q int64, at time.Time) (bool, error) {
	it, ok := r.items[sku]
	if !ok || it.Quantity < q {
		return false, nil
	}
	it.Quantity, it.UpdatedAt = it.Quantity-q, at
	r.items[sku] = it
	return true, nil
}
func (r *memRows) HasBackorders(sku string) (bool, error) {
	b, err := r.LockBackorders(sku, 1)
	return len(b) > 0, err
}
func (r *memRows) LockBackorders(sku string, limit int) ([]Order, error) {
	var out []Order
	for _, o := range r.orders {
		if o.Status == OrderBackordered && slices.ContainsFunc(o.WithLines().Lines, func(l OrderLine) bool { return l.SKU == sku }) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Order) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out[:min(limit, len(out))], nil
}
func (r *memRows) FirstBackorder(sku string) (string, bool, error) {
	b, err := r.LockBackorders(sku, 1)
	if len(b) == 0 {
		return "", false, err
	}
	return b[0].ID, true, err
}
func (r *memRows) SetLinesBackordered(string, bool) error { return nil }
func (r *memRows) BackorderSKUs(sku string, limit int) ([]string, error) {
	b, err := r.LockBackorders(sku, limit)
	var out []string
	for _, o := range b {
		if len(o.Lines) > 1 {
			for _, l := range o.Lines {
				out = append(out, l.SKU)
			}
		}
	}
	return out, err
}
func (r *memRows) InsertPaymentAttempt(PaymentAttempt) error              { return nil }
func (r *memRows) UpsertExecution(Execution, []byte) error                { return nil }
func (r *memRows) InsertNotified(string, string, time.Time) (bool, error) { return true, nil }
func (r *memRows) Record(c Change) error                                  { r.changes = append(r.changes, c); return nil }
func (r *memRows) tables() (s []string) {
	for _, c := range r.changes {
		s = append(s, c.Table+" "+c.EventType)
	}
	return s
}

// TestTxOrderLifecycle drives an order through the transitions and checks
// the decisions and the change records each one makes.
func TestTxOrderLifecycle(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	rows := newMemRows(Item{SKU: "A", Quantity: 3})
	tx := Tx{Rows: rows, Now: now, TraceParent: "tp"}

	if _, _, err := tx.CreateOrder(Order{ID: "o0", SKU: "NOPE", Quantity: 1}); ErrorField(err) != "sku" {
		t.Fatalf("unknown SKU: %v, want EINVALID on sku", err)
	}
	o, created, err := tx.CreateOrder(Order{ID: "o1", CustomerID: "c", SKU: "A", Quantity: 2, Status: OrderPaid})
	if err != nil || !created || o.Status != OrderPending || o.CreatedAt != now {
		t.Fatalf("create: %+v %v %v", o, created, err)
	}
	if again, created, err := tx.CreateOrder(Order{ID: "o1", SKU: "A", Quantity: 9}); err != nil || created || !again.Equal(o) {
		t.Fatalf("create again: %+v %v %v", again, created, err)
	}
	if o, err = tx.ReserveStock("o1"); err != nil || o.Status != OrderReserved || rows.items["A"].Quantity != 1 {
		t.Fatalf("reserve: %+v %v", o, err)
	}
	if again, err := tx.ReserveStock("o1"); err != nil || !again.Equal(o) {
		t.Fatalf("reserve again: %+v %v", again, err)
	}
	if o, err = tx.CompletePayment("o1", false, ""); err != nil || o.Status != OrderPaymentFailed ||
		o.Reason != "payment declined" || rows.items["A"].Quantity != 3 {
		t.Fatalf("decline: %+v %v", o, err)
	}
	if _, err := tx.ReserveStock("nope"); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("reserve unknown: %v", err)
	}
	want := []string{"orders INSERT", "inventory UPDATE", "orders UPDATE", "inventory UPDATE", "orders UPDATE"}
	if got := rows.tables(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	for _, c := range rows.changes {
		if !c.Time.Equal(now) || c.TraceParent != "tp" {
			t.Fatalf("change %+v not stamped with the transaction's time and traceparent", c)
		}
	}

	rows.changes = nil
	rows.orders["o2"] = Order{ID: "o2", SKU: "A", Quantity: 5, Status: OrderPending}
	if o, err = tx.ReserveStock("o2"); err != nil || o.Status != OrderRejected ||
		o.Reason != "insufficient stock: requested 5, available 3" {
		t.Fatalf("reserve too many: %+v %v", o, err)
	}
	if got := rows.tables(); fmt.Sprint(got) != "[orders UPDATE]" {
		t.Fatalf("rejection changes %v", got)
	}
}

// TestTxInventory checks PutItem's lock-or-insert loop and AdjustStock's
// bounds.
func TestTxInventory(t *testing.T) {
	rows := newMemRows()
	rows.raceSKU = "B"
	tx := Tx{Rows: rows, Now: time.Unix(1, 0).UTC()}
	it, err := tx.PutItem(Item{SKU: "B", Quantity: 4})
	if err != nil || it.Quantity != 4 || rows.items["B"].Quantity != 4 {
		t.Fatalf("put over a concurrent insert: %+v %v", it, err)
	}
	if got := rows.tables(); fmt.Sprint(got) != "[inventory UPDATE]" || string(rows.changes[0].OldImage) == "" {
		t.Fatalf("put over a concurrent insert: changes %v, want an UPDATE of the row it met", got)
	}
	if _, err := tx.AdjustStock("B", Adjustment{Delta: -5}); ErrorCode(err) != EINSUFFICIENT {
		t.Fatalf("over-removal: %v", err)
	}
	if _, err := tx.AdjustStock("B", Adjustment{Delta: MaxQuantity}); ErrorField(err) != "delta" {
		t.Fatalf("over-raise: %v", err)
	}
	if _, err := tx.AdjustStock("Z", Adjustment{Delta: 1}); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("unknown SKU: %v", err)
	}
	if it, err = tx.AdjustStock("B", Adjustment{Delta: -4}); err != nil || it.Quantity != 0 {
		t.Fatalf("adjust: %+v %v", it, err)
	}
}

func (r *memRows) ItemExists(sku string) (bool, error) { _, ok := r.items[sku]; return ok, nil }

// TestTxLines: a multi-line order locks its items in SKU order whatever the
// order of its lines, is reserved whole or rejected with nothing taken, and
// its release puts every line back, again in SKU order.
func TestTxLines(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rows := newMemRows(Item{SKU: "A", Quantity: 5}, Item{SKU: "B", Quantity: 5}, Item{SKU: "C", Quantity: 1})
	tx := Tx{Rows: rows, Now: now}
	lines := []OrderLine{{SKU: "C", Quantity: 1}, {SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 3}}
	o, created, err := tx.CreateOrder(Order{ID: "o1", CustomerID: "c", Lines: lines})
	if err != nil || !created || o.SKU != "C" || o.Quantity != 6 || !slices.Equal(o.Lines, lines) {
		t.Fatalf("create: %+v %v %v", o, created, err)
	}
	lines[0].Quantity = 99 // the order holds a copy
	if rows.orders["o1"].Lines[0].Quantity != 1 {
		t.Fatal("the order shares the caller's lines")
	}
	if _, _, err := tx.CreateOrder(Order{ID: "o0", CustomerID: "c", Lines: []OrderLine{{SKU: "A", Quantity: 1}, {SKU: "NOPE", Quantity: 1}}}); ErrorField(err) != "lines[1].sku" {
		t.Fatalf("unknown SKU in line 1: %v", err)
	}
	rows.locked = nil
	if o, err = tx.ReserveStock("o1"); err != nil || o.Status != OrderReserved {
		t.Fatalf("reserve: %+v %v", o, err)
	}
	if !slices.Equal(rows.locked, []string{"A", "B", "C"}) {
		t.Fatalf("locked %v, want SKU order", rows.locked)
	}
	if a, b, c := rows.items["A"].Quantity, rows.items["B"].Quantity, rows.items["C"].Quantity; a != 3 || b != 2 || c != 0 {
		t.Fatalf("stock %d %d %d after the reservation", a, b, c)
	}

	if _, _, err := tx.CreateOrder(Order{ID: "o2", CustomerID: "c", Lines: []OrderLine{{SKU: "B", Quantity: 1}, {SKU: "A", Quantity: 4}}}); err != nil {
		t.Fatal(err)
	}
	before := len(rows.changes)
	if o, err := tx.ReserveStock("o2"); err != nil || o.Status != OrderRejected || o.Reason != "insufficient stock of A: requested 4, available 3" {
		t.Fatalf("reserve o2: %+v %v", o, err)
	}
	if got := rows.tables()[before:]; !slices.Equal(got, []string{TableOrders + " UPDATE"}) {
		t.Fatalf("a rejection recorded %v, want only the order's change", got)
	}

	rows.locked = nil
	if _, err := tx.CancelOrder("o1"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows.locked, []string{"A", "B", "C"}) {
		t.Fatalf("release locked %v, want SKU order", rows.locked)
	}
	if a, b, c := rows.items["A"].Quantity, rows.items["B"].Quantity, rows.items["C"].Quantity; a != 5 || b != 5 || c != 1 {
		t.Fatalf("stock %d %d %d after the cancel", a, b, c)
	}
}

// TestTxLinesBackorderLockOrder: a restock of B, whose queue holds an order
// of A and B, locks A ahead of B (SKU order, lockForFill), and a cancel of
// that order locks both before the order, so neither waits out of order.
func TestTxLinesBackorderLockOrder(t *testing.T) {
	rows := newMemRows(Item{SKU: "A", Quantity: 5, AllowBackorder: true}, Item{SKU: "B", Quantity: 0, AllowBackorder: true})
	tx := Tx{Rows: rows, Now: time.Unix(1, 0).UTC()}
	if _, _, err := tx.CreateOrder(Order{ID: "m", CustomerID: "c", Lines: []OrderLine{{SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	if o, err := tx.ReserveStock("m"); err != nil || o.Status != OrderBackordered || o.Reason != "waiting for stock of B: requested 2, available 0" {
		t.Fatalf("reserve %+v, %v", o, err)
	}
	rows.locked = nil
	if it, err := tx.AdjustStock("B", Adjustment{Delta: 1}); err != nil || it.Quantity != 1 {
		t.Fatalf("restock %+v, %v", it, err)
	}
	if got := rows.locked; len(got) < 2 || got[0] != "A" || got[1] != "B" {
		t.Fatalf("restock locked %v, want A, then B", got)
	}
	rows.locked = nil
	if o, err := tx.CancelOrder("m"); err != nil || o.Status != OrderCancelled {
		t.Fatalf("cancel %+v, %v", o, err)
	}
	if got := rows.locked; len(got) < 2 || got[0] != "A" || got[1] != "B" {
		t.Fatalf("cancel locked %v, want A, then B", got)
	}
	if a, b := rows.items["A"].Quantity, rows.items["B"].Quantity; a != 5 || b != 1 {
		t.Fatalf("stock A %d, B %d: a backorder's cancel released something", a, b)
	}
}
