// Package workflow is the order workflow, the course's Step Function done
// properly: reserve the stock with a condition (RESERVED, or REJECTED with no
// payment), then enqueue the payment. It runs as the handler of the
// order-workflow target, once per order-inserted event, and enqueues the
// refund of an order that became REFUND_PENDING.
//
// Every step is idempotent under redelivery: reserving is a guarded state
// transition on the order row (PENDING → RESERVED happens once), and the
// payment message carries a deduplication id derived from the order, while
// the dispatcher never charges an order that is no longer RESERVED. Each
// execution is recorded with its steps and timings.
package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/wims/wims"
)

// Name is the workflow's name in execution records.
const Name = "order-workflow"

// Store is what the workflow needs from the store.
type Store interface {
	ReserveStock(ctx context.Context, orderID string) (wims.Order, error)
	SaveExecution(ctx context.Context, e wims.Execution) error
}

// Publisher enqueues payments.
type Publisher interface {
	Publish(ctx context.Context, m wims.Outgoing) (duplicate bool, err error)
}

// Options configures a Workflow.
type Options struct {
	Store           Store
	Bus             Publisher
	PaymentsSubject string // base subject; each order's request goes to PaymentSubject(base, id)
	RefundsSubject  string // base subject; each order's refund goes to PaymentSubject(base, id)
	Now             wims.Clock
	Logger          *slog.Logger
	Metrics         *Metrics // may be nil
}

// Workflow runs the order workflow.
type Workflow struct{ opt Options }

// New returns a workflow.
func New(opt Options) *Workflow {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Workflow{opt: opt}
}

// PaymentSubject is where an order's payment request goes: one subject per
// order under the payments subject, so whether an order's request is still
// queued can be read from the stream (see Reconciler).
func PaymentSubject(base, orderID string) string { return base + "." + orderID }

// PaymentMessageID is the deduplication id of an order's payment message.
func PaymentMessageID(orderID string) string { return "payment:" + orderID }

// RefundMessageID is the deduplication id of an order's refund message.
func RefundMessageID(orderID string) string { return "refund:" + orderID }

// Handle runs the workflow for one order-inserted change event. It is a
// wims.Handler. Each delivery is one execution, named after the event and
// the delivery count, so retries show up as executions of their own.
//
// The change of an order to REFUND_PENDING (the built-in rule order-refund)
// runs the refund instead: its refund request is enqueued for the
// dispatcher.
func (w *Workflow) Handle(ctx context.Context, m *wims.Message) error {
	orderID, refund, err := decodeOrderEvent(m.Data)
	if err != nil {
		return wims.Permanent(err)
	}
	execID := fmt.Sprintf("%s-%d", m.ID, m.Delivered)
	if refund != nil {
		return w.runRefund(ctx, *refund, execID, m.ID, m.Header[wims.HeaderTraceParent])
	}
	return w.run(ctx, orderID, execID, m.ID, m.Header[wims.HeaderTraceParent])
}

// runRefund enqueues the refund of o, an order that became REFUND_PENDING,
// as execution execID. The message id makes a repeat harmless, and the
// dispatcher refunds only an order still REFUND_PENDING, from the stored
// order, so o (the change's new image) only names it.
func (w *Workflow) runRefund(ctx context.Context, o wims.Order, execID, eventID, traceParent string) error {
	exec := wims.Execution{
		ID: execID, OrderID: o.ID, Workflow: Name, Status: wims.ExecutionRunning,
		StartedAt: w.opt.Now(), EventID: eventID,
	}
	err := w.step(&exec, "enqueue-refund", func() (string, error) {
		dup, err := w.enqueueRefund(ctx, o, traceParent)
		if dup {
			return "already-enqueued", err
		}
		return "enqueued", err
	})
	return w.finish(ctx, exec, err)
}

// run executes the workflow for one order as execution execID.
func (w *Workflow) run(ctx context.Context, orderID, execID, eventID, traceParent string) error {
	exec := wims.Execution{
		ID: execID, OrderID: orderID, Workflow: Name, Status: wims.ExecutionRunning,
		StartedAt: w.opt.Now(), EventID: eventID,
	}
	var order wims.Order
	err := w.step(&exec, "reserve-stock", func() (string, error) {
		var err error
		order, err = w.opt.Store.ReserveStock(ctx, orderID)
		return string(order.Status), err
	})
	// RESERVED now or by an earlier delivery: (re-)enqueue; the message id
	// makes that idempotent. Any other status needs no payment.
	if err == nil && order.Status == wims.OrderReserved {
		w.opt.Metrics.reserved(order, exec.StartedAt)
		err = w.step(&exec, "enqueue-payment", func() (string, error) {
			dup, err := w.enqueuePayment(ctx, order, traceParent)
			if dup {
				return "already-enqueued", err
			}
			return "enqueued", err
		})
	}
	return w.finish(ctx, exec, err)
}

