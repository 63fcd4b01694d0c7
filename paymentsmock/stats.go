package paymentsmock

import (
	"maps"
	"time"
)

// Stats are the mock's books, for tests and for an operator checking the
// dispatcher's guarantees.
type Stats struct {
	// Accepted counts requests admitted by the token bucket; each then ends
	// in exactly one of Charged, Refunded, Duplicates, Declined, Failed or
	// Invalid (or was abandoned by its client during the simulated latency).
	Accepted int
	// Throttled counts requests answered 429.
	Throttled int
	// Charged counts payments made: one per first use of a key that was paid.
	Charged int
	// Duplicates counts requests that reused a known key: replays (200 or
	// 402 again, nothing charged), 409s for a key in flight, and 422s.
	Duplicates int
	// Declined counts 402 answers to first uses of a key.
	Declined int
	// Failed counts simulated 500s.
	Failed int
	// Invalid counts requests rejected with 400, 405 or 413.
	Invalid int
	// InFlight is the number of keys being processed right now.
	InFlight int
	// MaxObservedRate is the largest number of requests the bucket admitted
	// within any closed one-second interval [t, t+1s]. A token bucket of rate
	// r and burst b admits at most b + r·T in any interval of length T, so
	// this never exceeds Burst + Rate; a client spacing its requests with a
	// bucket of burst 1 keeps it at most 1 + its rate.
	MaxObservedRate int
	// Charges maps each charged order id to its number of charges. Any value
	// above 1 is a double charge.
	Charges map[string]int
	// Refunded counts refunds made: one per first use of a refund key whose
	// order was charged.
	Refunded int
	// Refunds maps each refunded order id to its number of refunds; any
	// value above 1 is a double refund.
	Refunds map[string]int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Charges = maps.Clone(s.charges)
	st.Refunds = maps.Clone(s.refunds)
	st.InFlight = s.inFlight
	return st
}

// Charges reports how many times orderID was charged; more than 1 would be a
// double charge.
func (s *Server) Charges(orderID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.charges[orderID]
}

// Refunds reports how many times orderID was refunded; more than 1 would
// be a double refund.
func (s *Server) Refunds(orderID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refunds[orderID]
}

// window counts events in a sliding interval. Times must be added in
// non-decreasing order.
type window struct {
	span  time.Duration
	times []time.Time
}

// add records t and returns how many recorded times lie in [t-span, t].
func (w *window) add(t time.Time) int {
	cut := 0
	for cut < len(w.times) && t.Sub(w.times[cut]) > w.span {
		cut++
	}
	// Reslicing from the front would pin the array forever; copy down so
	// the slice stays as small as the busiest second.
	if cut > 0 {
		w.times = w.times[:copy(w.times, w.times[cut:])]
	}
	w.times = append(w.times, t)
	return len(w.times)
}
