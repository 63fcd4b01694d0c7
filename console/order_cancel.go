package console

import (
	"net/http"
	"net/url"

	"github.com/wims/wims"
)

// cancellable reports whether a cancel could still change o, so the order
// page offers the button only then; the store decides for real, since the
// order may move on between the page and the POST.
func cancellable(o wims.Order) bool {
	_, ok := o.Cancel()
	return ok
}

// handleOrderCancel cancels an order after a confirmation, through the
// same store method as POST /orders/{id}/cancel: PENDING or RESERVED
// becomes CANCELLED, PAID becomes REFUND_PENDING (the refund follows).
// An order past cancelling answers 409 with the store's reason.
func (h *Handler) handleOrderCancel(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.canAct() {
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may look but not cancel orders; log in with an admin key.")
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	if id == "" || len(id) > 255 {
		h.renderError(w, r, s, http.StatusNotFound, "No such order.")
		return
	}
	page := "/ui/orders/" + url.PathEscape(id)
	if r.PostForm.Get("confirm") != "1" {
		o, err := h.store.GetOrder(ctx, id)
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		detail := "Its reserved stock goes back to the shelf."
		if o.Status == wims.OrderPaid {
			detail = "It is paid: the payment is refunded, then its stock goes back to the shelf."
		}
		h.confirm(w, r, s, "orders", confirmView{
			Question: "Cancel order " + id + "?",
			Detail:   detail,
			Action:   page + "/cancel", Button: "Cancel order " + id, Back: page, BackLabel: "Keep the order",
		})
		return
	}
	o, err := h.store.CancelOrder(ctx, id)
	if wims.ErrorCode(err) == wims.ECONFLICT {
		h.renderError(w, r, s, http.StatusConflict, wims.ErrorMessage(err))
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: order cancelled", "order", id, "status", o.Status, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, page, http.StatusSeeOther)
}
