package wims

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order statuses. PENDING → RESERVED → PAID, or PENDING → REJECTED (not enough
// stock, nothing charged), or RESERVED → PAYMENT_FAILED (declined, stock
// released). A cancel moves PENDING or RESERVED to CANCELLED (stock released)
// and PAID to REFUND_PENDING, which the refund moves to REFUNDED (stock
// released); see Tx.CancelOrder for the races. A PAID order is shipped by
// a person or a fulfillment service (POST /orders/{id}/shipment): SHIPPED,
// which keeps its stock (it left the warehouse) and can no longer be
// cancelled. An order whose short lines are all of items that allow
// backorders waits as BACKORDERED instead of REJECTED, and a restock moves
// it to RESERVED (Tx.ReserveStock, Tx.AdjustStock).
const (
	OrderPending       OrderStatus = "PENDING"
	OrderReserved      OrderStatus = "RESERVED"
	OrderPaid          OrderStatus = "PAID"
	OrderRejected      OrderStatus = "REJECTED"
	OrderPaymentFailed OrderStatus = "PAYMENT_FAILED"
	OrderCancelled     OrderStatus = "CANCELLED"
	OrderRefundPending OrderStatus = "REFUND_PENDING"
	OrderRefunded      OrderStatus = "REFUNDED"
	OrderShipped       OrderStatus = "SHIPPED"
	OrderBackordered   OrderStatus = "BACKORDERED"
)

// OrderStatuses lists every status, in the order of an order's life.
var OrderStatuses = []OrderStatus{
	OrderPending, OrderBackordered, OrderReserved, OrderPaid, OrderRejected, OrderPaymentFailed,
	OrderCancelled, OrderRefundPending, OrderRefunded, OrderShipped,
}

// statusList names every status for error messages, so they list what
// OrderStatuses holds.
var statusList = func() string {
	names := make([]string, len(OrderStatuses))
	for i, s := range OrderStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}()

// Final reports whether no further transition leaves the status. PAID is
// not final: a cancel moves it to REFUND_PENDING, a shipment to SHIPPED.
func (s OrderStatus) Final() bool {
	return s == OrderRejected || s == OrderPaymentFailed || s == OrderCancelled || s == OrderRefunded ||
		s == OrderShipped
}

// HoldsStock reports whether an order in this status normally has stock set
// aside for it. A REFUND_PENDING order keeps its stock until the refund
// succeeds, unless its stock went back at a cancel before a late charge
// (Order.StockReleased); Order.HoldsStock tells the two apart. A SHIPPED
// order's stock left with it: it stays taken from the quantity on hand.
func (s OrderStatus) HoldsStock() bool {
	return s == OrderReserved || s == OrderPaid || s == OrderRefundPending || s == OrderShipped
}

// Order is a customer's request for quantities of one or more SKUs.
type Order struct {
	ID         string `json:"orderId"`
	CustomerID string `json:"customerId"`
	// SKU and Quantity are, for a one-line order, its line; for a
	// multi-line order, the first line's SKU and the total quantity of all
	// lines. Clients that predate Lines (the console, the bench) read them.
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Lines are what the order asks for, at least one, with distinct SKUs,
	// in the order the client gave them. Every order a store returns has
	// them, a one-line order too; a new order may leave them empty and give
	// SKU and Quantity instead (the single-SKU form).
	Lines  []OrderLine `json:"lines"`
	Status OrderStatus `json:"status"`
	Reason string      `json:"reason,omitempty"`
	// StockReleased is set on a REFUND_PENDING order whose stock is back on
	// hand already: it was cancelled while RESERVED (stock released) and
	// its charge, in flight at the cancel, succeeded afterwards. Its refund
	// then releases nothing, so stock is never put back twice.
	StockReleased bool `json:"stockReleased,omitempty"`
	// Carrier and TrackingID are the shipment of a SHIPPED order (see
	// Order.Ship), empty before.
	Carrier    string    `json:"carrier,omitempty"`
	TrackingID string    `json:"trackingId,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// HoldsStock reports whether the order has stock set aside for it, which
// is what stock conservation (DESIGN §5) sums.
func (o Order) HoldsStock() bool { return o.Status.HoldsStock() && !o.StockReleased }

// OrderLine is one SKU of an order and the quantity asked for.
type OrderLine struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// MaxOrderQuantity bounds one line's quantity.
const MaxOrderQuantity = 1_000_000

// MaxOrderLines bounds the lines of one order.
const MaxOrderLines = 100

// Validate checks a new order's client-supplied fields: either SKU and
// Quantity (a one-line order) or Lines. SKU and Quantity may accompany
// Lines only as WithLines sets them, so that an order read back can be
// sent again.
func (o Order) Validate() error {
	if o.CustomerID == "" {
		return FieldError("customerId", "is required")
	}
	if len(o.CustomerID) > 128 {
		return FieldError("customerId", "must be at most 128 characters")
	}
	if len(o.Lines) == 0 {
		if err := ValidateSKU(o.SKU); err != nil {
			return err
		}
		if o.Quantity <= 0 || o.Quantity > MaxOrderQuantity {
			return FieldError("quantity", "must be between 1 and %d", MaxOrderQuantity)
		}
		return nil
	}
	if len(o.Lines) > MaxOrderLines {
		return FieldError("lines", "must hold between 1 and %d lines", MaxOrderLines)
	}
	seen := make(map[string]int, len(o.Lines))
	for i, l := range o.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		if err := ValidateSKU(l.SKU); err != nil {
			return FieldError(field+".sku", "%s", ErrorMessage(err))
		}
		if j, dup := seen[l.SKU]; dup {
			// Refused rather than merged: a client that lists a SKU twice
			// more likely made a mistake than meant the sum.
			return FieldError(field+".sku", "repeats the SKU %q of lines[%d]", l.SKU, j)
		}
		seen[l.SKU] = i
		if l.Quantity <= 0 || l.Quantity > MaxOrderQuantity {
			return FieldError(field+".quantity", "must be between 1 and %d", MaxOrderQuantity)
		}
	}
	if (o.SKU != "" || o.Quantity != 0) && (o.SKU != o.Lines[0].SKU || o.Quantity != totalQuantity(o.Lines)) {
		return FieldError("lines", "must not be given with sku and quantity")
	}
	return nil
}

// WithLines returns o with Lines, SKU and Quantity consistent: an order in
// the single-SKU form gains its one line, and a multi-line order's SKU and
// Quantity become the first line's SKU and the total quantity. The lines
// are copied, so the caller's slice is never shared.
func (o Order) WithLines() Order {
	if len(o.Lines) == 0 {
		o.Lines = []OrderLine{{SKU: o.SKU, Quantity: o.Quantity}}
		return o
	}
	o.Lines = slices.Clone(o.Lines)
	o.SKU, o.Quantity = o.Lines[0].SKU, totalQuantity(o.Lines)
	return o
}

// SortedLines returns a copy of the order's lines in SKU order, the order
// in which a transaction locks their items, so that two orders over the
// same SKUs, whatever their lines' order, cannot deadlock.
func (o Order) SortedLines() []OrderLine {
	lines := slices.Clone(o.WithLines().Lines)
	slices.SortFunc(lines, func(a, b OrderLine) int { return strings.Compare(a.SKU, b.SKU) })
	return lines
}

// LineSKUs returns the SKUs of the order's lines in SKU order, the order
// their items are locked in (SortedLines).
func (o Order) LineSKUs() []string {
	lines := o.SortedLines()
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	return skus
}

// totalQuantity sums the lines' quantities.
func totalQuantity(lines []OrderLine) int64 {
	var n int64
	for _, l := range lines {
		n += l.Quantity
	}
	return n
}

// OrderFilter selects orders for ListOrders. Zero fields select everything.
type OrderFilter struct {
	// CustomerID, if set, selects that customer's orders.
	CustomerID string
	// Status, if set, selects orders in that status.
	Status OrderStatus
	// SKU, if set, selects the orders with a line of that item, any line
	// of a multi-line order (on indexes of (sku, created_at, order_id) of
	// orders and of the multi-line orders' lines, so a page costs the same
	// for any number of orders).
	SKU string
	// Limit bounds the page; ListOrders treats <= 0 as DefaultOrderLimit and
	// caps it at MaxOrderLimit.
	Limit int
	// Cursor continues a listing where an OrderPage's NextCursor left off;
	// "" starts at the newest order.
	Cursor string
}

// Limits of one page of ListOrders.
const (
	DefaultOrderLimit = 50
	MaxOrderLimit     = 500
)

// OrderPage is one page of orders, newest first (by creation time, then id).
type OrderPage struct {
	Orders []Order `json:"orders"`
	// NextCursor continues the listing after the last order of this page; ""
	// when there are no more orders.
	NextCursor string `json:"nextCursor,omitempty"`
}

// Validate checks a filter's client-supplied fields and normalises Limit.
func (f *OrderFilter) Validate() error {
	if len(f.CustomerID) > 128 {
		return FieldError("customerId", "must be at most 128 characters")
	}
	if f.SKU != "" {
		if err := ValidateSKU(f.SKU); err != nil {
			return err
		}
	}
	if f.Status != "" && !slices.Contains(OrderStatuses, f.Status) {
		return FieldError("status", "must be one of %s", statusList)
	}
	if f.Limit < 0 || f.Limit > MaxOrderLimit {
		return FieldError("limit", "must be between 1 and %d", MaxOrderLimit)
	}
	if f.Limit == 0 {
		f.Limit = DefaultOrderLimit
	}
	if f.Cursor != "" {
		if _, _, err := DecodeOrderCursor(f.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// orderCursorVersion prefixes every cursor, so the format can change later
// without old cursors being misread.
const orderCursorVersion = "o1."

// EncodeOrderCursor returns the opaque cursor that continues a newest-first
// listing after the order created at createdAt with id: the next page holds
// the orders that sort after it by (created_at DESC, order_id DESC). Both
// engines keep microseconds, so that is the cursor's precision.
func EncodeOrderCursor(createdAt time.Time, id string) string {
	raw := strconv.FormatInt(createdAt.UnixMicro(), 10) + "|" + id
	return orderCursorVersion + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeOrderCursor reverses EncodeOrderCursor. A cursor it did not make is
// EINVALID on field "cursor".
func DecodeOrderCursor(cursor string) (createdAt time.Time, id string, err error) {
	bad := FieldError("cursor", "is not a cursor this server issued")
	enc, ok := strings.CutPrefix(cursor, orderCursorVersion)
	if !ok || len(cursor) > 512 {
		return time.Time{}, "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return time.Time{}, "", bad
	}
	us, id, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" {
		return time.Time{}, "", bad
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, "", bad
	}
	return time.UnixMicro(n).UTC(), id, nil
}

// StatusChange is one entry of an order's history: the status it entered,
// why (for REJECTED and PAYMENT_FAILED), and when.
type StatusChange struct {
	Status OrderStatus `json:"status"`
	Reason string      `json:"reason,omitempty"`
	At     time.Time   `json:"at"`
}

// Reserve returns the order after the workflow tried to set its stock aside:
// RESERVED if reserved, else REJECTED with the reason, naming what was
// available. Stores apply the result in the transaction whose guarded
// update decided reserved.
func (o Order) Reserve(reserved bool, available int64) Order {
	if reserved {
		o.Status, o.Reason = OrderReserved, ""
		return o
	}
	o.Status = OrderRejected
	o.Reason = fmt.Sprintf("insufficient stock: requested %d, available %d", o.Quantity, available)
	return o
}

// RejectLine returns a multi-line order rejected because of one line: its
// reason names the SKU, what was asked and what was available. (A line
// behind earlier backorders makes the order wait instead: BackorderLine.)
func (o Order) RejectLine(l OrderLine, available int64) Order {
	o.Status = OrderRejected
	o.Reason = fmt.Sprintf("insufficient stock of %s: requested %d, available %d", l.SKU, l.Quantity, available)
	return o
}

// ReasonBackordered is the reason of a BACKORDERED order: it waits for a
// restock.
const ReasonBackordered = "waiting for stock"

// Backorder returns a PENDING order that waits for stock: BACKORDERED, the
// reason naming what it asked for and what was on hand, or, for available
// < 0, that earlier backorders wait before it.
func (o Order) Backorder(available int64) Order {
	o.Status = OrderBackordered
	if available < 0 {
		o.Reason = fmt.Sprintf("%s: requested %d, behind earlier backorders", ReasonBackordered, o.Quantity)
		return o
	}
	o.Reason = fmt.Sprintf("%s: requested %d, available %d", ReasonBackordered, o.Quantity, available)
	return o
}

// BackorderLine returns a PENDING multi-line order that waits for stock
// because of line l: BACKORDERED, the reason naming l's SKU, what it asked
// for and what was on hand, or, for available < 0, that earlier backorders
// of the SKU wait before it.
func (o Order) BackorderLine(l OrderLine, available int64) Order {
	o.Status = OrderBackordered
	if available < 0 {
		o.Reason = fmt.Sprintf("%s of %s: requested %d, behind earlier backorders", ReasonBackordered, l.SKU, l.Quantity)
		return o
	}
	o.Reason = fmt.Sprintf("%s of %s: requested %d, available %d", ReasonBackordered, l.SKU, l.Quantity, available)
	return o
}

// Settle returns a RESERVED order after its payment's final answer: PAID, or
// PAYMENT_FAILED with the reason ("payment declined" if none is given).
func (o Order) Settle(paid bool, reason string) Order {
	if paid {
		o.Status, o.Reason = OrderPaid, ""
		return o
	}
	if reason == "" {
		reason = "payment declined"
	}
	o.Status, o.Reason = OrderPaymentFailed, reason
	return o
}

// Reasons recorded by the cancel and refund transitions.
const (
	ReasonCancelledAfterPayment = "cancelled after payment"
	ReasonChargedAfterCancel    = "charged after cancellation"
)

// Cancel returns the order after a cancel request: CANCELLED from PENDING,
// BACKORDERED or RESERVED, REFUND_PENDING from PAID (the money goes back before the
// stock does). ok is false for any other status, which a cancel cannot
// leave; Tx.CancelOrder answers CANCELLED itself, as a repeated cancel.
func (o Order) Cancel() (next Order, ok bool) {
	switch o.Status {
	case OrderPending, OrderBackordered, OrderReserved:
		o.Status, o.Reason = OrderCancelled, ""
		return o, true
	case OrderPaid:
		o.Status, o.Reason = OrderRefundPending, ReasonCancelledAfterPayment
		return o, true
	}
	return o, false
}

// Shipment is how a PAID order left the warehouse: the body of POST
// /orders/{id}/shipment.
type Shipment struct {
	Carrier    string `json:"carrier"`
	TrackingID string `json:"trackingId"`
}

// Limits of a Shipment's fields.
const (
	MaxCarrierLength    = 64
	MaxTrackingIDLength = 128
)

// Validate checks a shipment's client-supplied fields: both are required,
// bounded, and free of control characters and surrounding spaces, so that
// the same shipment sent again compares equal (Tx.ShipOrder) and prints on
// one line.
func (s Shipment) Validate() error {
	for _, f := range []struct {
		name, v string
		max     int
	}{{"carrier", s.Carrier, MaxCarrierLength}, {"trackingId", s.TrackingID, MaxTrackingIDLength}} {
		switch {
		case f.v == "":
			return FieldError(f.name, "is required")
		case len(f.v) > f.max:
			return FieldError(f.name, "must be at most %d bytes", f.max)
		case strings.TrimSpace(f.v) != f.v:
			return FieldError(f.name, "must not start or end with spaces")
		case !utf8.ValidString(f.v):
			return FieldError(f.name, "must be valid UTF-8")
		case strings.ContainsFunc(f.v, unicode.IsControl):
			return FieldError(f.name, "must not contain control characters")
		}
	}
	return nil
}

// Ship returns a PAID order after its shipment: SHIPPED with the carrier and
// tracking id. ok is false for any other status; Tx.ShipOrder answers a
// SHIPPED order with the same shipment itself, as a repeated request.
func (o Order) Ship(s Shipment) (next Order, ok bool) {
	if o.Status != OrderPaid {
		return o, false
	}
	o.Status, o.Reason = OrderShipped, ""
	o.Carrier, o.TrackingID = s.Carrier, s.TrackingID
	return o, true
}

// NewOrderPage is the page of a listing that read up to limit+1 orders,
// newest first: the one more than a page holds only tells that there is a
// next page, whose cursor continues after this page's last order.
func NewOrderPage(orders []Order, limit int) OrderPage {
	if orders == nil {
		orders = []Order{} // "orders": [], not null
	}
	page := OrderPage{Orders: orders}
	if len(orders) > limit {
		page.Orders = orders[:limit]
		last := page.Orders[limit-1]
		page.NextCursor = EncodeOrderCursor(last.CreatedAt, last.ID)
	}
	return page
}

// MaxOrderIDLength bounds client-chosen order ids (idempotency keys).
const MaxOrderIDLength = 128

// ValidateCreate checks an order handed to CreateOrder: its ID, which the
// client chooses as an idempotency key, and then Validate.
func (o Order) ValidateCreate() error {
	if o.ID == "" {
		return FieldError("orderId", "is required")
	}
	if len(o.ID) > MaxOrderIDLength {
		return FieldError("orderId", "must be at most %d characters", MaxOrderIDLength)
	}
	return o.Validate()
}

// OrderNotFound is the ENOTFOUND error about an order.
func OrderNotFound(id string) error { return Errorf(ENOTFOUND, "order %q not found", id) }

// Equal reports whether o and p are the same order, field by field and
// line by line (an Order holds a slice, so == does not compile).
func (o Order) Equal(p Order) bool {
	return o.ID == p.ID && o.CustomerID == p.CustomerID && o.SKU == p.SKU && o.Quantity == p.Quantity &&
		slices.Equal(o.Lines, p.Lines) && o.Status == p.Status && o.Reason == p.Reason &&
		o.StockReleased == p.StockReleased && o.Carrier == p.Carrier && o.TrackingID == p.TrackingID &&
		o.CreatedAt.Equal(p.CreatedAt) && o.UpdatedAt.Equal(p.UpdatedAt)
}

// EncodeOrderLines returns what the engines store in an order's lines
// column: nil (SQL NULL) for a one-line order, whose line is its SKU and
// Quantity, else the JSON of its lines. One-line orders, nearly all of
// them, so cost nothing more to write or read than before lines existed.
func EncodeOrderLines(o Order) (*string, error) {
	if len(o.Lines) <= 1 {
		return nil, nil
	}
	b, err := json.Marshal(o.Lines)
	if err != nil {
		return nil, fmt.Errorf("encode order lines: %w", err)
	}
	s := string(b)
	return &s, nil
}

// DecodeOrderLines sets o.Lines from the lines column read with it (see
// EncodeOrderLines): nil gives the one line of o's SKU and Quantity.
func DecodeOrderLines(o *Order, col *string) error {
	if col == nil {
		o.Lines = []OrderLine{{SKU: o.SKU, Quantity: o.Quantity}}
		return nil
	}
	if err := json.Unmarshal([]byte(*col), &o.Lines); err != nil {
		return fmt.Errorf("decode lines of order %s: %w", o.ID, err)
	}
	return nil
}
