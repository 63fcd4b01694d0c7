package http

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wims/wims"
)

// createOrderRequest is the body of POST /orders: a customer and either
// sku and quantity (a one-line order, the original form) or lines, never
// both. SKU and Quantity are pointers so an omitted sku (the default
// product) differs from an explicit "" (an error), and so that either
// given with lines is refused rather than ignored.
type createOrderRequest struct {
	CustomerID string           `json:"customerId"`
	Quantity   *int64           `json:"quantity"`
	SKU        *string          `json:"sku"`
	Lines      []wims.OrderLine `json:"lines"`
}

// order is the new order the request asks for, or a field error: lines
// together with sku or quantity, or an empty lines array.
func (req createOrderRequest) order() (wims.Order, error) {
	o := wims.Order{CustomerID: req.CustomerID, Status: wims.OrderPending}
	if req.Lines != nil {
		if req.SKU != nil || req.Quantity != nil {
			return wims.Order{}, wims.FieldError("lines", "must not be given with sku or quantity")
		}
		if len(req.Lines) == 0 {
			return wims.Order{}, wims.FieldError("lines", "must hold between 1 and %d lines", wims.MaxOrderLines)
		}
		o.Lines = req.Lines
		return o, o.Validate()
	}
	o.SKU = wims.DefaultSKU
	if req.SKU != nil {
		o.SKU = *req.SKU
	}
	if req.Quantity != nil {
		o.Quantity = *req.Quantity
	}
	return o, o.Validate()
}

// handleCreateOrder accepts an order, of one SKU or several lines
// (createOrderRequest): 202 PENDING with Location. The order is durable
// when this answers; the workflow reserves stock asynchronously, all lines
// or none.
//
// Idempotency (draft-ietf-httpapi-idempotency-key-header): with an
// Idempotency-Key the order id is derived from the caller's scope (its API
// key's fingerprint) and the key (orderIDFor), so a retry, even after a
// crash between commit and answer, finds the order it created instead of
// creating another, and two API keys never share an order. Then:
//
//   - same key, same request (customerId and lines, compared as
//     values, so member order and spacing do not matter): 202 with the
//     original response (the order as created: PENDING, updatedAt =
//     createdAt) and Idempotent-Replayed: true, for as long as the order
//     exists (keys do not expire);
//   - same key, different request: 422 idempotency-key-reused;
//   - same key while the first request is still being served by this
//     process: 409 idempotency-key-in-flight with Retry-After. Across
//     instances the store's insert-if-absent still yields one order.
func (s *Server) handleCreateOrder(w http.ResponseWriter, r *http.Request) error {
	key, hasKey, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var req createOrderRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	o, err := req.order()
	if err != nil {
		return err
	}
	if hasKey {
		scope := principalFrom(r.Context()).scope
		release, err := s.claimKey(scope + "\x00" + key)
		if err != nil {
			w.Header().Set("Retry-After", "1")
			return err
		}
		defer release()
		o.ID = orderIDFor(scope, key)
	} else {
		o.ID = s.newOrderID()
	}
	now := s.now().UTC()
	o.CreatedAt, o.UpdatedAt = now, now

	got, created, err := s.store.CreateOrder(r.Context(), o)
	if err != nil {
		return err
	}
	if !created {
		if !hasKey {
			// A fresh id collided: NewOrderID is broken. Say so rather
			// than hand back someone else's order.
			return wims.Errorf(wims.ECONFLICT, "An order with id %s already exists.", o.ID)
		}
		// A one-line order asked for with lines equals the same order asked
		// for with sku and quantity: both are compared as their lines.
		if got.CustomerID != o.CustomerID || !slices.Equal(got.Lines, o.WithLines().Lines) {
			return newAPIError(kindIdempotencyReused, wims.ECONFLICT, "Idempotency-Key",
				"was already used for a different order (customerId or lines differ)")
		}
		got = originalResponse(got)
		w.Header().Set("Idempotent-Replayed", "true")
	}
	// The request's span names the order, so its trace can be found by it.
	trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("wims.order.id", got.ID))
	w.Header().Set("Location", "/orders/"+url.PathEscape(got.ID))
	return s.writeJSON(w, r, http.StatusAccepted, got)
}

// originalResponse is the body the first request with an idempotency key was
// answered with: the order as CreateOrder inserted it. It is a pure function
// of the stored row (status PENDING, no reason, updatedAt = createdAt), so it
// needs no snapshot table and survives a crash with the order itself.
func originalResponse(o wims.Order) wims.Order {
	o.Status, o.Reason, o.UpdatedAt = wims.OrderPending, "", o.CreatedAt
	return o
}

// orderIDFor derives the order id of an idempotency key in a scope. The
// anonymous scope ("", no API keys configured) uses the key alone, so ids
// derived before API keys existed stay the same; a key's scope is its
// fingerprint, joined with NUL, which no printable key can contain, so no
// scoped id can equal an anonymous one.
func orderIDFor(scope, key string) string {
	if scope == "" {
		return OrderIDForKey(key)
	}
	return OrderIDForKey(scope + "\x00" + key)
}

// claimKey marks an idempotency key as being served, or returns the 409 for
// a concurrent duplicate. release unmarks it.
func (s *Server) claimKey(k string) (release func(), err error) {
	s.inFlightMu.Lock()
	defer s.inFlightMu.Unlock()
	if s.inFlight[k] {
		return nil, newAPIError(kindIdempotencyInFlight, wims.ECONFLICT, "Idempotency-Key",
			"a request with this key is still being processed; retry later")
	}
	s.inFlight[k] = true
	return func() {
		s.inFlightMu.Lock()
		delete(s.inFlight, k)
		s.inFlightMu.Unlock()
	}, nil
}

