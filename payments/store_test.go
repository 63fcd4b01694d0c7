package payments_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/payments"
)

// memStore is a minimal stand-in for wims' store, with the same guarded
// transitions, for these tests only: the real stores are tested by their
// own contract suite.
type memStore struct {
	mu       sync.Mutex
	orders   map[string]wims.Order
	attempts map[string][]wims.PaymentAttempt
}

var _ payments.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{orders: map[string]wims.Order{}, attempts: map[string][]wims.PaymentAttempt{}}
}

// put stores o as given.
func (s *memStore) put(o wims.Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[o.ID] = o
}

func (s *memStore) GetOrder(_ context.Context, id string) (wims.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return wims.Order{}, wims.Errorf(wims.ENOTFOUND, "order %s not found", id)
	}
	return o, nil
}

func (s *memStore) CompletePayment(_ context.Context, id string, paid bool, reason string) (wims.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return wims.Order{}, wims.Errorf(wims.ENOTFOUND, "order %s not found", id)
	}
	if o.Status != wims.OrderReserved {
		return o, nil
	}
	o.Status, o.Reason, o.UpdatedAt = wims.OrderPaid, "", time.Now()
	if !paid {
		o.Status, o.Reason = wims.OrderPaymentFailed, reason
	}
	s.orders[id] = o
	return o, nil
}

func (s *memStore) RecordPaymentAttempt(_ context.Context, a wims.PaymentAttempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[a.OrderID] = append(s.attempts[a.OrderID], a)
	return nil
}

func (s *memStore) PaymentAttempts(_ context.Context, id string) ([]wims.PaymentAttempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts[id]), nil
}
