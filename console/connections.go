package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wims/wims"
)

func init() {
	pageNames = append(pageNames, "connections")
}

// connectionsPerPage is the length of a page of connections and of API
// destinations.
const connectionsPerPage = 50

// connectionFields and destinationFields map the domain's field names to
// the forms' fields.
var (
	connectionFields = map[string]string{
		"Name": "name", "Description": "description", "AuthorizationType": "auth",
		"AuthParameters.ApiKeyAuthParameters.ApiKeyName":  "key-name",
		"AuthParameters.ApiKeyAuthParameters.ApiKeyValue": "secret",
		"AuthParameters.BasicAuthParameters.Username":     "username",
		"AuthParameters.BasicAuthParameters.Password":     "secret",
	}
	destinationFields = map[string]string{
		"Name": "name", "Description": "description", "ConnectionArn": "connection", "InvocationEndpoint": "endpoint",
		"HttpMethod": "method", "InvocationRateLimitPerSecond": "rate",
	}
)

// connectionsView is the connections page: both lists, a page each, and
// the two forms (new, or editing one).
type connectionsView struct {
	Connections  []wims.Connection
	Destinations []wims.APIDestination
	// ConnPages and DestPages link the other pages of each list.
	ConnPages, DestPages pageLinks

	Conn          wims.Connection // the connection form (Secret always empty)
	EditConn      bool
	ConnErrors    formErrors
	Dest          wims.APIDestination
	EditDest      bool
	DestErrors    formErrors
	DestRate      string // as typed
	AllConnection []string
	Done          string
	CanAct        bool
}

// pageLinks are the previous and next page URLs of a list, "" for none.
type pageLinks struct{ Prev, Next string }

// pageOf cuts page p (from 0) of per items out of n, with its links made
// by link(page).
func pageOf(n, p, per int, link func(int) string) (from, to int, links pageLinks) {
	from = min(p*per, n)
	to = min(from+per, n)
	if p > 0 {
		links.Prev = link(p - 1)
	}
	if to < n {
		links.Next = link(p + 1)
	}
	return from, to, links
}

// handleConnections shows the connections and API destinations, and a
// form for a new one or for the one named by ?connection= or ?destination=.
func (h *Handler) handleConnections(w http.ResponseWriter, r *http.Request, s *session) {
	if h.platform == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The event platform is not available in this configuration.")
		return
	}
	q := r.URL.Query()
	v := connectionsView{Conn: wims.Connection{AuthorizationType: wims.AuthNone}, Dest: wims.APIDestination{HTTPMethod: "POST"}, Done: q.Get("done")}
	if len(v.Done) > maxPlatformName {
		v.Done = ""
	}
	ctx := r.Context()
	if name := q.Get("connection"); name != "" {
		c, err := h.platform.DescribeConnection(ctx, name)
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		v.Conn, v.EditConn = c, true
	}
	if name := q.Get("destination"); name != "" {
		d, err := h.platform.DescribeAPIDestination(ctx, name)
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		v.Dest, v.EditDest = d, true
		v.DestRate = strconv.Itoa(d.InvocationRateLimitPerSecond)
	}
	h.showConnections(w, r, s, http.StatusOK, v)
}

func (h *Handler) showConnections(w http.ResponseWriter, r *http.Request, s *session, status int, v connectionsView) {
	ctx := r.Context()
	q := r.URL.Query()
	conns, err := h.platform.ListConnections(ctx, "")
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	dests, err := h.platform.ListAPIDestinations(ctx, "")
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	for _, c := range conns {
		v.AllConnection = append(v.AllConnection, c.Name)
	}
	cp, _ := strconv.Atoi(q.Get("cpage"))
	dp, _ := strconv.Atoi(q.Get("dpage"))
	link := func(key string, other int, otherKey string) func(int) string {
		return func(p int) string {
			return "/ui/connections?" + url.Values{key: {strconv.Itoa(p)}, otherKey: {strconv.Itoa(other)}}.Encode()
		}
	}
	from, to, links := pageOf(len(conns), max(cp, 0), connectionsPerPage, link("cpage", dp, "dpage"))
	v.Connections, v.ConnPages = conns[from:to], links
	from, to, links = pageOf(len(dests), max(dp, 0), connectionsPerPage, link("dpage", cp, "cpage"))
	v.Destinations, v.DestPages = dests[from:to], links
	v.Conn.Secret = "" // never shown back
	v.CanAct = s.canAct()
	h.renderView(w, r, status, "connections", view{Title: "Connections", Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v})
}

