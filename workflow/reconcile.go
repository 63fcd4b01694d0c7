package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims"
)

// ReconcileStore is what the reconciler reads.
type ReconcileStore interface {
	ListOrders(ctx context.Context, f wims.OrderFilter) (wims.OrderPage, error)
	PaymentAttempts(ctx context.Context, orderID string) ([]wims.PaymentAttempt, error)
}

// QueueReader tells whether a message is still queued on a subject.
type QueueReader interface {
	LastMessage(ctx context.Context, subject string) (*wims.Message, error)
}

// Reconciler finds orders that are stuck and puts them back on their way, so
// that no order sits PENDING, RESERVED or REFUND_PENDING forever (the course's orders could).
// The database is the source of truth and the bus is derived from it; should
// the bus lose a message (power loss with group-committed sync, a deleted
// stream, an operator's purge), the reconciler notices from the database:
//
//   - an order PENDING for longer than Grace has its workflow run again
//     (ReserveStock is a guarded transition, so running it twice is harmless);
//   - an order RESERVED for longer than Grace, not dead-lettered, whose payment
//     request is no longer queued on its per-order subject, has the request
//     enqueued again (same deduplication id; the dispatcher never charges an
//     order twice);
//   - an order REFUND_PENDING for longer than Grace whose refund was neither
//     declined nor dead-lettered and is no longer queued on its per-order
//     subject has its refund enqueued again (the refund's own Idempotency-Key
//     keeps the API from refunding twice).
//
// It runs on one instance (the leader) every Interval.
type Reconciler struct {
	Store    ReconcileStore
	Workflow *Workflow
	Queue    QueueReader
	Grace    time.Duration // default 1 minute
	Interval time.Duration // default 30 seconds
	// MaxPerSweep bounds the orders examined per status in one sweep (default
	// 10,000), newest first: with a larger backlog than that the system is
	// overloaded, and re-driving the oldest orders directly would only add
	// to the load; they are reached as the backlog drains.
	MaxPerSweep int
	Now         wims.Clock
	Logger      *slog.Logger
	Actions     *prometheus.CounterVec // may be nil; label "action"
}

// NewReconcileMetrics creates the reconciler's counter and registers it on reg (if non-nil).
func NewReconcileMetrics(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wims_reconciler_actions_total", Help: "Stuck orders put back on their way, by action.",
	}, []string{"action"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

func (r *Reconciler) defaults() {
	if r.Grace <= 0 {
		r.Grace = time.Minute
	}
	if r.Interval <= 0 {
		r.Interval = 30 * time.Second
	}
	if r.MaxPerSweep <= 0 {
		r.MaxPerSweep = 10_000
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run sweeps every Interval until ctx is done.
func (r *Reconciler) Run(ctx context.Context) error {
	r.defaults()
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		resumed, requeued, err := r.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			r.Logger.Warn("reconcile sweep failed", "err", err)
		}
		if resumed+requeued > 0 {
			r.Logger.Warn("reconciled stuck orders", "workflows_resumed", resumed, "payments_and_refunds_requeued", requeued)
		}
	}
}

// Sweep does one pass and reports what it did.
func (r *Reconciler) Sweep(ctx context.Context) (resumed, requeued int, err error) {
	r.defaults()
	cutoff := r.Now().Add(-r.Grace)
	err = r.each(ctx, wims.OrderPending, cutoff, func(o wims.Order) error {
		execID := fmt.Sprintf("reconcile-%s-%d", o.ID, r.Now().UnixMilli())
		if err := r.Workflow.run(ctx, o.ID, execID, "", ""); err != nil {
			return err
		}
		resumed++
		r.count("workflow_resumed")
		return nil
	})
	if err != nil {
		return resumed, requeued, err
	}
	err = r.each(ctx, wims.OrderReserved, cutoff, func(o wims.Order) error {
		stuck, err := r.lostRequest(ctx, o, wims.PaymentCharge, r.Workflow.opt.PaymentsSubject)
		if err != nil || !stuck {
			return err
		}
		if _, err := r.Workflow.enqueuePayment(ctx, o, ""); err != nil {
			return err
		}
		requeued++
		r.count("payment_requeued")
		return nil
	})
	if err != nil {
		return resumed, requeued, err
	}
	err = r.each(ctx, wims.OrderRefundPending, cutoff, func(o wims.Order) error {
		stuck, err := r.lostRequest(ctx, o, wims.PaymentRefund, r.Workflow.opt.RefundsSubject)
		if err != nil || !stuck {
			return err
		}
		if _, err := r.Workflow.enqueueRefund(ctx, o, ""); err != nil {
			return err
		}
		requeued++
		r.count("refund_requeued")
		return nil
	})
	return resumed, requeued, err
}

// lostRequest reports whether order o's request of the kind should be on
// the queue and is not: not declined (a refund's final no is dead-lettered
// for a person), not dead-lettered after its failures, and no longer
// queued on its per-order subject under base.
func (r *Reconciler) lostRequest(ctx context.Context, o wims.Order, kind wims.PaymentKind, base string) (bool, error) {
	attempts, err := r.Store.PaymentAttempts(ctx, o.ID)
	if err != nil {
		return false, err
	}
	failures := 0
	for _, a := range attempts {
		switch {
		case a.Kind != kind:
		case a.Outcome == wims.PaymentError:
			failures++
		case a.Outcome == wims.PaymentDeclined && kind == wims.PaymentRefund:
			// A declined charge left RESERVED is finished from its record
			// by the dispatcher, so it is requeued; a declined refund is not.
			return false, nil
		}
	}
	if failures >= wims.MaxPaymentFailures {
		return false, nil // dead-lettered: visible there, redriven by a person
	}
	queued, err := r.Queue.LastMessage(ctx, PaymentSubject(base, o.ID))
	if err != nil || queued != nil {
		return false, err
	}
	return true, nil
}

// each calls f for every order in status last updated before cutoff.
func (r *Reconciler) each(ctx context.Context, status wims.OrderStatus, cutoff time.Time, f func(wims.Order) error) error {
	f0 := wims.OrderFilter{Status: status, Limit: wims.MaxOrderLimit}
	for seen := 0; seen < r.MaxPerSweep; {
		page, err := r.Store.ListOrders(ctx, f0)
		if err != nil {
			return fmt.Errorf("list %s orders: %w", status, err)
		}
		for _, o := range page.Orders {
			seen++
			if o.Status == status && o.UpdatedAt.Before(cutoff) {
				if err := f(o); err != nil {
					return fmt.Errorf("reconcile %s order %s: %w", status, o.ID, err)
				}
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f0.Cursor = page.NextCursor
	}
	return nil
}

func (r *Reconciler) count(action string) {
	if r.Actions != nil {
		r.Actions.WithLabelValues(action).Inc()
	}
}
