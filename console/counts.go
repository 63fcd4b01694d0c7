package console

import (
	"context"
	"sync"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// allStatuses lists the order statuses in the order of an order's life,
// cancels and refunds included.
var allStatuses = wims.OrderStatuses

// overview is the numbers the overview shows and the stream pushes.
type overview struct {
	// Counts is the number of orders per status, from the store's count
	// query (an index scan), exact for any number of orders.
	Counts   map[wims.OrderStatus]int `json:"counts"`
	Items    int                      `json:"items"`
	LowStock int                      `json:"lowStock"`
	At       time.Time                `json:"at"`
}

// Count returns the text of a status's count.
func (o overview) Count(s wims.OrderStatus) string {
	return countText(o.Counts[s], false)
}

// countCache computes the overview at most once per interval, however many
// pages and streams ask for it.
type countCache struct {
	store    wimshttp.Store
	interval time.Duration

	mu   sync.Mutex
	last overview
}

func newCountCache(store wimshttp.Store, interval time.Duration) *countCache {
	return &countCache{store: store, interval: interval}
}

// get returns an overview no older than the interval.
func (c *countCache) get(ctx context.Context) (overview, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.last.At.IsZero() && time.Since(c.last.At) < c.interval {
		return c.last, nil
	}
	o, err := computeOverview(ctx, c.store)
	if err != nil {
		return overview{}, err
	}
	c.last = o
	return o, nil
}

func computeOverview(ctx context.Context, store wimshttp.Store) (overview, error) {
	o := overview{Counts: map[wims.OrderStatus]int{}, At: time.Now()}
	counts, err := store.CountOrders(ctx)
	if err != nil {
		return overview{}, err
	}
	for _, s := range allStatuses {
		o.Counts[s] = int(counts[s])
	}
	items, err := store.ListItems(ctx)
	if err != nil {
		return overview{}, err
	}
	o.Items = len(items)
	for _, it := range items {
		if it.Quantity <= it.LowStockThreshold {
			o.LowStock++
		}
	}
	return o, nil
}
