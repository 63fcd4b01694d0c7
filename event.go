package wims

import (
	"encoding/json"
	"time"
)

// Event is an EventBridge-shaped envelope, the unit that flows over the bus.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Envelope defaults for events wims produces itself.
const (
	EventVersion  = "0"
	EventAccount  = "000000000000"
	EventRegion   = "local"
	CDCSource     = "wims.cdc"
	CDCDetailType = "cdcEvent"
)

// Change event types, as DynamoDB Streams names them.
const (
	ChangeInsert = "INSERT"
	ChangeUpdate = "UPDATE"
	ChangeRemove = "REMOVE"
)

// Tables whose changes are captured.
const (
	TableInventory = "inventory"
	TableOrders    = "orders"
)

// Change is one row change recorded in the change log, in the same
// transaction as the change itself.
type Change struct {
	// Seq orders changes by commit; the relay publishes in Seq order.
	Seq int64
	// EventID is the id of the event this change becomes; it is fixed when the
	// change is written, so republishing yields the same event.
	EventID        string
	Table          string
	EventType      string
	Key            json.RawMessage // {"sku":"…"} or {"orderId":"…"}
	ChangedColumns []string
	NewImage       json.RawMessage // nil for REMOVE
	OldImage       json.RawMessage // nil for INSERT
	Time           time.Time
	// TraceParent is the W3C traceparent of the request that made the change.
	TraceParent string
}

// ChangeMeta is the detail.meta of a change event.
type ChangeMeta struct {
	IdempotencyID string `json:"idempotencyId"`
	Origin        string `json:"origin"`
	Seq           int64  `json:"seq"`
	TraceParent   string `json:"traceparent,omitempty"`
}

// ChangeData is the detail.data of a change event, shaped like a DynamoDB
// stream record with the API's field names in the images.
type ChangeData struct {
	Table          string          `json:"table"`
	EventType      string          `json:"eventType"`
	Key            json.RawMessage `json:"key"`
	ChangedColumns []string        `json:"changedColumns"`
	NewImage       json.RawMessage `json:"NewImage,omitempty"`
	OldImage       json.RawMessage `json:"OldImage,omitempty"`
}

// ChangeDetail is the detail of a change event.
type ChangeDetail struct {
	Meta ChangeMeta `json:"meta"`
	Data ChangeData `json:"data"`
}

// ChangeEvent turns a change record into the event the relay publishes.
// origin names the component that captured it (e.g. "sqlite").
func ChangeEvent(c Change, origin string) (Event, error) {
	cols := c.ChangedColumns
	if cols == nil {
		cols = []string{}
	}
	detail, err := json.Marshal(ChangeDetail{
		Meta: ChangeMeta{IdempotencyID: c.EventID, Origin: origin, Seq: c.Seq, TraceParent: c.TraceParent},
		Data: ChangeData{
			Table: c.Table, EventType: c.EventType, Key: c.Key, ChangedColumns: cols,
			NewImage: c.NewImage, OldImage: c.OldImage,
		},
	})
	if err != nil {
		return Event{}, err
	}
	return Event{
		Version:    EventVersion,
		ID:         c.EventID,
		DetailType: CDCDetailType,
		Source:     CDCSource,
		Account:    EventAccount,
		Time:       c.Time.UTC(),
		Region:     EventRegion,
		Resources:  []string{},
		Detail:     detail,
	}, nil
}

// EventFilter selects events from the event log.
type EventFilter struct {
	Limit      int
	Source     string
	DetailType string
	// LogGroup names the log group to read; "" is wims-events, the log of
	// the built-in "everything" rule.
	LogGroup string
}

// EventQuery selects a page of the event log.
type EventQuery struct {
	EventFilter
	// Since and Until bound when events were logged: [Since, Until).
	// With Since the page reads forward from it; without, it holds the
	// newest matching events.
	Since, Until time.Time
	// OrderID and SKU keep the events about that order or SKU (an order
	// event, a payment, a stock change); both: about both.
	OrderID, SKU string
	// Pattern is an EventBridge event pattern the events must match.
	Pattern string
	// Cursor continues a previous page (EventPage.Next or Prev); it
	// carries the position, so Since cannot be given with it.
	Cursor string
}

// EventPage is a page of the event log, in the order events were logged.
type EventPage struct {
	Events []json.RawMessage `json:"events"`
	// Next reads on after the page (newer events). It is always set, so
	// polling it follows the log.
	Next string `json:"next"`
	// Prev reads on before the page (older events); "" when the page
	// reaches the start of the log.
	Prev string `json:"prev,omitempty"`
}
