package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/wims/wims"
)

// DeadLetterQueue lists and redrives messages that failed every attempt, so
// nothing sits forever without being visible.
type DeadLetterQueue interface {
	// DeadLetters returns up to limit dead letters, newest first.
	DeadLetters(ctx context.Context, limit int) ([]*wims.Message, error)
	// Redrive republishes the dead letter at seq to its original subject and
	// removes it; ENOTFOUND when there is none.
	Redrive(ctx context.Context, seq uint64) error
	// DeadLetter returns one dead letter; ENOTFOUND when there is none.
	DeadLetter(ctx context.Context, seq uint64) (*wims.Message, error)
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

// handleDeadLetters answers {"deadLetters":[…]}, newest first.
func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) error {
	limit := defaultEventsLimit
	if v := r.URL.Query().Get("limit"); v != "" || r.URL.Query().Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsLimit {
			return wims.FieldError("limit", "must be a whole number from 1 to %d", maxEventsLimit)
		}
		limit = n
	}
	if s.dlq == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "Dead letters are not available in this configuration.")
	}
	msgs, err := s.dlq.DeadLetters(r.Context(), limit)
	if err != nil {
		return err
	}
	out := make([]deadLetter, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, toDeadLetter(m))
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		DeadLetters []deadLetter `json:"deadLetters"`
	}{out})
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
	dryRun := false
	switch v := r.URL.Query().Get("dry-run"); v {
	case "", "false":
	case "true":
		dryRun = true
	default:
		return wims.FieldError("dry-run", "must be true or false")
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