// idempotencyKey returns the Idempotency-Key header. It must appear at most
// once and be 1–255 printable ASCII characters, so that it is loggable and
// means the same thing to every proxy on the way.
func idempotencyKey(r *http.Request) (key string, ok bool, err error) {
	vals, ok := r.Header["Idempotency-Key"]
	if !ok {
		return "", false, nil
	}
	if len(vals) != 1 {
		return "", false, wims.FieldError("Idempotency-Key", "must be sent once")
	}
	key = vals[0]
	if len(key) == 0 || len(key) > 255 {
		return "", false, wims.FieldError("Idempotency-Key", "must be 1-255 printable ASCII characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", false, wims.FieldError("Idempotency-Key", "must be 1-255 printable ASCII characters")
		}
	}
	return key, true, nil
}

// orderView is GET /orders/{id}: the order and what has happened to it.
type orderView struct {
	wims.Order
	History    []wims.StatusChange   `json:"history"`
	Payments   []wims.PaymentAttempt `json:"payments"`
	Executions []wims.Execution      `json:"executions"`
}

// handleGetOrder answers an order with its status history, payment attempts
// and workflow executions, each oldest first, or 404.
func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" || len(id) > 255 {
		return wims.Errorf(wims.ENOTFOUND, "No such order.")
	}
	ctx := r.Context()
	o, err := s.store.GetOrder(ctx, id)
	if err != nil {
		return err
	}
	if !viewerSeesCustomers(r) {
		o.CustomerID = Redacted
	}
	v := orderView{Order: o, History: []wims.StatusChange{}, Payments: []wims.PaymentAttempt{}, Executions: []wims.Execution{}}
	history, err := s.store.OrderHistory(ctx, id)
	if err != nil {
		return err
	}
	if history != nil {
		v.History = history
	}
	payments, err := s.store.PaymentAttempts(ctx, id)
	if err != nil {
		return err
	}
	if payments != nil {
		v.Payments = payments
	}
	execs, err := s.store.Executions(ctx, id)
	if err != nil {
		return err
	}
	if execs != nil {
		v.Executions = execs
	}
	return s.writeJSON(w, r, http.StatusOK, v)
}

// handleCancelOrder answers POST /orders/{id}/cancel with the order after
// the cancel (200): CANCELLED, or REFUND_PENDING for a PAID order, whose
// refund the payments dispatcher then sends. Cancelling a CANCELLED order
// again is a success that changes nothing, so a client may retry freely;
// an order past cancelling is 409 order-not-cancellable, an unknown one 404.
// The request has no body.
func (s *Server) handleCancelOrder(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" || len(id) > 255 {
		return wims.Errorf(wims.ENOTFOUND, "No such order.")
	}
	o, err := s.store.CancelOrder(r.Context(), id)
	if wims.ErrorCode(err) == wims.ECONFLICT {
		return newAPIError(kindNotCancellable, wims.ECONFLICT, "", wims.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	if !viewerSeesCustomers(r) {
		o.CustomerID = Redacted
	}
	return s.writeJSON(w, r, http.StatusOK, o)
}

// handleShipOrder answers POST /orders/{id}/shipment {"carrier","trackingId"}
// with the order after the shipment (200): SHIPPED with both recorded. Only
// a PAID order ships; the same shipment again is a success that changes
// nothing, so a fulfillment service may retry freely; any other status, or
// a different shipment of a SHIPPED order, is 409 order-not-shippable, an
// unknown order 404, a bad body 400 naming the field. Warehouse work, like
// stock adjustments, so admin only.
func (s *Server) handleShipOrder(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" || len(id) > 255 {
		return wims.Errorf(wims.ENOTFOUND, "No such order.")
	}
	var req wims.Shipment
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	o, err := s.store.ShipOrder(r.Context(), id, req)
	if wims.ErrorCode(err) == wims.ECONFLICT {
		return newAPIError(kindNotShippable, wims.ECONFLICT, "", wims.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, o)
}

// handleListOrders answers GET /orders?customerId=&status=&sku=&limit=&cursor=:
// {"orders":[…],"nextCursor":"…"}, newest first; the filters combine. nextCursor is omitted on
// the last page; pass it back as cursor for the next one.
func (s *Server) handleListOrders(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := wims.OrderFilter{
		CustomerID: q.Get("customerId"),
		Status:     wims.OrderStatus(q.Get("status")),
		SKU:        q.Get("sku"),
		Cursor:     q.Get("cursor"),
	}
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > wims.MaxOrderLimit {
			return wims.FieldError("limit", "must be a whole number from 1 to %d", wims.MaxOrderLimit)
		}
		f.Limit = n
	}
	if err := f.Validate(); err != nil {
		return err
	}
	role := principalFrom(r.Context()).role
	if f.CustomerID != "" && !seesCustomers(role) {
		return errCustomerSelector(role, "customerId")
	}
	page, err := s.store.ListOrders(r.Context(), f)
	if err != nil {
		return err
	}
	if page.Orders == nil {
		page.Orders = []wims.Order{}
	}
	if !seesCustomers(role) {
		for i := range page.Orders {
			page.Orders[i].CustomerID = Redacted
		}
	}
	return s.writeJSON(w, r, http.StatusOK, page)
}