// finish records exec, which ended with err (nil: succeeded), and returns
// err labelled with the order.
func (w *Workflow) finish(ctx context.Context, exec wims.Execution, err error) error {
	exec.FinishedAt = w.opt.Now()
	exec.Status = wims.ExecutionSucceeded
	if err != nil {
		exec.Status = wims.ExecutionFailed
	}
	if saveErr := w.opt.Store.SaveExecution(ctx, exec); saveErr != nil && err == nil {
		err = fmt.Errorf("save execution: %w", saveErr)
	}
	w.opt.Metrics.observe(exec)
	if err != nil {
		return fmt.Errorf("order workflow %s: %w", exec.OrderID, err)
	}
	return nil
}

// step runs one step, timing it and appending it to the execution.
func (w *Workflow) step(exec *wims.Execution, name string, f func() (string, error)) error {
	start := w.opt.Now()
	began := time.Now()
	outcome, err := f()
	s := wims.Step{Name: name, Outcome: outcome, StartedAt: start, DurationMS: float64(time.Since(began).Microseconds()) / 1000}
	if err != nil {
		s.Outcome = "error"
		s.Error = wims.ErrorMessage(err)
	}
	exec.Steps = append(exec.Steps, s)
	return err
}

// enqueuePayment publishes the order's payment request to the payments queue.
func (w *Workflow) enqueuePayment(ctx context.Context, o wims.Order, traceParent string) (bool, error) {
	h := map[string]string{}
	if traceParent != "" {
		h[wims.HeaderTraceParent] = traceParent
	}
	return w.publishCharge(ctx, o, PaymentMessageID(o.ID), h)
}

// publishCharge publishes order o's charge request to its per-order
// payments subject with deduplication id id and headers h.
func (w *Workflow) publishCharge(ctx context.Context, o wims.Order, id string, h map[string]string) (bool, error) {
	body, err := json.Marshal(o.PaymentRequest())
	if err != nil {
		return false, err
	}
	// Rebuildable: the reconciler enqueues a RESERVED order's charge again
	// when it is no longer queued.
	return w.opt.Bus.Publish(ctx, wims.Outgoing{
		Subject: PaymentSubject(w.opt.PaymentsSubject, o.ID), ID: id, Data: body, Header: h, Rebuildable: true,
	})
}

// enqueueRefund publishes the order's refund request to the payments queue,
// marked as a refund (wims.HeaderPaymentKind).
func (w *Workflow) enqueueRefund(ctx context.Context, o wims.Order, traceParent string) (bool, error) {
	if w.opt.RefundsSubject == "" {
		return false, fmt.Errorf("enqueue refund of order %s: no refunds subject configured", o.ID)
	}
	body, err := json.Marshal(o.PaymentRequest())
	if err != nil {
		return false, err
	}
	h := map[string]string{wims.HeaderPaymentKind: string(wims.PaymentRefund)}
	if traceParent != "" {
		h[wims.HeaderTraceParent] = traceParent
	}
	return w.opt.Bus.Publish(ctx, wims.Outgoing{
		Subject: PaymentSubject(w.opt.RefundsSubject, o.ID), ID: RefundMessageID(o.ID), Data: body, Header: h,
		Rebuildable: true, // as is a REFUND_PENDING order's refund
	})
}

// orderEvent is what the workflow reads of an event: one decode gives both
// the order id and, for a change of an order, its new image.
type orderEvent struct {
	Detail struct {
		OrderID string `json:"orderId"`
		Data    struct {
			Table     string `json:"table"`
			EventType string `json:"eventType"`
			Key       struct {
				OrderID string `json:"orderId"`
			} `json:"key"`
			NewImage json.RawMessage `json:"NewImage"`
		} `json:"data"`
	} `json:"detail"`
}

// orderID is OrderIDFromEvent's answer for the decoded event.
func (ev *orderEvent) orderID() (string, error) {
	if ev.Detail.Data.Table == wims.TableOrders && ev.Detail.Data.Key.OrderID != "" {
		return ev.Detail.Data.Key.OrderID, nil
	}
	if ev.Detail.OrderID != "" {
		return ev.Detail.OrderID, nil
	}
	return "", fmt.Errorf("event is neither an orders change with detail.data.key.orderId nor an event with detail.orderId")
}

// decodeOrderEvent is OrderIDFromEvent that also tells a change of an order
// to REFUND_PENDING apart: refund is then its new image.
func decodeOrderEvent(data []byte) (orderID string, refund *wims.Order, err error) {
	var ev orderEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return "", nil, fmt.Errorf("decode order event: %w", err)
	}
	if orderID, err = ev.orderID(); err != nil {
		return "", nil, err
	}
	d := ev.Detail.Data
	if d.Table != wims.TableOrders || d.EventType != string(wims.ChangeUpdate) || len(d.NewImage) == 0 {
		return orderID, nil, nil
	}
	var o wims.Order
	if err := json.Unmarshal(d.NewImage, &o); err != nil {
		return "", nil, fmt.Errorf("decode order event: new image: %w", err)
	}
	if o.Status != wims.OrderRefundPending || o.ID != orderID {
		return orderID, nil, nil
	}
	return orderID, &o, nil
}

// OrderIDFromEvent extracts the order id from an orders change event or,
// for events users put on a bus with a rule targeting the order workflow,
// from detail.orderId.
func OrderIDFromEvent(data []byte) (string, error) {
	var ev orderEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return "", fmt.Errorf("decode order event: %w", err)
	}
	return ev.orderID()
}
