package http

import (
	"net/http"

	"github.com/wims/wims"
)

// DefaultLowStockThreshold is the lowStockThreshold of an item put without
// one: the course's alert level (quantity <= 100), the same as the seeded
// item's, so a new product is watched like the MacGuffin unless the client
// says otherwise. Send 0 to get only OUT_OF_STOCK notifications.
const DefaultLowStockThreshold = 100

// putItemRequest is the body of PUT /inventory/{sku}. Pointers tell a
// missing member from a zero one: quantity 0 is a valid stock level.
type putItemRequest struct {
	ProductName       *string `json:"productName"`
	Model             string  `json:"model"`
	Quantity          *int64  `json:"quantity"`
	LowStockThreshold *int64  `json:"lowStockThreshold"`
	// HighStockThreshold 0 or absent: no overstock level.
	HighStockThreshold int64 `json:"highStockThreshold"`
	// AllowBackorder absent: false (orders beyond the stock are REJECTED).
	AllowBackorder bool `json:"allowBackorder"`
}

// handlePutItem creates or replaces an item. PUT replaces the whole item, so
// an omitted optional member takes its default rather than keeping the
// stored value: model "", lowStockThreshold DefaultLowStockThreshold,
// highStockThreshold 0 (none), allowBackorder false. A quantity above the
// stored one is a restock: waiting backorders take their share first, and
// the answer shows what is left.
func (s *Server) handlePutItem(w http.ResponseWriter, r *http.Request) error {
	sku := r.PathValue("sku")
	if err := wims.ValidateSKU(sku); err != nil {
		return err // before reading the body: the URL alone is wrong
	}
	var req putItemRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.ProductName == nil || *req.ProductName == "" {
		return wims.FieldError("productName", "is required")
	}
	if req.Quantity == nil {
		return wims.FieldError("quantity", "is required")
	}
	item := wims.Item{
		SKU:               sku,
		ProductName:       *req.ProductName,
		Model:             req.Model,
		Quantity:          *req.Quantity,
		LowStockThreshold: DefaultLowStockThreshold, HighStockThreshold: req.HighStockThreshold,
		AllowBackorder: req.AllowBackorder,
	}
	if req.LowStockThreshold != nil {
		item.LowStockThreshold = *req.LowStockThreshold
	}
	if err := item.Validate(); err != nil {
		return err
	}
	item, err := s.store.PutItem(r.Context(), item)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, item)
}

// handleListItems answers {"items":[…]}, ordered by SKU.
func (s *Server) handleListItems(w http.ResponseWriter, r *http.Request) error {
	items, err := s.store.ListItems(r.Context())
	if err != nil {
		return err
	}
	if items == nil {
		items = []wims.Item{} // [] rather than null: clients iterate it
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Items []wims.Item `json:"items"`
	}{items})
}

// handleGetItem answers one item, or 404.
func (s *Server) handleGetItem(w http.ResponseWriter, r *http.Request) error {
	sku := r.PathValue("sku")
	if wims.ValidateSKU(sku) != nil {
		// No such SKU can exist; answer as for any unknown one.
		return wims.Errorf(wims.ENOTFOUND, "No item with SKU %q.", truncate(sku, 64))
	}
	item, err := s.store.GetItem(r.Context(), sku)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, item)
}

// adjustRequest is the body of POST /inventory/{sku}/adjustments.
type adjustRequest struct {
	Delta  *int64 `json:"delta"`
	Reason string `json:"reason"`
}

// handleAdjustStock applies a restock or write-off. A write-off below 0 is
// 409 insufficient-stock; an unknown SKU is 404.
func (s *Server) handleAdjustStock(w http.ResponseWriter, r *http.Request) error {
	sku := r.PathValue("sku")
	var req adjustRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Delta == nil {
		return wims.FieldError("delta", "is required")
	}
	adj := wims.Adjustment{Delta: *req.Delta, Reason: req.Reason}
	if err := adj.Validate(); err != nil {
		return err
	}
	if wims.ValidateSKU(sku) != nil {
		return wims.Errorf(wims.ENOTFOUND, "No item with SKU %q.", truncate(sku, 64))
	}
	item, err := s.store.AdjustStock(r.Context(), sku, adj)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, item)
}

// truncate shortens s for echoing in a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
