package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims"
)

// ReconcileStore is what the reconciler reads.
type ReconcileStore interface {
	ListOrders(ctx context.Context, f wims.OrderFilter) (wims.OrderPage, error)
	PaymentAttempts(ctx context.Context, orderID string) ([]wims.PaymentAttempt, error)
}

// QueueReader tells whether a request is still queued on a per-order
// subject: stored and not yet handled by the dispatcher (nats.Queue).
type QueueReader interface {
	Queued(ctx context.Context, subject string) (bool, error)
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
//     keeps the API from refunding twice);
//   - an order CANCELLED for longer than Grace (and created within
//     CancelledHorizon) whose charge attempts include one of unknown outcome
//     and none with a final answer, and whose charge is no longer queued
//     (dead-lettered after its failures, or lost), has its charge enqueued
//     again as if a person had redriven it (see requeueCancelledCharge).
//
// It runs on one instance (the leader) every Interval.
type Reconciler struct {
	Store    ReconcileStore
	Workflow *Workflow
	Queue    QueueReader
	Grace    time.Duration // default 1 minute
	Interval time.Duration // default half the grace, between 1 and 30 seconds
	// MaxPerSweep bounds the orders examined per status in one sweep (default
	// 10,000), newest first: with a larger backlog than that the system is
	// overloaded, and re-driving the oldest orders directly would only add
	// to the load; they are reached as the backlog drains.
	MaxPerSweep int
	// CancelledHorizon bounds the CANCELLED orders swept to those created
	// within it (default 7 days): each costs a read of its attempts per
	// sweep, and an older one still unresolved is left to its dead letter
	// and a person.
	CancelledHorizon time.Duration
	Now              wims.Clock
	Logger           *slog.Logger
	Actions          *prometheus.CounterVec // may be nil; label "action"
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
		// A short grace asks for quick repairs: sweeping every 30 s would
		// leave an order stuck far longer than it allows.
		r.Interval = min(30*time.Second, max(time.Second, r.Grace/2))
	}
	if r.MaxPerSweep <= 0 {
		r.MaxPerSweep = 10_000
	}
	if r.CancelledHorizon <= 0 {
		r.CancelledHorizon = 7 * 24 * time.Hour
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
	if err != nil {
		return resumed, requeued, err
	}
	horizon := r.Now().Add(-r.CancelledHorizon)
	err = r.each(ctx, wims.OrderCancelled, cutoff, func(o wims.Order) error {
		if o.CreatedAt.Before(horizon) {
			return errPastHorizon // newest first: the rest are older still
		}
		done, err := r.requeueCancelledCharge(ctx, o)
		if err != nil || !done {
			return err
		}
		requeued++
		r.count("cancelled_charge_requeued")
		return nil
	})
	if errors.Is(err, errPastHorizon) {
		err = nil
	}
	return resumed, requeued, err
}

// errPastHorizon stops the sweep of CANCELLED orders at the first one
// created before CancelledHorizon.
var errPastHorizon = errors.New("past the horizon")

// maxCancelledRoundWait caps the wait between two rounds of charge calls
// for a CANCELLED order whose charge keeps failing.
const maxCancelledRoundWait = time.Hour

// requeueCancelledCharge resolves the money of a CANCELLED order whose
// charge may have been made without wims learning it: an attempt had an
// unknown outcome (5xx, timeout, lost connection, 409 for a key in flight),
// no attempt got a final answer, and the charge is no longer queued. That
// happens when the charge was dead-lettered after wims.MaxPaymentFailures
// failures and the order was cancelled (before or after): no one else
// would ever look at it again, and the customer may have been charged.
//
// The answer is the dispatcher's rule for a cancelled order with such a
// history: call the charge again with the same Idempotency-Key. The API
// replays a charge it made, or charges now; either way CompletePayment
// makes the order REFUND_PENDING (its stock went back at the cancel) and
// the refund follows, so the money ends where it started; a decline leaves
// it CANCELLED, settled. A refund alone could not do it: refunding a
// charge not made yet would be declined for good, and a later charge
// (a person redriving the dead letter) would then keep the money.
//
// The message is marked redriven (wims.HeaderRedrivenAt), so the
// dispatcher gives it MaxPaymentFailures attempts anew; its id names the
// round (the failures so far), so two sweeps of one round enqueue it once.
// Rounds are spaced by Grace, doubling per round up to an hour, so an API
// that keeps failing for this order is not called in a tight loop. It
// reports whether it enqueued the charge.
func (r *Reconciler) requeueCancelledCharge(ctx context.Context, o wims.Order) (bool, error) {
	attempts, err := r.Store.PaymentAttempts(ctx, o.ID)
	if err != nil {
		return false, err
	}
	unknown, failures := false, 0
	var last time.Time
	for _, a := range attempts {
		if a.Kind != wims.PaymentCharge {
			continue
		}
		switch {
		case a.Outcome == wims.PaymentPaid || a.Outcome == wims.PaymentDeclined:
			return false, nil // the dispatcher settled it from this answer
		case a.Outcome == wims.PaymentError:
			unknown = true
			failures++
		case a.StatusCode == http.StatusConflict:
			unknown = true
		}
		if a.At.After(last) {
			last = a.At
		}
	}
	if !unknown {
		return false, nil // no call can have charged it: nothing to give back
	}
	// The first round waits Grace after the last attempt, each later one
	// twice as long as the one before.
	wait := r.Grace
	for range failures/wims.MaxPaymentFailures - 1 {
		if wait >= maxCancelledRoundWait {
			break
		}
		wait *= 2
	}
	if r.Now().Sub(last) < min(wait, maxCancelledRoundWait) {
		return false, nil
	}
	queued, err := r.Queue.Queued(ctx, PaymentSubject(r.Workflow.opt.PaymentsSubject, o.ID))
	if err != nil || queued {
		return false, err
	}
	id := PaymentMessageID(o.ID) + ":reconcile:" + strconv.Itoa(failures)
	if _, err := r.Workflow.publishCharge(ctx, o, id, map[string]string{
		wims.HeaderRedrivenAt: r.Now().UTC().Format(time.RFC3339Nano),
	}); err != nil {
		return false, err
	}
	r.Logger.Warn("charge of a cancelled order requeued to learn its outcome",
		"order_id", o.ID, "failures", failures)
	return true, nil
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
	queued, err := r.Queue.Queued(ctx, PaymentSubject(base, o.ID))
	if err != nil || queued {
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
