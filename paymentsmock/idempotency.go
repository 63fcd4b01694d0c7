package paymentsmock

import "github.com/wims/wims"

// keyEntry is what the mock remembers about one Idempotency-Key: the request
// it was first used with and, once answered, the answer to replay.
type keyEntry struct {
	req         wims.PaymentRequest
	done        bool
	status      int
	contentType string
	body        []byte
}

// finish stores the final answer for replays.
func (e *keyEntry) finish(status int, contentType string, body []byte) {
	e.done, e.status, e.contentType, e.body = true, status, contentType, body
}

// claimState is the result of claiming a key.
type claimState int

const (
	claimNew      claimState = iota // first use: the caller processes the request
	claimInFlight                   // another request with the key is being processed: 409
	claimMismatch                   // the key was used with a different request: 422
	claimReplay                     // the key was answered: replay the answer
)

// claim looks key up and, on first use, marks it in flight for req. A
// duplicate counts in Stats.Duplicates whatever its answer.
func (s *Server) claim(key string, req wims.PaymentRequest) (*keyEntry, claimState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.keys[key]
	if !ok {
		s.keys[key] = &keyEntry{req: req}
		s.inFlight++
		return nil, claimNew
	}
	s.stats.Duplicates++
	switch {
	case !e.req.Equal(req):
		return e, claimMismatch
	case !e.done:
		return e, claimInFlight
	default:
		return e, claimReplay
	}
}

// release forgets an in-flight key whose request was abandoned.
func (s *Server) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.keys[key]; ok && !e.done {
		delete(s.keys, key)
		s.inFlight--
	}
}
