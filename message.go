package wims

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message is one delivery of a message from a durable consumer on the bus.
type Message struct {
	Subject string
	Data    []byte
	Header  map[string]string
	// ID is the message's deduplication id (Nats-Msg-Id), e.g. the event id.
	ID string
	// Delivered counts deliveries of this message, starting at 1.
	Delivered int
	// Seq is the message's sequence in its stream.
	Seq uint64
	// Stored is when the stream stored the message, where the bus reports
	// it (reads of stored messages; zero for deliveries).
	Stored time.Time
}

// Handler processes one message. Returning nil acknowledges it. An error asks
// for redelivery after the consumer's backoff, until its maximum number of
// deliveries, after which the message goes to the dead-letter stream. Wrap an
// error with Permanent to dead-letter at once, or with RetryAfter to choose
// the delay. Handlers must be idempotent: every hop is at-least-once.
type Handler func(ctx context.Context, m *Message) error

// PermanentError marks a failure that no retry can fix.
type PermanentError struct{ Err error }

// Error implements the error interface.
func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the wrapped error, for errors.Is and errors.As.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the consumer dead-letters the message without retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err was wrapped with Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryAfterError asks for redelivery after Delay.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

// Error implements the error interface.
func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.Delay, e.Err)
}

// Unwrap returns the wrapped error, for errors.Is and errors.As.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err so the consumer redelivers the message after d.
func RetryAfter(d time.Duration, err error) error { return &RetryAfterError{Delay: d, Err: err} }

// Header names wims puts on bus messages.
const (
	HeaderChangeSeq   = "Wims-Change-Seq"
	HeaderTraceParent = "traceparent"
	HeaderDLQReason   = "Wims-Dlq-Reason"
	HeaderDLQSubject  = "Wims-Dlq-Subject"
	HeaderDLQAttempts = "Wims-Dlq-Attempts"
	HeaderDLQConsumer = "Wims-Dlq-Consumer"
	HeaderDLQTime     = "Wims-Dlq-Time"
	// HeaderRedrivenAt marks a message sent back from the dead-letter stream,
	// with the time: a consumer that counts failures (the payment dispatcher)
	// counts only those after it, so a redriven message gets its attempts anew.
	HeaderRedrivenAt = "Wims-Redriven-At"
	// HeaderRedriveFor names the one consumer (its short durable name) that
	// may handle a redriven message; every other consumer acknowledges it
	// unseen.
	HeaderRedriveFor = "Wims-Redrive-For"
	// HeaderRule, HeaderTarget and HeaderBus name the rule, target and bus
	// of an event-platform delivery, so its dead letter says where it failed.
	HeaderRule   = "Wims-Rule"
	HeaderTarget = "Wims-Target"
	HeaderBus    = "Wims-Bus"
	// HeaderEventID carries the id of the event a message holds when the
	// message's own id (Nats-Msg-Id) is not it: forwarded events and
	// deliveries. Consumers read it instead of decoding the event.
	HeaderEventID = "Wims-Event-Id"
	// HeaderDeadLetterARN is the target's DeadLetterConfig ARN, which
	// labels its dead letters.
	HeaderDeadLetterARN = "Wims-Dead-Letter-Arn"
	// HeaderReplayName marks a replayed event with its replay's name: such
	// an event is never archived again.
	HeaderReplayName = "Wims-Replay-Name"
	// HeaderLogged marks an event the relay has appended to the event log
	// itself, in the batch that published it: the event-log target skips
	// it instead of copying it a second time.
	HeaderLogged = "Wims-Logged"
)

// Outgoing is a message to publish on the bus. ID, when set, is its
// deduplication id (Nats-Msg-Id): publishing the same ID twice within the
// stream's window stores it once.
type Outgoing struct {
	Subject string
	ID      string
	Data    []byte
	Header  map[string]string
	// Rebuildable says the store publishes the message again if the bus
	// loses it (the relay's events, from the change log; the payment
	// requests the reconciler enqueues again), so with the bus's fsyncs
	// group-committed (--bus-sync INTERVAL) its publish need not wait for
	// one. Every other message is on disk when its publish returns.
	Rebuildable bool
}

// MessagePage is a page of messages read from a stream.
type MessagePage struct {
	// Messages are in sequence order (oldest first).
	Messages []*Message
	// Next is the sequence a forward read continues from.
	Next uint64
	// Prev is the sequence a backward read continues below; 0 when the
	// start of the stream was reached.
	Prev uint64
}
