package wims

import "time"

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order statuses. PENDING → RESERVED → PAID, or PENDING → REJECTED (not enough
// stock, nothing charged), or RESERVED → PAYMENT_FAILED (declined, stock released).
const (
	OrderPending       OrderStatus = "PENDING"
	OrderReserved      OrderStatus = "RESERVED"
	OrderPaid          OrderStatus = "PAID"
	OrderRejected      OrderStatus = "REJECTED"
	OrderPaymentFailed OrderStatus = "PAYMENT_FAILED"
)

// Final reports whether no further transition leaves the status.
func (s OrderStatus) Final() bool {
	return s == OrderPaid || s == OrderRejected || s == OrderPaymentFailed
}

// HoldsStock reports whether an order in this status has stock set aside for it.
func (s OrderStatus) HoldsStock() bool { return s == OrderReserved || s == OrderPaid }

// Order is a customer's request for a quantity of one SKU.
type Order struct {
	ID         string      `json:"orderId"`
	CustomerID string      `json:"customerId"`
	SKU        string      `json:"sku"`
	Quantity   int64       `json:"quantity"`
	Status     OrderStatus `json:"status"`
	Reason     string      `json:"reason,omitempty"`
	CreatedAt  time.Time   `json:"createdAt"`
	UpdatedAt  time.Time   `json:"updatedAt"`
}

// MaxOrderQuantity bounds one order's quantity.
const MaxOrderQuantity = 1_000_000

// Validate checks a new order's client-supplied fields.
func (o Order) Validate() error {
	if o.CustomerID == "" {
		return FieldError("customerId", "is required")
	}
	if len(o.CustomerID) > 128 {
		return FieldError("customerId", "must be at most 128 characters")
	}
	if err := ValidateSKU(o.SKU); err != nil {
		return err
	}
	if o.Quantity <= 0 || o.Quantity > MaxOrderQuantity {
		return FieldError("quantity", "must be between 1 and %d", MaxOrderQuantity)
	}
	return nil
}
