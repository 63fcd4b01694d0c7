package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wims/wims"
)

// ordersPerPage is the length of a page of the orders list.
const ordersPerPage = 50

// countText shows a count, with "+" when it reached the cap.
func countText(n int, capped bool) string {
	if capped {
		return strconv.Itoa(n) + "+"
	}
	return strconv.Itoa(n)
}

// handleOverview shows the orders per status and the inventory's size.
func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request, s *session) {
	o, err := h.counts.get(r.Context())
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	l, err := h.liveFigures(r.Context(), "", true, false, false)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.renderView(w, r, http.StatusOK, "overview", view{
		Title: "Overview", Nav: "overview", Session: s, LoginNeeded: h.keys.enabled(),
		Stream: "/ui/stream?live=1", Data: overviewView{overview: o, Live: l},
	})
}

// ordersView is the orders page's data.
type ordersView struct {
	Orders []wims.Order
	Status wims.OrderStatus // the filter, "" for all
	// First says whether this is the newest page, which the stream keeps
	// adding new orders to.
	First         bool
	Next          string // the URL of the next (older) page, "" on the last
	SeesCustomers bool
	// Customer, SKU and ID are the search fields ("" for none): a
	// customer's or an item's orders (index ranges, pageable), or the one
	// order with that id.
	Customer, SKU, ID string
}

// handleOrders lists orders newest first, a page at a time, optionally of
// one status.
func (h *Handler) handleOrders(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	if id := strings.TrimSpace(q.Get("id")); id != "" {
		h.showOrderByID(w, r, s, id)
		return
	}
	f := wims.OrderFilter{Status: wims.OrderStatus(q.Get("status")), Cursor: q.Get("cursor"), Limit: ordersPerPage,
		CustomerID: strings.TrimSpace(q.Get("customer")), SKU: strings.TrimSpace(q.Get("sku"))}
	if f.CustomerID != "" && !s.seesCustomers() {
		// As in the API: read sees no customer identifiers, so it may not
		// select by one either (it would learn who ordered what).
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may not search orders by customer.")
		return
	}
	if err := f.Validate(); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	page, err := h.store.ListOrders(r.Context(), f)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v := ordersView{Orders: page.Orders, Status: f.Status, First: f.Cursor == "", SeesCustomers: s.seesCustomers(), Customer: f.CustomerID, SKU: f.SKU}
	if page.NextCursor != "" {
		v.Next = "/ui/orders?" + ordersQuery(f.Status, page.NextCursor)
		v.Next += searchQuery(f)
	}
	stream := url.Values{}
	if v.First && f.CustomerID == "" && f.SKU == "" { // the stream's newest page is everyone's
		// The newest page follows the newest orders (new ones appear).
		stream.Set("newest", "1")
		if f.Status != "" {
			stream.Set("status", string(f.Status))
		}
	}
	for _, o := range page.Orders {
		if !o.Status.Final() {
			stream.Add("order", o.ID) // only these can still change
		}
	}
	h.renderView(w, r, http.StatusOK, "orders", view{
		Title: "Orders", Nav: "orders", Session: s, LoginNeeded: h.keys.enabled(),
		Stream: "/ui/stream?" + stream.Encode(), Data: v,
	})
}

