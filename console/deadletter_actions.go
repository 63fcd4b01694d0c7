package console

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// The console's own pages are registered here rather than in pages.go, so
// that each feature's templates are listed next to its handlers.
func init() {
	pageNames = append(pageNames, "dead-letter", "dead-letters-confirm")
}

// deadLetterFilterFields are the filter's form fields, in the order the
// filter form shows them.
var deadLetterFilterFields = []string{"consumer", "rule", "target", "bus", "reason"}

// deadLetterFilterFrom reads a dead-letter filter from form fields and
// checks it as the API does (wimshttp.CheckDeadLetterFilter).
func deadLetterFilterFrom(v url.Values) (wims.DeadLetterFilter, error) {
	f := wims.DeadLetterFilter{Consumer: v.Get("consumer"), Rule: v.Get("rule"), Target: v.Get("target"), Bus: v.Get("bus"), Reason: v.Get("reason")}
	return f, wimshttp.CheckDeadLetterFilter(f)
}

// filterValues is f as form values ("" fields left out), to carry a filter
// from the list to the confirmation and on to the next page.
func filterValues(f wims.DeadLetterFilter) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"consumer": f.Consumer, "rule": f.Rule, "target": f.Target, "bus": f.Bus, "reason": f.Reason} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// headerRow is one header of a dead letter.
type headerRow struct{ Name, Value string }

// deadLetterView is the page of one dead letter.
type deadLetterView struct {
	Row     deadLetterRow
	Headers []headerRow
	CanAct  bool
}

// handleDeadLetter shows one dead letter in full: every header, why it
// failed, how often it was tried and the whole message.
func (h *Handler) handleDeadLetter(w http.ResponseWriter, r *http.Request, s *session) {
	if h.dlqUnavailable(w, r, s) {
		return
	}
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		h.renderError(w, r, s, http.StatusNotFound, "No such dead letter.")
		return
	}
	m, err := h.dlq.DeadLetter(r.Context(), seq)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v := deadLetterView{Row: newDeadLetterRow(m, s.seesCustomers()), CanAct: s.canAct()}
	for _, k := range slices.Sorted(maps.Keys(m.Header)) {
		v.Headers = append(v.Headers, headerRow{k, m.Header[k]})
	}
	h.renderView(w, r, http.StatusOK, "dead-letter", view{
		Title: "Dead letter " + strconv.FormatUint(seq, 10), Nav: "dead-letters", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
	})
}

// Bulk operations of POST /ui/dead-letters/bulk.
const (
	bulkRedrive = "redrive"
	bulkPurge   = "purge"
)

// bulkConfirmView is the confirmation of a bulk redrive or purge: what it
// would touch, and the form that does it.
type bulkConfirmView struct {
	Op       string // bulkRedrive or bulkPurge
	Selected bool   // the selected dead letters, else all matching Filter
	Filter   []headerRow
	Rows     []deadLetterRow
	More     bool // more match than one bulk action touches
	Missing  int  // selected dead letters that are gone
}

// handleBulk redrives or purges the selected dead letters (seq fields), or
// all those matching the filter fields (all=1), admin only. Without
// confirm=1 it is a dry run: it shows what would be touched and asks to
// confirm, changing nothing. At most wimshttp.MaxBulk at a time, newest
// first, as POST /dead-letters/redrive does.
func (h *Handler) handleBulk(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.canAct() {
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may look but not redrive or purge; log in with an admin key.")
		return
	}
	if h.dlqUnavailable(w, r, s) {
		return
	}
	form := r.PostForm
	op := form.Get("op")
	if op != bulkRedrive && op != bulkPurge {
		h.renderError(w, r, s, http.StatusBadRequest, "op must be redrive or purge.")
		return
	}
	ctx := r.Context()
	v := bulkConfirmView{Op: op, Selected: form.Get("all") != "1"}
	var msgs []*wims.Message
	if v.Selected {
		seqs := form["seq"]
		if len(seqs) == 0 {
			h.showDeadLetters(w, r, s, http.StatusBadRequest, deadLettersView{Error: "Select at least one dead letter, or act on all that match the filter."})
			return
		}
		if len(seqs) > wimshttp.MaxBulk {
			h.renderError(w, r, s, http.StatusBadRequest, "At most "+strconv.Itoa(wimshttp.MaxBulk)+" dead letters at a time.")
			return
		}
		for _, raw := range seqs {
			seq, err := strconv.ParseUint(raw, 10, 64)
			if err != nil || seq == 0 {
				h.renderError(w, r, s, http.StatusBadRequest, "seq must be a positive whole number.")
				return
			}
			m, err := h.dlq.DeadLetter(ctx, seq)
			if wims.ErrorCode(err) == wims.ENOTFOUND {
				v.Missing++ // redriven or purged meanwhile: nothing to do
				continue
			}
			if err != nil {
				h.storeError(w, r, s, err)
				return
			}
			msgs = append(msgs, m)
		}
	} else {
		f, err := deadLetterFilterFrom(form)
		if err != nil {
			h.showDeadLetters(w, r, s, http.StatusBadRequest, deadLettersView{Error: clientMessage(err)})
			return
		}
		for _, k := range deadLetterFilterFields {
			if val := form.Get(k); val != "" {
				v.Filter = append(v.Filter, headerRow{k, val})
			}
		}
		page, err := h.dlq.DeadLetterPage(ctx, 0, wimshttp.MaxBulk, f.Match)
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		msgs, v.More = page.Messages, page.Prev > 0
	}
	if form.Get("confirm") != "1" {
		for _, m := range msgs {
			v.Rows = append(v.Rows, newDeadLetterRow(m, s.seesCustomers()))
		}
		h.renderView(w, r, http.StatusOK, "dead-letters-confirm", view{
			Title: "Confirm " + op, Nav: "dead-letters", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
		})
		return
	}
	act := h.dlq.Redrive
	if op == bulkPurge {
		act = h.dlq.PurgeDeadLetter
	}
	n := 0
	for _, m := range msgs {
		switch err := act(ctx, m.Seq); wims.ErrorCode(err) {
		case "":
			n++
		case wims.ENOTFOUND: // gone meanwhile
		default:
			h.log.ErrorContext(ctx, "console: bulk "+op, "done", n, "of", len(msgs), "err", err)
			h.renderError(w, r, s, http.StatusInternalServerError, "Stopped after "+strconv.Itoa(n)+" of "+strconv.Itoa(len(msgs))+" dead letters; it has been logged.")
			return
		}
	}
	h.log.InfoContext(ctx, "console: dead letters "+op, "count", n, "selected", v.Selected, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/dead-letters?"+url.Values{"done": {op}, "count": {strconv.Itoa(n)}}.Encode(), http.StatusSeeOther)
}
