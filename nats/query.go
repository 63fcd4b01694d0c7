package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
)

// Queries of the browsable streams (the event log, dead letters) page
// through them by sequence, in either direction, with the subject filter
// applied by the server (so selecting by a subject token costs no transfer
// of what it leaves out) and a budget on the messages that cross the
// connection (so a selective client-side filter answers in bounded time,
// with a cursor to go on from). They run on a connection of their own, so a
// query never slows the pipeline's publishes and acks.

// maxQueryWindow bounds one batched read.
const maxQueryWindow = 4096

// SeqAt returns the first sequence of the stream holding subject that was
// stored at or after t, or 0 when nothing was.
func (b *Bus) SeqAt(ctx context.Context, subject string, t time.Time) (uint64, error) {
	stream, err := b.streamFor(subject)
	if err != nil {
		return 0, err
	}
	m, err := b.leaderGet(ctx, stream, map[string]any{"start_time": t.UTC()})
	if err != nil {
		return 0, fmt.Errorf("nats: %s at %s: %w", stream, t.Format(time.RFC3339), err)
	}
	if m == nil {
		return 0, nil
	}
	return m.Seq, nil
}

// ScanForward reads messages on subject from sequence from upwards and
// returns up to limit that keep accepts. It stops early at the first
// message stop accepts (not returned; nil: never), at the end of the
// stream, or once budget messages have been read.
func (b *Bus) ScanForward(ctx context.Context, subject string, from uint64, limit, budget int, keep, stop func(*wims.Message) bool) (wims.MessagePage, error) {
	res := wims.MessagePage{Next: max(from, 1), Prev: from}
	if limit <= 0 || budget <= 0 {
		return res, nil
	}
	stream, err := b.streamFor(subject)
	if err != nil {
		return res, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	// The last sequence before reading: what a read then finds missing up
	// to it is not there, so a poll may skip past it. (Read after, it
	// could cover a match stored meanwhile, which the poll would lose.)
	last, err := b.lastSeq(ctx, stream)
	if err != nil {
		return res, fmt.Errorf("nats: scan %s: %w", subject, err)
	}
	read := 0
	for read < budget && len(res.Messages) < limit {
		n := min(max(limit-len(res.Messages), 16), budget-read, maxQueryWindow)
		msgs, err := b.directFrom(ctx, stream, res.Next, subject, n)
		if err != nil {
			return res, err
		}
		for _, m := range msgs {
			if stop != nil && stop(m) {
				return res, nil
			}
			read++
			res.Next = m.Seq + 1
			if keep == nil || keep(m) {
				res.Messages = append(res.Messages, m)
				if len(res.Messages) == limit {
					return res, nil
				}
			}
		}
		if len(msgs) < n {
			// The end: continue after the stream's last sequence, not
			// after the last match, so a poll does not re-read the gap.
			res.Next = max(res.Next, last+1)
			break
		}
	}
	return res, nil
}

// ScanBackward reads messages on subject below sequence before (0: from
// the end) downwards and returns up to limit that keep accepts, oldest
// first, having read at most budget messages.
func (b *Bus) ScanBackward(ctx context.Context, subject string, before uint64, limit, budget int, keep func(*wims.Message) bool) (wims.MessagePage, error) {
	var res wims.MessagePage
	stream, err := b.streamFor(subject)
	if err != nil {
		return res, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	s, err := b.qjs.Stream(ctx, stream)
	if err != nil {
		return res, fmt.Errorf("nats: scan %s: %w", subject, err)
	}
	st := s.CachedInfo().State
	first := max(st.FirstSeq, 1)
	hi := st.LastSeq
	if before != 0 && before-1 < hi {
		hi = before - 1
	}
	res.Next = hi + 1
	if limit <= 0 || budget <= 0 || st.Msgs == 0 || hi < first {
		return res, nil
	}
	var newest []*wims.Message
	window := uint64(max(limit, 16))
	read := 0
	low := hi + 1 // everything from low to the start point has been read
	for hi >= first && read < budget && len(newest) < limit {
		// The span is bounded by the budget too: a dense subject would
		// otherwise transfer a whole window before the budget is checked.
		w := min(window, hi-first+1, uint64(budget-read))
		lo := hi - w + 1
		msgs, err := b.directBatch(ctx, stream, lo, hi, subject)
		if err != nil {
			return res, err
		}
		full := true
		for _, m := range slices.Backward(msgs) {
			read++
			low = m.Seq
			if keep == nil || keep(m) {
				newest = append(newest, m)
			}
			if len(newest) == limit || read == budget {
				full = false
				break
			}
		}
		if full {
			low = lo
		}
		hi = lo - 1
		// A subject filter that matches rarely makes windows cheap (the
		// server skips what it leaves out), so they grow fast.
		window = min(window*4, 1<<20)
	}
	if low > first {
		res.Prev = low
	}
	slices.Reverse(newest)
	res.Messages = newest
	if len(newest) > 0 {
		res.Next = newest[len(newest)-1].Seq + 1
	}
	return res, nil
}

func (b *Bus) lastSeq(ctx context.Context, stream string) (uint64, error) {
	s, err := b.qjs.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	return s.CachedInfo().State.LastSeq, nil
}

// directFrom returns up to n messages on subject with sequences from seq
// upwards, in one batched direct get.
func (b *Bus) directFrom(ctx context.Context, stream string, seq uint64, subject string, n int) ([]*wims.Message, error) {
	qc := b.queryConn()
	inbox := qc.NewRespInbox()
	sub, err := qc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("nats: direct get: %w", err)
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(struct {
		Seq     uint64 `json:"seq"`
		NextFor string `json:"next_by_subj"`
		Batch   int    `json:"batch"`
	}{seq, subject, n})
	if err := qc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, req); err != nil {
		return nil, fmt.Errorf("nats: direct get: %w", err)
	}
	var out []*wims.Message
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("nats: direct get %s: %w", stream, err)
		}
		if len(msg.Data) == 0 && msg.Header.Get("Status") != "" {
			switch msg.Header.Get("Status") {
			case "204", "404": // end of batch; nothing (more) on subject
				return out, nil
			default:
				return nil, fmt.Errorf("nats: direct get %s: %s %s", stream, msg.Header.Get("Status"), msg.Header.Get("Description"))
			}
		}
		s, err := strconv.ParseUint(msg.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("nats: direct get %s: bad sequence header: %w", stream, err)
		}
		subj := msg.Header.Get(jetstream.SubjectHeader)
		stored, _ := time.Parse(time.RFC3339Nano, msg.Header.Get(jetstream.TimeStampHeaer))
		for _, k := range directHeaders {
			msg.Header.Del(k)
		}
		m := toMessage(subj, s, msg.Header, msg.Data, 0)
		m.Stored = stored
		out = append(out, m)
	}
}
