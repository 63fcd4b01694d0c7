package wims

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/wims/wims/internal/jsonobj"
)

// Domain events: what wims already knows from its changes, published on the
// default bus with their own source and detail-type, so users can write
// rules on "an order was reserved" instead of on row images.
const (
	SourceOrders    = "wims.orders"
	SourcePayments  = "wims.payments"
	SourceInventory = "wims.inventory"

	DetailOrderReserved    = "Order Reserved"
	DetailOrderRejected    = "Order Rejected"
	DetailOrderCancelled   = "Order Cancelled"
	DetailRefundPending    = "Refund Pending"
	DetailRefundSucceeded  = "Refund Succeeded"
	DetailOrderShipped     = "Order Shipped"
	DetailOrderBackordered = "Order Backordered"
	DetailPaymentSucceeded = "Payment Succeeded"
	DetailPaymentFailed    = "Payment Failed"
	DetailStockLow         = "Stock Low"
	DetailStockOut         = "Stock Out"
	DetailStockHigh        = "Stock High"
)

// OrderEventDetail is the detail of an order or payment domain event.
type OrderEventDetail struct {
	OrderID  string `json:"orderId"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Lines are the order's lines (SKU and Quantity are the first line's
	// SKU and the total, as on the order), one for a one-line order, so
	// that a rule or consumer can read every order the same way.
	Lines  []OrderLine `json:"lines"`
	Status OrderStatus `json:"status"`
	Reason string      `json:"reason,omitempty"`
	// Carrier and TrackingID are set on Order Shipped.
	Carrier    string `json:"carrier,omitempty"`
	TrackingID string `json:"trackingId,omitempty"`
}

// StockEventDetail is the detail of a stock-level domain event.
type StockEventDetail struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	Threshold int64  `json:"threshold"`
}

// DomainEvents derives the domain events a change stands for: an order's
// move to RESERVED, REJECTED, PAID, PAYMENT_FAILED, CANCELLED, REFUND_PENDING,
// REFUNDED, SHIPPED or BACKORDERED, and a stock level's crossing of a
// threshold. Each event's id is derived from the change's event id
// and its detail-type, so deriving them again (a relay republishing after a
// crash) yields the same ids and the bus drops the copies. Customer ids
// stay out of domain events: rules that need them read the change event.
func DomainEvents(c Change) ([]Event, error) {
	if c.EventType != ChangeUpdate {
		return nil, nil
	}
	switch c.Table {
	case TableOrders:
		// Of the old image only the status counts: read it without
		// decoding the order (its history is most of it).
		oldStatus, err := imageStatus(c.OldImage)
		if err != nil {
			return nil, fmt.Errorf("domain events of change %d: %w", c.Seq, err)
		}
		var n Order
		if err := json.Unmarshal(c.NewImage, &n); err != nil {
			return nil, fmt.Errorf("domain events of change %d: %w", c.Seq, err)
		}
		if oldStatus == n.Status {
			return nil, nil
		}
		source, detailType := SourceOrders, ""
		switch n.Status {
		case OrderReserved:
			detailType = DetailOrderReserved
		case OrderRejected:
			detailType = DetailOrderRejected
		case OrderPaid:
			source, detailType = SourcePayments, DetailPaymentSucceeded
		case OrderPaymentFailed:
			source, detailType = SourcePayments, DetailPaymentFailed
		case OrderCancelled:
			detailType = DetailOrderCancelled
		case OrderRefundPending:
			source, detailType = SourcePayments, DetailRefundPending
		case OrderRefunded:
			source, detailType = SourcePayments, DetailRefundSucceeded
		case OrderShipped:
			detailType = DetailOrderShipped
		case OrderBackordered:
			detailType = DetailOrderBackordered
		default:
			return nil, nil
		}
		// WithLines: an image logged before orders had lines has none.
		n = n.WithLines()
		ev, err := domainEvent(c, source, detailType, OrderEventDetail{
			OrderID: n.ID, SKU: n.SKU, Quantity: n.Quantity, Lines: n.Lines, Status: n.Status, Reason: n.Reason,
			Carrier: n.Carrier, TrackingID: n.TrackingID,
		}, "arn:aws:wims:"+EventRegion+":"+EventAccount+":order/"+n.ID)
		return []Event{ev}, err
	case TableInventory:
		var o, n Item
		if err := json.Unmarshal(c.OldImage, &o); err != nil {
			return nil, fmt.Errorf("domain events of change %d: %w", c.Seq, err)
		}
		if err := json.Unmarshal(c.NewImage, &n); err != nil {
			return nil, fmt.Errorf("domain events of change %d: %w", c.Seq, err)
		}
		var out []Event
		for _, k := range Crossings(&o, &n) {
			detailType := DetailStockLow
			switch k {
			case OutOfStock:
				detailType = DetailStockOut
			case Overstock:
				detailType = DetailStockHigh
			}
			threshold := n.LowStockThreshold // Stock Out events carry it too, as they always have
			if k == Overstock {
				threshold = n.HighStockThreshold
			}
			ev, err := domainEvent(c, SourceInventory, detailType, StockEventDetail{
				SKU: n.SKU, Quantity: n.Quantity, Threshold: threshold,
			}, "arn:aws:wims:"+EventRegion+":"+EventAccount+":item/"+n.SKU)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	}
	return nil, nil
}

func domainEvent(c Change, source, detailType string, detail any, resource string) (Event, error) {
	d, err := json.Marshal(detail)
	if err != nil {
		return Event{}, err
	}
	return Event{
		Version: EventVersion, ID: derivedID(c.EventID, detailType), DetailType: detailType, Source: source,
		Account: EventAccount, Time: c.Time.UTC(), Region: EventRegion, Resources: []string{resource}, Detail: d,
	}, nil
}

// derivedID is a UUID-shaped id (version 8, RFC 9562: custom) hashed from
// the change's event id and the detail-type.
func derivedID(eventID, detailType string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + detailType))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// imageStatus is the status of an order image, as decoding it would read
// it ("" if it has none or it is not a string).
func imageStatus(image []byte) (OrderStatus, error) {
	var status OrderStatus
	err := jsonobj.Each(image, func(key, value []byte) {
		if string(key) == "status" {
			s, _ := jsonobj.String(value)
			status = OrderStatus(s)
		}
	})
	return status, err
}
