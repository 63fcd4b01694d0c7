package console

import (
	"net/http"

	"github.com/wims/wims"
)

func init() {
	pageNames = append(pageNames, "confirm")
	// list lets a template range over a fixed set of choices (a select's
	// options) without a view field for each.
	funcs["list"] = func(s ...string) []string { return s }
}

// formErrors are a form's validation errors: each at its field (by form
// field name), and what belongs to no field at the top.
type formErrors struct {
	Fields map[string]string
	Top    string
}

// Any reports whether there is an error.
func (e formErrors) Any() bool { return e.Top != "" || len(e.Fields) > 0 }

// newFormErrors places err at the form field that fields maps its domain
// field to (wims.ErrorField), or at the top. The message is the domain's
// own, so the console says what the API says.
func newFormErrors(err error, fields map[string]string) formErrors {
	if f, ok := fields[wims.ErrorField(err)]; ok {
		return formErrors{Fields: map[string]string{f: wims.ErrorMessage(err)}}
	}
	return formErrors{Top: clientMessage(err)}
}

// isClientError reports whether err is the caller's fault (to show on the
// form) rather than the server's (to log).
func isClientError(err error) bool {
	switch wims.ErrorCode(err) {
	case wims.EINVALID, wims.ENOTFOUND, wims.ECONFLICT, wims.ELIMIT:
		return true
	}
	return false
}

// confirmView asks to confirm a destructive action: Action is the form's
// POST URL, Fields its hidden fields (confirm=1 is added), Back where
// Cancel goes.
type confirmView struct {
	Question, Detail string
	Action, Button   string
	Back             string
	// BackLabel is the Back link's text, "Cancel" when empty; an action
	// that is itself a cancel needs another word.
	BackLabel string
	Fields    []headerRow
}

// confirm shows the confirmation page of an action.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request, s *session, nav string, v confirmView) {
	h.renderView(w, r, http.StatusOK, "confirm", view{
		Title: v.Question, Nav: nav, Session: s, LoginNeeded: h.keys.enabled(), Data: v,
	})
}

// mayAct answers 403 unless s may act (admin), and 503 without a platform.
func (h *Handler) mayAct(w http.ResponseWriter, r *http.Request, s *session, what string) bool {
	if !s.canAct() {
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may look but not "+what+"; log in with an admin key.")
		return false
	}
	if h.platform == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The event platform is not available in this configuration.")
		return false
	}
	return true
}
