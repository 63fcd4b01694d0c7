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
}

// deadLetter is one dead letter as the API shows it.
type deadLetter struct {
	Seq      uint64 `json:"seq"`
	Consumer string `json:"consumer"`
	// Rule, Target and Bus name the event-platform target that failed.
	Rule     string          `json:"rule,omitempty"`
	Target   string          `json:"target,omitempty"`
	Bus      string          `json:"bus,omitempty"`
	Subject  string          `json:"subject"`
	Reason   string          `json:"reason"`
	Attempts int             `json:"attempts"`
	Time     string          `json:"time"`
	Message  json.RawMessage `json:"message"`
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
		attempts, _ := strconv.Atoi(m.Header[wims.HeaderDLQAttempts])
		body := json.RawMessage(m.Data)
		if !json.Valid(body) {
			body, _ = json.Marshal(string(m.Data))
		}
		out = append(out, deadLetter{
			Seq: m.Seq, Consumer: m.Header[wims.HeaderDLQConsumer], Subject: m.Header[wims.HeaderDLQSubject],
			Rule: m.Header[wims.HeaderRule], Target: m.Header[wims.HeaderTarget], Bus: m.Header[wims.HeaderBus],
			Reason: m.Header[wims.HeaderDLQReason], Attempts: attempts, Time: m.Header[wims.HeaderDLQTime], Message: body,
		})
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		DeadLetters []deadLetter `json:"deadLetters"`
	}{out})
}

// handleRedrive sends one dead letter back to where it came from: 202, since
// it is processed asynchronously.
func (s *Server) handleRedrive(w http.ResponseWriter, r *http.Request) error {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		return wims.FieldError("seq", "must be a positive whole number")
	}
	if s.dlq == nil {
		return wims.Errorf(wims.EUNAVAILABLE, "Dead letters are not available in this configuration.")
	}
	if err := s.dlq.Redrive(r.Context(), seq); err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusAccepted, struct {
		Seq    uint64 `json:"seq"`
		Status string `json:"status"`
	}{seq, "redriven"})
}
