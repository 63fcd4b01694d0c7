package wims

import "context"

// MaxItemPage is the most items one ItemPager call returns.
const MaxItemPage = 1000

// ItemPager lists the inventory a page at a time, by SKU: keyset pages,
// so a page deep into a large inventory costs what the first one does
// (ListItems reads every item). Both store engines implement it.
type ItemPager interface {
	// ListItemsAfter returns up to limit items whose SKU sorts after
	// after ("" for the first page), ordered by SKU. A limit outside 1 to
	// MaxItemPage is clamped into that range.
	ListItemsAfter(ctx context.Context, after string, limit int) ([]Item, error)
}

// ClampItemPage is limit clamped into 1 to MaxItemPage, for ItemPager
// implementations.
func ClampItemPage(limit int) int { return min(max(limit, 1), MaxItemPage) }
