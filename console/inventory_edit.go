package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// itemForm is a submitted form's values and its errors by field (the API's
// member names: sku, productName, quantity, lowStockThreshold, …), so a bad
// form comes back filled in, each error next to its field.
type itemForm struct {
	// SKU is the item a thresholds form was for ("" for the create form).
	SKU    string
	Values url.Values
	Errors map[string]string
}

// Value returns the submitted value of field.
func (f *itemForm) Value(field string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(field)
}

// Error returns field's error, "" if none.
func (f *itemForm) Error(field string) string {
	if f == nil {
		return ""
	}
	return f.Errors[field]
}

// fail records err (a wims field error, or a message for field) on field.
func (f *itemForm) fail(field, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if _, ok := f.Errors[field]; !ok {
		f.Errors[field] = msg
	}
}

// failErr records a store or validation error on its field, or on
// fallback when it names none.
func (f *itemForm) failErr(err error, fallback string) {
	field := wims.ErrorField(err)
	if field == "" {
		field = fallback
	}
	f.fail(field, wims.ErrorMessage(err))
}

// intField parses form's field as a whole number; empty is def (required:
// an error). It records the error on form.
func intField(form *itemForm, field string, def int64, required bool) int64 {
	v := strings.TrimSpace(form.Values.Get(field))
	if v == "" {
		if required {
			form.fail(field, "is required")
		}
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		form.fail(field, "must be a whole number, e.g. 100")
	}
	return n
}

// itemEditor is the store's wims.ItemEditor, or nil: then the create and
// thresholds forms are not shown (a store without it cannot change levels
// without risking a lost update; see wims.ItemEditor).
func (h *Handler) itemEditor() wims.ItemEditor {
	ed, _ := h.store.(wims.ItemEditor)
	return ed
}

// forbidEdit answers 403 unless s may change the inventory and the store
// can; it reports whether it answered.
func (h *Handler) forbidEdit(w http.ResponseWriter, r *http.Request, s *session) bool {
	if !s.canAct() {
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may look but not change the inventory; log in with an admin key.")
		return true
	}
	if h.itemEditor() == nil {
		h.renderError(w, r, s, http.StatusNotImplemented, "This store cannot edit items from the console.")
		return true
	}
	return false
}

// handleThresholds applies a thresholds form: an item's lowStockThreshold
// and highStockThreshold (empty: 0, none). Its quantity is kept as stored
// (wims.ItemEditor). Admin only; CSRF-checked by viewer.
func (h *Handler) handleThresholds(w http.ResponseWriter, r *http.Request, s *session) {
	if h.forbidEdit(w, r, s) {
		return
	}
	sku := r.PathValue("sku")
	if wims.ValidateSKU(sku) != nil {
		h.renderError(w, r, s, http.StatusNotFound, "No such item.")
		return
	}
	form := &itemForm{SKU: sku, Values: r.PostForm}
	low := intField(form, "lowStockThreshold", 0, true)
	high := intField(form, "highStockThreshold", 0, false)
	if form.Errors == nil {
		item, err := h.itemEditor().SetThresholds(r.Context(), sku, low, high)
		switch wims.ErrorCode(err) {
		case "":
			h.log.InfoContext(r.Context(), "console: stock levels set", "sku", sku, "low", item.LowStockThreshold,
				"high", item.HighStockThreshold, "key", s.fingerprint, "role", s.role)
			http.Redirect(w, r, inventoryURL(r.PostForm.Get("after"), url.Values{"levels": {sku}}), http.StatusSeeOther)
			return
		case wims.EINVALID:
			form.failErr(err, "lowStockThreshold")
		default:
			h.storeError(w, r, s, err)
			return
		}
	}
	h.showInventory(w, r, s, http.StatusBadRequest, inventoryView{Levels: form})
}

// handleCreateItem applies the new-item form. An existing SKU is refused
// (a field error), never replaced. Admin only; CSRF-checked by viewer.
func (h *Handler) handleCreateItem(w http.ResponseWriter, r *http.Request, s *session) {
	if h.forbidEdit(w, r, s) {
		return
	}
	form := &itemForm{Values: r.PostForm}
	item := wims.Item{
		SKU:         strings.TrimSpace(form.Values.Get("sku")),
		ProductName: strings.TrimSpace(form.Values.Get("productName")),
		Model:       strings.TrimSpace(form.Values.Get("model")),
	}
	if err := wims.ValidateSKU(item.SKU); err != nil {
		form.failErr(err, "sku")
	}
	if item.ProductName == "" {
		form.fail("productName", "is required")
	}
	item.Quantity = intField(form, "quantity", 0, true)
	item.LowStockThreshold = intField(form, "lowStockThreshold", wimshttp.DefaultLowStockThreshold, false)
	item.HighStockThreshold = intField(form, "highStockThreshold", 0, false)
	if form.Errors == nil {
		if err := item.Validate(); err != nil {
			form.failErr(err, "sku")
		}
	}
	if form.Errors == nil {
		created, err := h.itemEditor().CreateItem(r.Context(), item)
		switch wims.ErrorCode(err) {
		case "":
			h.log.InfoContext(r.Context(), "console: item created", "sku", created.SKU, "quantity", created.Quantity,
				"key", s.fingerprint, "role", s.role)
			http.Redirect(w, r, inventoryURL(r.PostForm.Get("after"), url.Values{"created": {created.SKU}}), http.StatusSeeOther)
			return
		case wims.ECONFLICT:
			form.fail("sku", "already exists; change its stock with Adjust below")
		case wims.EINVALID:
			form.failErr(err, "sku")
		default:
			h.storeError(w, r, s, err)
			return
		}
	}
	h.showInventory(w, r, s, http.StatusBadRequest, inventoryView{Create: form})
}

// formField is one labelled input of the new-item form, as the
// "item-field" template draws it.
type formField struct {
	Name, Label, Type string
	Required          bool
	Value, Error      string
}

// fieldOf builds a formField from the form (nil: a fresh form).
func fieldOf(f *itemForm, name, label, typ, required string) formField {
	return formField{Name: name, Label: label, Type: typ, Required: required != "", Value: f.Value(name), Error: f.Error(name)}
}

// LevelsFor returns the refused thresholds form if it was sku's, else nil.
func (v inventoryView) LevelsFor(sku string) *itemForm {
	if v.Levels != nil && v.Levels.SKU == sku {
		return v.Levels
	}
	return nil
}
