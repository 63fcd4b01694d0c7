package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wims/wims"
)

// DeadLetterQueue lists, redrives and purges messages that failed every
// attempt, so nothing sits forever without being visible.
type DeadLetterQueue interface {
	// DeadLetterPage returns up to limit dead letters below sequence
	// before (0: the newest) that keep accepts, newest first, with a
	// bounded read; Prev continues below the page (0: none left).
	DeadLetterPage(ctx context.Context, before uint64, limit int, keep func(*wims.Message) bool) (wims.MessagePage, error)
	// Redrive republishes the dead letter at seq to its original subject and
	// removes it; ENOTFOUND when there is none.
	Redrive(ctx context.Context, seq uint64) error
	// DeadLetter returns one dead letter; ENOTFOUND when there is none.
	DeadLetter(ctx context.Context, seq uint64) (*wims.Message, error)
	// PurgeDeadLetter deletes one dead letter; ENOTFOUND when there is none.
	PurgeDeadLetter(ctx context.Context, seq uint64) error
}

// deadLetter is one dead letter as the API shows it.
type deadLetter struct {
	Seq      uint64 `json:"seq"`
	Consumer string `json:"consumer"`
	// Rule, Target and Bus name the event-platform target that failed.
	Rule   string `json:"rule,omitempty"`
	Target string `json:"target,omitempty"`
	Bus    string `json:"bus,omitempty"`
	// DeadLetterARN is the target's DeadLetterConfig ARN, if it has one.
	DeadLetterARN string          `json:"deadLetterArn,omitempty"`
	Subject       string          `json:"subject"`
	Reason        string          `json:"reason"`
	Attempts      int             `json:"attempts"`
	Time          string          `json:"time"`
	Message       json.RawMessage `json:"message"`
}

// maxBulk bounds what one bulk redrive or purge touches; "more" in its
// answer says to call again.
const maxBulk = 1000

// deadLetterFilter reads the filter of GET /dead-letters from its query.
func deadLetterFilter(q url.Values, now time.Time) (wims.DeadLetterFilter, error) {
	f := wims.DeadLetterFilter{Consumer: q.Get("consumer"), Rule: q.Get("rule"), Target: q.Get("target"), Bus: q.Get("bus"), Reason: q.Get("reason")}
	var err error
	if f.Since, err = timeParam(q, "since", now); err != nil {
		return f, err
	}
	if f.Until, err = timeParam(q, "until", now); err != nil {
		return f, err
	}
	return f, checkDeadLetterFilter(f)
}

func checkDeadLetterFilter(f wims.DeadLetterFilter) error {
	for field, v := range map[string]string{"consumer": f.Consumer, "rule": f.Rule, "target": f.Target, "bus": f.Bus, "reason": f.Reason} {
		if len(v) > maxOrderOrSKULength {
			return wims.FieldError(field, "must be at most %d characters", maxOrderOrSKULength)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return wims.FieldError("until", "must be after since")
	}
	return nil
}

// handleDeadLetters answers {"deadLetters":[…],"cursor"}, newest first,
// filtered by where they came from, why and when; cursor pages on to
// older ones.
func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := defaultEventsLimit
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsLimit {
			return wims.FieldError("limit", "must be a whole number from 1 to %d", maxEventsLimit)
		}
		limit = n
	}
	var before uint64
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return wims.FieldError("cursor", "is not a cursor this API returned")
		}
		before = n
	}
	f, err := deadLetterFilter(q, s.now())
	if err != nil {
		return err
	}
	if s.dlq == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "Dead letters are not available in this configuration.")
	}
	page, err := s.dlq.DeadLetterPage(r.Context(), before, limit, f.Match)
	if err != nil {
		return err
	}
	out := make([]deadLetter, 0, len(page.Messages))
	for _, m := range page.Messages {
		dl := toDeadLetter(m)
		if !viewerSeesCustomers(r) {
			dl.Message = redactJSON(dl.Message)
		}
		out = append(out, dl)
	}
	resp := struct {
		DeadLetters []deadLetter `json:"deadLetters"`
		Cursor      string       `json:"cursor,omitempty"`
	}{DeadLetters: out}
	if page.Prev > 0 {
		resp.Cursor = strconv.FormatUint(page.Prev, 10)
	}
	return s.writeJSON(w, r, http.StatusOK, resp)
}

// bulkRequest is the body of POST /dead-letters/redrive and /purge.
type bulkRequest struct {
	wims.DeadLetterFilter
	// Limit bounds how many are touched (default and at most maxBulk).
	Limit int `json:"limit"`
}

// bulkResult answers a bulk redrive or purge.
type bulkResult struct {
	Status string   `json:"status"`
	Count  int      `json:"count"`
	Seqs   []uint64 `json:"seqs"`
	// More says that older dead letters were not looked at: call again.
	More bool `json:"more"`
}

