package console

import (
	"net/http"
	"strings"

	wimshttp "github.com/wims/wims/http"
)

// maxFormBytes bounds a form body: the console's forms are a few fields.
const maxFormBytes = 16 << 10

// sessionHandler is a handler that runs for a logged-in session.
type sessionHandler func(w http.ResponseWriter, r *http.Request, s *session)

// viewer wraps next so that it runs only for a logged-in session, and a
// POST only with the session's CSRF token. Without API keys every visitor
// gets an admin session at once: the session still carries the CSRF token,
// so the forms are protected the same way.
func (h *Handler) viewer(next sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.sessions.get(r)
		if !h.keys.enabled() && (s == nil || !s.loggedIn()) {
			if r.Method != http.MethodGet {
				// A first request that is a POST cannot carry this
				// session's token; refuse it rather than start one.
				h.renderError(w, r, s, http.StatusForbidden, "The form has expired. Reload the page and try again.")
				return
			}
			s = h.sessions.start(w, r, wimshttp.RoleAdmin, "")
		}
		if s == nil || !s.loggedIn() {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/stream") {
				http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
				return
			}
			h.renderError(w, r, nil, http.StatusUnauthorized, "Log in first.")
			return
		}
		if r.Method == http.MethodPost && !h.checkCSRF(w, r, s) {
			h.renderError(w, r, s, http.StatusForbidden, "The form has expired or did not come from this console. Reload the page and try again.")
			return
		}
		next(w, r, s)
	}
}

// checkCSRF parses r's form (bounded) and reports whether it carries s's
// token in the "csrf" field. SameSite=Strict already keeps the cookie off
// cross-site requests; the token also covers browsers and proxies that do not.
func (h *Handler) checkCSRF(w http.ResponseWriter, r *http.Request, s *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return false
	}
	return s != nil && s.validCSRF(r.PostForm.Get("csrf"))
}

// loginView is the login page's data.
type loginView struct {
	Error string
}

// handleLoginForm shows the login form, in a fresh pre-login session that
// holds its CSRF token.
func (h *Handler) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	s := h.sessions.get(r)
	if !h.keys.enabled() || s != nil && s.loggedIn() {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	if s == nil {
		s = h.sessions.start(w, r, "", "")
	}
	h.render(w, r, s, http.StatusOK, "login", "Log in", loginView{})
}

// handleLogin checks the submitted key and, if it is one of the configured
// keys, replaces the pre-login session with a logged-in one.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !h.keys.enabled() {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	s := h.sessions.get(r)
	if !h.checkCSRF(w, r, s) {
		h.renderError(w, r, nil, http.StatusForbidden, "The login form has expired. Reload the page and try again.")
		return
	}
	if !h.throttle.allowed(r) {
		w.Header().Set("Retry-After", "1")
		h.render(w, r, s, http.StatusTooManyRequests, "login", "Log in", loginView{Error: "Too many failed logins; wait a few seconds and try again."})
		return
	}
	k, ok := h.keys.lookup(r.PostForm.Get("key"))
	if !ok {
		h.throttle.failed(r)
		h.log.Warn("console login failed", "remote", r.RemoteAddr)
		h.render(w, r, s, http.StatusUnauthorized, "login", "Log in", loginView{Error: "That API key is not valid."})
		return
	}
	h.sessions.forget(r)
	h.sessions.start(w, r, k.role, k.fingerprint)
	h.log.Info("console login", "key", k.fingerprint, "role", k.role, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// handleLogout ends the session.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request, s *session) {
	h.sessions.end(w, r)
	h.log.Info("console logout", "key", s.fingerprint, "role", s.role)
	target := "/ui/login"
	if !h.keys.enabled() {
		target = "/ui/"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
