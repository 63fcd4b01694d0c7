package http

import (
	"net/http"
	"net/url"

	"github.com/wims/wims"
)

// createOrderRequest is the body of POST /orders. SKU is a pointer so an
// omitted sku (the default product) differs from an explicit "" (an error).
type createOrderRequest struct {
	CustomerID string  `json:"customerId"`
	Quantity   int64   `json:"quantity"`
	SKU        *string `json:"sku"`
}

// handleCreateOrder accepts an order: 202 PENDING with Location. The order
// is durable when this answers; the workflow reserves stock asynchronously.
//
// With an Idempotency-Key the order id is derived from the key
// (OrderIDForKey), so a retry (even after a crash between commit and
// answer) finds the order it created instead of creating another: same body
// → 202 with the order as it is now and Idempotent-Replayed: true; a
// different body → 422 idempotency-key-reused.
func (s *Server) handleCreateOrder(w http.ResponseWriter, r *http.Request) error {
	key, hasKey, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var req createOrderRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	o := wims.Order{
		CustomerID: req.CustomerID,
		SKU:        wims.DefaultSKU,
		Quantity:   req.Quantity,
		Status:     wims.OrderPending,
	}
	if req.SKU != nil {
		o.SKU = *req.SKU
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if hasKey {
		o.ID = OrderIDForKey(key)
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
		if got.CustomerID != o.CustomerID || got.SKU != o.SKU || got.Quantity != o.Quantity {
			return newAPIError(kindIdempotencyReused, wims.ECONFLICT, "Idempotency-Key",
				"was already used for a different order (customerId, sku or quantity differ)")
		}
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/orders/"+url.PathEscape(got.ID))
	return s.writeJSON(w, r, http.StatusAccepted, got)
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
	Payments   []wims.PaymentAttempt `json:"payments"`
	Executions []wims.Execution      `json:"executions"`
}

// handleGetOrder answers an order with its payment attempts and workflow
// executions, oldest first, or 404.
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
	v := orderView{Order: o, Payments: []wims.PaymentAttempt{}, Executions: []wims.Execution{}}
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
