package payments

import "sync"

// inflight makes sure one dispatcher handles a given order in one goroutine
// at a time. Without it, a redelivery racing the original would send a
// second request that the API answers 409, and both would number their
// attempt len(previous)+1.
type inflight struct {
	mu     sync.Mutex
	orders map[string]struct{}
}

// start claims orderID; it returns false if another Handle holds it.
func (f *inflight) start(orderID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, busy := f.orders[orderID]; busy {
		return false
	}
	if f.orders == nil {
		f.orders = make(map[string]struct{})
	}
	f.orders[orderID] = struct{}{}
	return true
}

// done releases orderID.
func (f *inflight) done(orderID string) {
	f.mu.Lock()
	delete(f.orders, orderID)
	f.mu.Unlock()
}
