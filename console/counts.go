package console

import (
	"context"
	"sync"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// allStatuses lists the order statuses in the order of an order's life.
var allStatuses = []wims.OrderStatus{wims.OrderPending, wims.OrderReserved, wims.OrderPaid, wims.OrderRejected, wims.OrderPaymentFailed}

// maxCounted caps each status's count. The store has no count query, so
// counting pages through the orders; beyond the cap the overview says
// "at least" rather than read the whole table every second.
const maxCounted = 10_000

// overview is the numbers the overview shows and the stream pushes.
type overview struct {
	// Counts is the number of orders per status, each at most maxCounted.
	Counts map[wims.OrderStatus]int `json:"counts"`
	// Capped lists the statuses whose count reached maxCounted.
	Capped   map[wims.OrderStatus]bool `json:"capped,omitempty"`
	Items    int                       `json:"items"`
	LowStock int                       `json:"lowStock"`
	At       time.Time                 `json:"at"`
}

// Count returns the text of a status's count ("10000+" when capped).
func (o overview) Count(s wims.OrderStatus) string {
	return countText(o.Counts[s], o.Capped[s])
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
	o := overview{Counts: map[wims.OrderStatus]int{}, Capped: map[wims.OrderStatus]bool{}, At: time.Now()}
	for _, s := range allStatuses {
		n, err := countOrders(ctx, store, s)
		if err != nil {
			return overview{}, err
		}
		o.Counts[s] = n
		if n >= maxCounted {
			o.Capped[s] = true
		}
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

// countOrders counts the orders in status, up to maxCounted.
func countOrders(ctx context.Context, store wimshttp.Store, status wims.OrderStatus) (int, error) {
	n := 0
	f := wims.OrderFilter{Status: status, Limit: wims.MaxOrderLimit}
	for n < maxCounted {
		page, err := store.ListOrders(ctx, f)
		if err != nil {
			return 0, err
		}
		n += len(page.Orders)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	return min(n, maxCounted), nil
}
