package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/wims/wims"
)

// busFields maps the domain's field names of a bus to the new-bus form's.
var busFields = map[string]string{"Name": "name", "Description": "description"}

// busRoutes registers the bus actions of the platform page.
func (h *Handler) busRoutes() {
	h.mux.HandleFunc("POST /ui/buses", h.viewer(h.handleBusCreate))
	h.mux.HandleFunc("POST /ui/buses/delete", h.viewer(h.handleBusDelete))
}

// handleBusCreate creates a custom event bus through CreateEventBus, so
// its validation (and a name taken) is the API's; a refused form comes
// back filled in with the error at its field.
func (h *Handler) handleBusCreate(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "create event buses") {
		return
	}
	b := wims.EventBus{Name: strings.TrimSpace(r.PostForm.Get("name")), Description: r.PostForm.Get("description")}
	_, err := h.platform.CreateEventBus(r.Context(), b)
	if isClientError(err) {
		v := platformView{Bus: b, BusErrors: newFormErrors(err, busFields)}
		if wims.ErrorCode(err) == wims.ECONFLICT {
			v.BusErrors = formErrors{Fields: map[string]string{"name": wims.ErrorMessage(err)}}
		}
		h.showBuses(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: event bus created", "bus", b.Name, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/buses?"+url.Values{"bus-done": {"Created bus " + b.Name + "."}}.Encode(), http.StatusSeeOther)
}

// handleBusDelete deletes a custom event bus after a confirmation. The
// default bus is refused before anything else (its events are the
// system's own); a bus with rules or archives is refused by the platform
// (409, with its reason), as DeleteEventBus over the API.
func (h *Handler) handleBusDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "delete event buses") {
		return
	}
	ctx := r.Context()
	name := r.PostForm.Get("name")
	if name == wims.DefaultBus {
		h.renderError(w, r, s, http.StatusBadRequest, "The default event bus cannot be deleted.")
		return
	}
	if _, err := h.platform.DescribeEventBus(ctx, name); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if r.PostForm.Get("confirm") != "1" {
		h.confirm(w, r, s, "buses", confirmView{
			Question: "Delete event bus " + name + "?",
			Detail:   "Events put on it afterwards are refused.",
			Action:   "/ui/buses/delete", Button: "Delete event bus " + name, Back: "/ui/buses",
			Fields: []headerRow{{"name", name}},
		})
		return
	}
	err := h.platform.DeleteEventBus(ctx, name)
	if wims.ErrorCode(err) == wims.ECONFLICT {
		h.renderError(w, r, s, http.StatusConflict, wims.ErrorMessage(err))
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: event bus deleted", "bus", name, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/buses?"+url.Values{"bus-done": {"Deleted bus " + name + "."}}.Encode(), http.StatusSeeOther)
}
