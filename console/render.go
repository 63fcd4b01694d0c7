package console

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/wims/wims"
)

// pageNames are the templates that are pages; each is parsed with the
// layout, so every page shares the header, nav and footer.
var pageNames = []string{"overview", "orders", "order", "inventory", "events", "event", "pattern-test", "dead-letters", "buses", "schema", "login", "error"}

// pages holds one template set per page.
type pages map[string]*template.Template

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	"time":     formatTime,
	"statuses": func() []wims.OrderStatus { return allStatuses },
	"group":    group,
	// patternTestEvents is how many events "Test a pattern" looks at.
	"patternTestEvents": func() int { return patternTestEvents },
	"liveTiles":         func() []liveTile { return liveTiles },
	"sparkBox":          func() string { return "0 0 " + strconv.Itoa(sparkWidth) + " " + strconv.Itoa(sparkHeight) },
	"fieldOf":           fieldOf,
	// moreLines is how many lines a multi-line order has beyond the first,
	// whose SKU the orders table shows.
	"moreLines": func(o wims.Order) int { return len(o.Lines) - 1 },
}

// group writes n with thousands separators: 1,000,000 reads at a glance,
// 1000000 does not.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

// formatTime shows a time in UTC to the millisecond: events a few
// milliseconds apart must read in the right order.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}

func parsePages() pages {
	p := pages{}
	for _, name := range pageNames {
		p[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return p
}

// view is what the layout needs, and the page's own data.
type view struct {
	Title   string
	Nav     string // the page's nav entry, marked aria-current
	Session *session
	// LoginNeeded says whether the console has API keys (so a logout
	// button makes sense).
	LoginNeeded bool
	// Stream is the /ui/stream URL the page's script listens to, "" for none.
	Stream string
	Data   any
	// Theme is the theme chosen with the toggle ("light", "dark"), ""
	// to follow the system's preference. Set by renderView.
	Theme string
}

// LoggedIn says whether the page shows the nav and the session.
func (v view) LoggedIn() bool { return v.Session != nil && v.Session.loggedIn() }

// Role is the session's role, shown in the header.
func (v view) Role() string {
	if v.Session == nil {
		return ""
	}
	return string(v.Session.role)
}

// SeesLogs says whether the nav links the events and dead-letters pages.
func (v view) SeesLogs() bool { return v.Session != nil && v.Session.seesLogs() }

// Fingerprint is the session's key's fingerprint, "" without keys.
func (v view) Fingerprint() string {
	if v.Session == nil {
		return ""
	}
	return v.Session.fingerprint
}

// CSRF is the token the page's forms carry.
func (v view) CSRF() string {
	if v.Session == nil {
		return ""
	}
	return v.Session.csrf
}

// render executes page into a buffer first, so a template error becomes a
// clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *session, status int, page, title string, data any) {
	h.renderView(w, r, status, page, view{Title: title, Nav: page, Session: s, LoginNeeded: h.keys.enabled(), Data: data})
}

func (h *Handler) renderView(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Theme = themeOf(r)
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.ErrorContext(r.Context(), "console: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // pages show live data and the CSRF token
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorView is the error page's data.
type errorView struct {
	Status  int
	Message string
}

// renderError answers status with a page saying msg.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	h.render(w, r, s, status, "error", http.StatusText(status), errorView{Status: status, Message: msg})
}

// storeError answers err from the store: its message for a client error,
// a generic one (and a log line) for anything else.
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	switch wims.ErrorCode(err) {
	case wims.ENOTFOUND:
		h.renderError(w, r, s, http.StatusNotFound, wims.ErrorMessage(err))
	case wims.EINVALID:
		h.renderError(w, r, s, http.StatusBadRequest, clientMessage(err))
	case wims.EUNAVAILABLE:
		h.renderError(w, r, s, http.StatusServiceUnavailable, "wims is unavailable; try again shortly.")
	default:
		h.log.ErrorContext(r.Context(), "console: store", "path", r.URL.Path, "err", err)
		h.renderError(w, r, s, http.StatusInternalServerError, "Something went wrong; it has been logged.")
	}
}

// handleNotFound answers every unknown console path.
func (h *Handler) handleNotFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, h.sessions.get(r), http.StatusNotFound, "There is no such page.")
}

// clientMessage is err's message for a person, naming the field if any.
func clientMessage(err error) string {
	if f := wims.ErrorField(err); f != "" {
		return f + " " + wims.ErrorMessage(err)
	}
	return wims.ErrorMessage(err)
}