// ordersQuery is the query string of an orders page.
func ordersQuery(status wims.OrderStatus, cursor string) string {
	q := url.Values{}
	if status != "" {
		q.Set("status", string(status))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q.Encode()
}

// orderView is the order page's data.
type orderView struct {
	Order         wims.Order
	History       []wims.StatusChange
	Payments      []wims.PaymentAttempt
	Executions    []wims.Execution
	Journey       journey
	SeesCustomers bool
	// CanCancel says whether the Cancel form is shown (admin, and an
	// order a cancel can still change).
	CanCancel bool
}

// handleOrder shows one order with its journey (request, history, steps,
// payment attempts, events, trace), history, payment attempts and workflow
// executions.
func (h *Handler) handleOrder(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	if id == "" || len(id) > 255 {
		h.renderError(w, r, s, http.StatusNotFound, "No such order.")
		return
	}
	o, err := h.store.GetOrder(ctx, id)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v := orderView{Order: o, SeesCustomers: s.seesCustomers(), CanCancel: s.canAct() && cancellable(o)}
	if v.History, err = h.store.OrderHistory(ctx, id); err == nil {
		if v.Payments, err = h.store.PaymentAttempts(ctx, id); err == nil {
			v.Executions, err = h.store.Executions(ctx, id)
		}
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v.Journey = h.orderJourney(ctx, s, o, v.History, v.Payments, v.Executions)
	h.renderView(w, r, http.StatusOK, "order", view{
		Title: "Order " + o.ID, Nav: "orders", Session: s, LoginNeeded: h.keys.enabled(),
		Stream: "/ui/stream?" + url.Values{"order": {o.ID}, "detail": {"1"}}.Encode(), Data: v,
	})
}

// inventoryView is the inventory page's data.
type inventoryView struct {
	Items  []wims.Item
	CanAct bool
	// Adjusted names the SKU just adjusted, Error what went wrong.
	Adjusted string
	Error    string
	// CanEdit says whether the create and thresholds forms are shown
	// (admin, and a store that is a wims.ItemEditor).
	CanEdit bool
	// Created and LevelsSet name the SKU just created or given new levels.
	Created, LevelsSet string
	// Create and Levels are a refused form, with its values and errors.
	Create, Levels *itemForm
	// Live holds the stock sparklines of the page's SKUs.
	Live live
	// After is the SKU the page starts after ("" on the first page); the
	// forms send it back so that they return to the same page. Next is
	// the URL of the next page, "" on the last.
	After, Next string
}

// handleInventory lists the items, with an adjust form per item for admin.
func (h *Handler) handleInventory(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	h.showInventory(w, r, s, http.StatusOK, inventoryView{Adjusted: q.Get("adjusted"), Created: q.Get("created"), LevelsSet: q.Get("levels")})
}

func (h *Handler) showInventory(w http.ResponseWriter, r *http.Request, s *session, status int, v inventoryView) {
	// FormValue: the page's query on a GET, the form's hidden field on a
	// refused POST.
	if v.After = r.FormValue("after"); len(v.After) > maxSKULength {
		h.renderError(w, r, s, http.StatusBadRequest, "after: at most 64 characters, the longest SKU.")
		return
	}
	// One more than a page tells whether there is a next page.
	items, err := listItemPage(r.Context(), h.store, v.After, inventoryPageSize+1)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if len(items) > inventoryPageSize {
		items = items[:inventoryPageSize]
		v.Next = inventoryURL(items[len(items)-1].SKU, nil)
	}
	v.Items, v.CanAct = items, s.canAct()
	v.CanEdit = v.CanAct && h.itemEditor() != nil
	if v.Live, err = h.liveFigures(r.Context(), v.After, false, true, true); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	stream := url.Values{"stock": {"1"}}
	if v.After != "" {
		stream.Set("after", v.After)
	}
	h.renderView(w, r, status, "inventory", view{
		Title: "Inventory", Nav: "inventory", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
		Stream: "/ui/stream?" + stream.Encode(),
	})
}

// handleAdjust applies the adjust form: a restock (delta > 0) or write-off
// (delta < 0) with a reason. Only admin may; the form is CSRF-checked by
// viewer.
func (h *Handler) handleAdjust(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.canAct() {
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may look but not change stock; log in with an admin key.")
		return
	}
	sku := r.PathValue("sku")
	delta, err := strconv.ParseInt(r.PostForm.Get("delta"), 10, 64)
	if err != nil {
		h.showInventory(w, r, s, http.StatusBadRequest, inventoryView{Error: "delta must be a whole number, e.g. 10 or -5."})
		return
	}
	adj := wims.Adjustment{Delta: delta, Reason: r.PostForm.Get("reason")}
	if err := adj.Validate(); err != nil {
		h.showInventory(w, r, s, http.StatusBadRequest, inventoryView{Error: clientMessage(err)})
		return
	}
	if err := wims.ValidateSKU(sku); err != nil {
		h.renderError(w, r, s, http.StatusNotFound, "No such item.")
		return
	}
	item, err := h.store.AdjustStock(r.Context(), sku, adj)
	switch wims.ErrorCode(err) {
	case "":
	case wims.EINSUFFICIENT:
		h.showInventory(w, r, s, http.StatusConflict, inventoryView{Error: clientMessage(err)})
		return
	case wims.EINVALID:
		h.showInventory(w, r, s, http.StatusBadRequest, inventoryView{Error: clientMessage(err)})
		return
	default:
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: stock adjusted", "sku", item.SKU, "delta", delta, "quantity", item.Quantity,
		"key", s.fingerprint, "role", s.role)
	// Post/redirect/get: a reload must not adjust again.
	http.Redirect(w, r, inventoryURL(r.PostForm.Get("after"), url.Values{"adjusted": {item.SKU}}), http.StatusSeeOther)
}