// bulkHandler serves POST /dead-letters/redrive and /purge: the dead
// letters matching the body's filter, newest first, up to its limit; with
// ?dry-run=true it lists them and changes nothing.
func (s *Server) bulkHandler(done, wouldDo string, act func(ctx context.Context, seq uint64) error) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		dryRun, err := dryRunParam(r)
		if err != nil {
			return err
		}
		var req bulkRequest
		if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
			return err
		}
		if err := checkDeadLetterFilter(req.DeadLetterFilter); err != nil {
			return err
		}
		if req.Limit == 0 {
			req.Limit = maxBulk
		}
		if req.Limit < 1 || req.Limit > maxBulk {
			return wims.FieldError("limit", "must be a whole number from 1 to %d", maxBulk)
		}
		if s.dlq == nil {
			return wims.Errorf(wims.EUNAVAILABLE, "Dead letters are not available in this configuration.")
		}
		page, err := s.dlq.DeadLetterPage(r.Context(), 0, req.Limit, req.Match)
		if err != nil {
			return err
		}
		res := bulkResult{Status: wouldDo, Seqs: []uint64{}, More: page.Prev > 0}
		for _, m := range page.Messages {
			if !dryRun {
				if err := act(r.Context(), m.Seq); err != nil && wims.ErrorCode(err) != wims.ENOTFOUND {
					return fmt.Errorf("after %d of %d dead letters: %w", res.Count, len(page.Messages), err)
				}
			}
			res.Seqs = append(res.Seqs, m.Seq)
			res.Count++
		}
		status := http.StatusOK
		if !dryRun {
			res.Status = done
		}
		return s.writeJSON(w, r, status, res)
	}
}

// dryRunParam reads ?dry-run=.
func dryRunParam(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get("dry-run"); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, wims.FieldError("dry-run", "must be true or false")
}

// handlePurgeOne deletes one dead letter.
func (s *Server) handlePurgeOne(w http.ResponseWriter, r *http.Request) error {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		return wims.FieldError("seq", "must be a positive whole number")
	}
	if s.dlq == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "Dead letters are not available in this configuration.")
	}
	if err := s.dlq.PurgeDeadLetter(r.Context(), seq); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func toDeadLetter(m *wims.Message) deadLetter {
	attempts, _ := strconv.Atoi(m.Header[wims.HeaderDLQAttempts])
	body := json.RawMessage(m.Data)
	if !json.Valid(body) {
		body, _ = json.Marshal(string(m.Data))
	}
	return deadLetter{
		Seq: m.Seq, Consumer: m.Header[wims.HeaderDLQConsumer], Subject: m.Header[wims.HeaderDLQSubject],
		Rule: m.Header[wims.HeaderRule], Target: m.Header[wims.HeaderTarget], Bus: m.Header[wims.HeaderBus],
		DeadLetterARN: m.Header[wims.HeaderDeadLetterARN],
		Reason:        m.Header[wims.HeaderDLQReason], Attempts: attempts, Time: m.Header[wims.HeaderDLQTime], Message: body,
	}
}

// handleRedrive sends one dead letter back to the consumer that gave up on
// it: 202, since it is processed asynchronously. With ?dry-run=true it
// answers 200 with the dead letter that would be redriven and changes
// nothing.
func (s *Server) handleRedrive(w http.ResponseWriter, r *http.Request) error {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		return wims.FieldError("seq", "must be a positive whole number")
	}
	dryRun, err := dryRunParam(r)
	if err != nil {
		return err
	}
	if s.dlq == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "Dead letters are not available in this configuration.")
	}
	if dryRun {
		m, err := s.dlq.DeadLetter(r.Context(), seq)
		if err != nil {
			return err
		}
		return s.writeJSON(w, r, http.StatusOK, struct {
			Seq        uint64     `json:"seq"`
			Status     string     `json:"status"`
			DeadLetter deadLetter `json:"deadLetter"`
		}{seq, "would-redrive", toDeadLetter(m)})
	}
	if err := s.dlq.Redrive(r.Context(), seq); err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusAccepted, struct {
		Seq    uint64 `json:"seq"`
		Status string `json:"status"`
	}{seq, "redriven"})
}

// MaxBulk bounds what one bulk redrive or purge touches, for the console's
// bulk actions as for POST /dead-letters/redrive and /purge.
const MaxBulk = maxBulk

// CheckDeadLetterFilter validates a dead-letter filter as GET /dead-letters
// and the bulk routes do, so the console refuses exactly what the API
// refuses, with the same field errors.
func CheckDeadLetterFilter(f wims.DeadLetterFilter) error { return checkDeadLetterFilter(f) }
