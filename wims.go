// Package wims is the domain of the Warehouse Inventory Management System: its
// entities (items, orders, change records, events, payments, notifications,
// workflow executions), its error codes, and the interfaces that the adapter
// packages implement.
//
// The package imports no adapter. Implementations live in one package per
// dependency: sqlite (storage), nats (the bus), http (the API), pattern (the
// EventBridge pattern language), and cmd/wims ties them together.
//
// Data flow: an HTTP request writes a row and a change record in one
// transaction; the relay publishes change records to the bus as
// EventBridge-shaped events; the router matches every event against the rules
// and hands it to each matching target's durable delivery (order workflow,
// notifications, event log, webhooks).
package wims

import "time"

// Clock returns the current time. Components take one so tests can freeze or
// advance time.
type Clock func() time.Time

// DefaultSKU is the product an order gets when it names none: the course's
// MacGuffin, model LX.
const DefaultSKU = "MACGUFFIN-LX"

// SeedItem is the inventory a fresh data directory starts with, as in the course.
func SeedItem() Item {
	return Item{
		SKU:               DefaultSKU,
		ProductName:       "MacGuffin",
		Model:             "LX",
		Quantity:          1_000_000,
		LowStockThreshold: 100,
	}
}
