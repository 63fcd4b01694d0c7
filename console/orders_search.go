package console

import (
	"net/http"
	"net/url"

	"github.com/wims/wims"
)

// showOrderByID answers an orders search by order id: the one order, found
// by its primary key (no scan, however many orders there are), or an empty
// list saying there is none.
func (h *Handler) showOrderByID(w http.ResponseWriter, r *http.Request, s *session, id string) {
	v := ordersView{ID: id, SeesCustomers: s.seesCustomers(), Orders: []wims.Order{}}
	status := http.StatusOK
	stream := url.Values{}
	if len(id) <= 255 {
		o, err := h.store.GetOrder(r.Context(), id)
		switch wims.ErrorCode(err) {
		case "":
			v.Orders = append(v.Orders, o)
			if !o.Status.Final() {
				stream.Set("order", o.ID)
			}
		case wims.ENOTFOUND:
			status = http.StatusNotFound
		default:
			h.storeError(w, r, s, err)
			return
		}
	} else {
		status = http.StatusNotFound
	}
	h.renderView(w, r, status, "orders", view{
		Title: "Orders", Nav: "orders", Session: s, LoginNeeded: h.keys.enabled(),
		Stream: "/ui/stream?" + stream.Encode(), Data: v,
	})
}

// searchQuery is the part of an orders page's query string that keeps a
// customer or SKU search ("&customer=…&sku=…"), "" without one.
func searchQuery(f wims.OrderFilter) string {
	q := url.Values{}
	if f.CustomerID != "" {
		q.Set("customer", f.CustomerID)
	}
	if f.SKU != "" {
		q.Set("sku", f.SKU)
	}
	if len(q) == 0 {
		return ""
	}
	return "&" + q.Encode()
}
