package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// deadLettersPerPage is the length of a page of the dead-letters list.
const deadLettersPerPage = 50

// deadLetterRow is one dead letter as the console shows it.
type deadLetterRow struct {
	Seq               uint64
	Consumer, Subject string
	Rule, Target, Bus string
	Reason            string
	Attempts          int
	Time              string
	Payload           string // pretty-printed, redacted for read
}

func newDeadLetterRow(m *wims.Message, seesCustomers bool) deadLetterRow {
	h := m.Header
	attempts, _ := strconv.Atoi(h[wims.HeaderDLQAttempts])
	at := "—"
	if t, err := time.Parse(time.RFC3339Nano, h[wims.HeaderDLQTime]); err == nil {
		at = formatTime(t)
	} else if !m.Stored.IsZero() {
		at = formatTime(m.Stored)
	}
	row := deadLetterRow{Seq: m.Seq, Consumer: h[wims.HeaderDLQConsumer], Subject: h[wims.HeaderDLQSubject],
		Rule: h[wims.HeaderRule], Target: h[wims.HeaderTarget], Bus: h[wims.HeaderBus],
		Reason: h[wims.HeaderDLQReason], Attempts: attempts, Time: at}
	data := m.Data
	if !seesCustomers {
		data = wimshttp.RedactJSON(data)
	}
	var pretty bytes.Buffer
	if json.Valid(data) && json.Indent(&pretty, data, "", "  ") == nil {
		row.Payload = pretty.String()
	} else {
		row.Payload = string(data)
	}
	return row
}

// deadLettersView is the dead-letters page's data.
type deadLettersView struct {
	DeadLetters []deadLetterRow
	CanAct      bool
	First       bool
	Next        string
	// DryRun is the dead letter a dry run would redrive; Redriven the
	// sequence just redriven.
	DryRun   *deadLetterRow
	Redriven string
	Error    string
	// Filter is the list's filter (form values); Done and Count report a
	// bulk action just done ("redrive" or "purge", how many).
	Filter url.Values
	Done   string
	Count  int
}

func (h *Handler) dlqUnavailable(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.refuseLogs(w, r, s) {
		return true
	}
	if h.dlq != nil {
		return false
	}
	h.renderError(w, r, s, http.StatusServiceUnavailable, "Dead letters are not available in this configuration.")
	return true
}

// handleDeadLetters lists the dead letters newest first, a page at a time.
func (h *Handler) handleDeadLetters(w http.ResponseWriter, r *http.Request, s *session) {
	if h.dlqUnavailable(w, r, s) {
		return
	}
	v := deadLettersView{Redriven: r.URL.Query().Get("redriven")}
	if _, err := strconv.ParseUint(v.Redriven, 10, 64); err != nil {
		v.Redriven = ""
	}
	if d := r.URL.Query().Get("done"); d == bulkRedrive || d == bulkPurge {
		v.Done = d
		v.Count, _ = strconv.Atoi(r.URL.Query().Get("count"))
	}
	h.showDeadLetters(w, r, s, http.StatusOK, v)
}

func (h *Handler) showDeadLetters(w http.ResponseWriter, r *http.Request, s *session, status int, v deadLettersView) {
	var before uint64
	if c := r.URL.Query().Get("cursor"); c != "" {
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil || n == 0 {
			h.renderError(w, r, s, http.StatusBadRequest, "cursor is not a cursor this console made.")
			return
		}
		before = n
	}
	f, err := deadLetterFilterFrom(r.URL.Query())
	if err != nil {
		h.renderError(w, r, s, http.StatusBadRequest, clientMessage(err))
		return
	}
	v.Filter = filterValues(f)
	page, err := h.dlq.DeadLetterPage(r.Context(), before, deadLettersPerPage, f.Match)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	for _, m := range page.Messages {
		v.DeadLetters = append(v.DeadLetters, newDeadLetterRow(m, s.seesCustomers()))
	}
	v.CanAct, v.First = s.canAct(), before == 0
	if page.Prev > 0 {
		next := filterValues(f)
		next.Set("cursor", strconv.FormatUint(page.Prev, 10))
		v.Next = "/ui/dead-letters?" + next.Encode()
	}
	h.renderView(w, r, status, "dead-letters", view{
		Title: "Dead letters", Nav: "dead-letters", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
	})
}

// handleRedrive redrives one dead letter (admin only, CSRF-checked by
// viewer), or with dry-run=1 shows what would be redriven and changes
// nothing.
func (h *Handler) handleRedrive(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.canAct() {
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may look but not redrive; log in with an admin key.")
		return
	}
	if h.dlqUnavailable(w, r, s) {
		return
	}
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		h.renderError(w, r, s, http.StatusNotFound, "No such dead letter.")
		return
	}
	ctx := r.Context()
	if r.PostForm.Get("dry-run") == "1" {
		m, err := h.dlq.DeadLetter(ctx, seq)
		if wims.ErrorCode(err) == wims.ENOTFOUND {
			h.showDeadLetters(w, r, s, http.StatusNotFound, deadLettersView{Error: "There is no dead letter " + strconv.FormatUint(seq, 10) + " (any more)."})
			return
		}
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		row := newDeadLetterRow(m, s.seesCustomers())
		h.showDeadLetters(w, r, s, http.StatusOK, deadLettersView{DryRun: &row})
		return
	}
	switch err := h.dlq.Redrive(ctx, seq); wims.ErrorCode(err) {
	case "":
	case wims.ENOTFOUND:
		h.showDeadLetters(w, r, s, http.StatusNotFound, deadLettersView{Error: "There is no dead letter " + strconv.FormatUint(seq, 10) + " (any more)."})
		return
	default:
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: dead letter redriven", "seq", seq, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/dead-letters?"+url.Values{"redriven": {strconv.FormatUint(seq, 10)}}.Encode(), http.StatusSeeOther)
}
