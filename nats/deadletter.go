package nats

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
)

// HeaderDLQMsgID carries a dead letter's original Nats-Msg-Id; the dead
// letter needs its own id so that dead-lettering twice is deduplicated.
const HeaderDLQMsgID = "Wims-Dlq-Msg-Id"

// maxReasonLen bounds the reason header: error texts can be long, headers
// should not be.
const maxReasonLen = 1024

// deadLetterScanMax bounds how far DeadLetters looks back. Dead letters are
// rare and all of the stream's subjects match, so it only matters when many
// were redriven (deleted) recently.
const deadLetterScanMax = 100_000

// deadLetter moves one message to the dead-letter stream: publish first,
// terminate the original only once the copy is stored. A failed publish
// becomes a retry, never a loss.
func (c *Consumer) deadLetter(msg jetstream.Msg, m *wims.Message, cause error) {
	reason := cause.Error()
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen]
	}
	out := natsgo.NewMsg(c.b.Subject(deadLetterRoot, c.spec.Durable))
	out.Data = msg.Data()
	for k, vs := range msg.Headers() {
		// Nats-* headers steer the server (dedupe, expectations, TTL) and
		// must not apply to the copy; the original id is kept aside.
		if strings.HasPrefix(k, "Nats-") {
			continue
		}
		out.Header[k] = vs
	}
	if m.ID != "" {
		out.Header.Set(HeaderDLQMsgID, m.ID)
	}
	out.Header.Set(wims.HeaderDLQReason, reason)
	out.Header.Set(wims.HeaderDLQSubject, m.Subject)
	out.Header.Set(wims.HeaderDLQAttempts, strconv.Itoa(m.Delivered))
	out.Header.Set(wims.HeaderDLQConsumer, c.spec.Durable)
	out.Header.Set(wims.HeaderDLQTime, time.Now().UTC().Format(time.RFC3339Nano))
	// One id per original message: if the Term below is lost and the
	// message is dead-lettered again, the stream drops the second copy. The
	// stream is part of it because durable names are only unique per stream.
	out.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%s:%d", c.stream, c.name, m.Seq))

	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	_, err := c.b.js.PublishMsg(ctx, out)
	if err == nil {
		err = c.b.syncStored(ctx) // before the original goes
	}
	if err != nil {
		c.b.log.Error("dead-letter publish failed, will retry",
			"consumer", c.spec.Durable, "subject", m.Subject, "attempts", m.Delivered, "err", err)
		c.nak(msg, m, c.backoff(m.Delivered))
		return
	}
	if err := msg.TermWithReason(reason); err != nil {
		// The copy is stored; a redelivered original is dead-lettered again
		// under the same id and dropped as a duplicate.
		c.b.log.Warn("term after dead-letter failed", "consumer", c.spec.Durable, "err", err)
	}
	c.b.log.Warn("message dead-lettered",
		"consumer", c.spec.Durable, "subject", m.Subject, "attempts", m.Delivered, "seq", m.Seq, "reason", reason)
	c.count(resultDeadLetter)
}

// DeadLetters returns up to limit dead letters, newest first. Each one's Seq
// is its sequence in the dead-letter stream, for Redrive; its headers say
// where it came from and why (wims.HeaderDLQ*).
func (b *Bus) DeadLetters(ctx context.Context, limit int) ([]*wims.Message, error) {
	return b.Recent(ctx, b.Subject(deadLetterRoot, ">"), limit, deadLetterScanMax, nil)
}

// DeadLetterPage returns up to limit dead letters below sequence before
// (0: the newest) that keep accepts, newest first, reading at most
// deadLetterScanMax of them; Prev continues below the page (0: none left).
func (b *Bus) DeadLetterPage(ctx context.Context, before uint64, limit int, keep func(*wims.Message) bool) (wims.MessagePage, error) {
	page, err := b.ScanBackward(ctx, b.Subject(deadLetterRoot, ">"), before, limit, deadLetterScanMax, keep)
	slices.Reverse(page.Messages)
	return page, err
}

// PurgeDeadLetter deletes the dead letter at seq, or answers ENOTFOUND.
func (b *Bus) PurgeDeadLetter(ctx context.Context, seq uint64) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if _, err := b.DeadLetter(ctx, seq); err != nil {
		return err
	}
	s, err := b.js.Stream(ctx, b.Stream(DeadLetter))
	if err != nil {
		return fmt.Errorf("purge dead letter %d: %w", seq, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("purge dead letter %d: %w", seq, err)
	}
	return nil
}

// DeadLetter returns the dead letter at seq, or ENOTFOUND.
func (b *Bus) DeadLetter(ctx context.Context, seq uint64) (*wims.Message, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	m, err := b.GetMessage(ctx, DeadLetter, seq)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, wims.Errorf(wims.ENOTFOUND, "dead letter %d not found", seq)
	}
	return m, nil
}

// Redrive republishes the dead letter at seq to its original subject and
// then deletes it from the dead-letter stream. The copy's id is
// "<original id>:redrive:<seq>": fresh, so the original stream does not drop
// it as a duplicate of the first attempt, yet stable, so repeating a Redrive
// interrupted between publish and delete does not enqueue it twice.
// Returns ENOTFOUND if there is no such dead letter.
func (b *Bus) Redrive(ctx context.Context, seq uint64) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	m, err := b.GetMessage(ctx, DeadLetter, seq)
	if err != nil {
		return err
	}
	if m == nil {
		return wims.Errorf(wims.ENOTFOUND, "dead letter %d not found", seq)
	}
	subject := m.Header[wims.HeaderDLQSubject]
	if subject == "" {
		return wims.Errorf(wims.EINVALID, "dead letter %d has no %s header", seq, wims.HeaderDLQSubject)
	}
	orig := m.Header[HeaderDLQMsgID]
	if orig == "" {
		orig = "dlq"
	}
	h := make(map[string]string, len(m.Header))
	for k, v := range m.Header {
		if strings.HasPrefix(k, "Nats-") || strings.HasPrefix(k, "Wims-Dlq-") {
			continue
		}
		h[k] = v
	}
	h[wims.HeaderRedrivenAt] = time.Now().UTC().Format(time.RFC3339Nano)
	// Only the consumer that gave up may handle the copy: on the events
	// stream every target's consumer would otherwise see it again.
	if c := m.Header[wims.HeaderDLQConsumer]; c != "" {
		h[wims.HeaderRedriveFor] = c
	}
	out := Outgoing{Subject: subject, ID: orig + ":redrive:" + strconv.FormatUint(seq, 10), Data: m.Data, Header: h}
	if _, err := b.Publish(ctx, out); err != nil {
		return fmt.Errorf("redrive %d: %w", seq, err)
	}
	s, err := b.js.Stream(ctx, b.Stream(DeadLetter))
	if err != nil {
		return fmt.Errorf("redrive %d: %w", seq, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("redrive %d: delete: %w", seq, err)
	}
	return nil
}
