package console

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// inventoryPageSize is how many SKUs an inventory page shows: as many as
// the ring plots, so every row of a page has its sparkline.
const inventoryPageSize = maxSampledSKUs

// maxSKULength bounds a page cursor: no SKU is longer (wims.ValidateSKU).
const maxSKULength = 64

// listItemPage returns up to limit items after the SKU after, by SKU:
// through the store's wims.ItemPager (an index range), or, for a store
// without one, by cutting the page out of ListItems.
func listItemPage(ctx context.Context, store wimshttp.Store, after string, limit int) ([]wims.Item, error) {
	if p, ok := store.(wims.ItemPager); ok {
		return p.ListItemsAfter(ctx, after, limit)
	}
	items, err := store.ListItems(ctx)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearchFunc(items, after, func(it wims.Item, sku string) int {
		switch {
		case it.SKU < sku:
			return -1
		case it.SKU > sku:
			return 1
		}
		return 0
	})
	for i < len(items) && items[i].SKU <= after {
		i++
	}
	return items[i:min(len(items), i+limit)], nil
}

// inventoryURL is the inventory page after the SKU after, with extra
// parameters (the notices after a form).
func inventoryURL(after string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return "/ui/inventory"
	}
	return "/ui/inventory?" + q.Encode()
}

// watch marks the inventory page after page as watched at now, and forgets
// pages nobody asked for lately (a closed tab's) and, beyond
// maxStockPages, the least recently asked. Called with r.mu held.
func (r *ring) watch(page string, now time.Time) {
	idle := max(3*r.interval, 10*time.Second) // a stream asks every interval
	r.pages[page] = now
	for p, at := range r.pages {
		if now.Sub(at) > idle {
			delete(r.pages, p)
		}
	}
	for len(r.pages) > maxStockPages {
		oldest, first := "", true
		for p, at := range r.pages {
			if first || at.Before(r.pages[oldest]) {
				oldest, first = p, false
			}
		}
		delete(r.pages, oldest)
	}
}