// handleConnectionSave creates (mode=create) or updates a connection; an
// empty secret on update keeps the stored one (UpdateConnection).
func (h *Handler) handleConnectionSave(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "change connections") {
		return
	}
	f := r.PostForm
	c := wims.Connection{Name: strings.TrimSpace(f.Get("name")), Description: f.Get("description"), AuthorizationType: f.Get("auth"),
		APIKeyName: strings.TrimSpace(f.Get("key-name")), Username: f.Get("username"), Secret: f.Get("secret")}
	ctx := r.Context()
	edit := f.Get("mode") != "create"
	var err error
	if edit {
		var old wims.Connection
		if old, err = h.platform.DescribeConnection(ctx, c.Name); err == nil {
			c.InvocationHTTPParameters = old.InvocationHTTPParameters // the form does not edit them
			_, err = h.platform.UpdateConnection(ctx, c)
		}
	} else {
		_, err = h.platform.CreateConnection(ctx, c)
	}
	if isClientError(err) {
		v := connectionsView{Conn: c, EditConn: edit, ConnErrors: newFormErrors(err, connectionFields), Dest: wims.APIDestination{HTTPMethod: "POST"}}
		if wims.ErrorCode(err) == wims.ECONFLICT && !edit {
			v.ConnErrors = formErrors{Fields: map[string]string{"name": wims.ErrorMessage(err)}}
		}
		h.showConnections(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: connection saved", "connection", c.Name, "new", !edit, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/connections?"+url.Values{"done": {"saved connection " + c.Name}}.Encode(), http.StatusSeeOther)
}

// handleDestinationSave creates (mode=create) or updates an API
// destination.
func (h *Handler) handleDestinationSave(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "change API destinations") {
		return
	}
	f := r.PostForm
	d := wims.APIDestination{Name: strings.TrimSpace(f.Get("name")), Description: f.Get("description"), ConnectionName: f.Get("connection"),
		InvocationEndpoint: strings.TrimSpace(f.Get("endpoint")), HTTPMethod: f.Get("method")}
	rate := strings.TrimSpace(f.Get("rate"))
	edit := f.Get("mode") != "create"
	ctx := r.Context()
	var err error
	if rate != "" {
		if d.InvocationRateLimitPerSecond, err = strconv.Atoi(rate); err != nil {
			err = wims.FieldError("InvocationRateLimitPerSecond", "must be a whole number")
		}
	}
	if err == nil && edit {
		_, err = h.platform.UpdateAPIDestination(ctx, d)
	} else if err == nil {
		_, err = h.platform.CreateAPIDestination(ctx, d)
	}
	if isClientError(err) {
		v := connectionsView{Conn: wims.Connection{AuthorizationType: wims.AuthNone}, Dest: d, EditDest: edit, DestRate: rate, DestErrors: newFormErrors(err, destinationFields)}
		h.showConnections(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: API destination saved", "destination", d.Name, "new", !edit, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/connections?"+url.Values{"done": {"saved API destination " + d.Name}}.Encode(), http.StatusSeeOther)
}

// handleConnectionDelete deletes a connection (kind=connection) or an API
// destination (kind=destination) after a confirmation. The platform
// refuses a connection an API destination still uses (ECONFLICT).
func (h *Handler) handleConnectionDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "delete connections or API destinations") {
		return
	}
	kind, name := r.PostForm.Get("kind"), r.PostForm.Get("name")
	label := map[string]string{"connection": "connection", "destination": "API destination"}[kind]
	if label == "" || name == "" || len(name) > maxPlatformName {
		h.renderError(w, r, s, http.StatusBadRequest, "kind must be connection or destination, with a name.")
		return
	}
	ctx := r.Context()
	if r.PostForm.Get("confirm") != "1" {
		detail := "Targets that call API destination " + name + " will fail (and dead-letter) until it exists again."
		if kind == "connection" {
			detail = "Connection " + name + " and its stored secret are deleted; it must not be in use by an API destination."
		}
		h.confirm(w, r, s, "buses", confirmView{
			Question: "Delete " + label + " " + name + "?", Detail: detail,
			Action: "/ui/connections/delete", Button: "Delete " + label + " " + name, Back: "/ui/connections",
			Fields: []headerRow{{"kind", kind}, {"name", name}},
		})
		return
	}
	var err error
	if kind == "connection" {
		err = h.platform.DeleteConnection(ctx, name)
	} else {
		err = h.platform.DeleteAPIDestination(ctx, name)
	}
	if wims.ErrorCode(err) == wims.ECONFLICT {
		h.renderError(w, r, s, http.StatusConflict, wims.ErrorMessage(err))
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: "+label+" deleted", "name", name, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/connections?"+url.Values{"done": {"deleted " + label + " " + name}}.Encode(), http.StatusSeeOther)
}
