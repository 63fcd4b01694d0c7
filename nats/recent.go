package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
)

// readTimeout bounds a read when ctx has no deadline.
const readTimeout = 5 * time.Second

// Headers the server adds to direct-get replies; they describe the stored
// message and are not part of it, so they are removed.
var directHeaders = []string{
	jetstream.StreamHeader, jetstream.SubjectHeader, jetstream.SequenceHeader,
	jetstream.TimeStampHeaer, "Nats-Num-Pending", "Nats-Last-Sequence",
}

// toMessage converts a stored message. Header keeps the first value of each
// key, like a delivered message, without the atomic batch headers the server
// stores with each message of a batch: they describe how it was sent.
func toMessage(subject string, seq uint64, h natsgo.Header, data []byte, delivered int) *wims.Message {
	m := &wims.Message{Subject: subject, Data: data, Seq: seq, Delivered: delivered, Header: make(map[string]string, len(h))}
	for k, vs := range h {
		if len(vs) > 0 && k != hdrBatchID && k != hdrBatchSeq && k != hdrBatchCommit {
			m.Header[k] = vs[0]
		}
	}
	m.ID = m.Header[jetstream.MsgIDHeader]
	return m
}

// msgGetResponse is the reply of the stream leader's MSG.GET API.
type msgGetResponse struct {
	Message *struct {
		Subject string    `json:"subject"`
		Seq     uint64    `json:"seq"`
		Header  []byte    `json:"hdrs,omitempty"`
		Data    []byte    `json:"data,omitempty"`
		Time    time.Time `json:"time"`
	} `json:"message,omitempty"`
	Error *jetstream.APIError `json:"error,omitempty"`
}

// errCodeNoMessage is JetStream's error code for "no message found".
const errCodeNoMessage = 10037

// LastMessage returns the last message stored on an exact subject, or nil if
// there is none. The CDC relay resumes from it: the tail of the stream is its
// cursor, so a bus that lost its last writes is refilled from the database.
//
// It asks the stream leader (not a direct get, which any replica may answer
// and which may lag), because a stale tail would make the relay republish
// more than needed.
func (b *Bus) LastMessage(ctx context.Context, subject string) (*wims.Message, error) {
	if strings.ContainsAny(subject, "*>") {
		return nil, fmt.Errorf("nats: last message: subject %q has a wildcard", subject)
	}
	stream, err := b.streamFor(subject)
	if err != nil {
		return nil, err
	}
	m, err := b.leaderGet(ctx, stream, map[string]any{"last_by_subj": subject})
	if err != nil {
		return nil, fmt.Errorf("nats: last message %s: %w", subject, err)
	}
	return m, nil
}

// leaderGet reads one message through the stream leader's MSG.GET API, which
// sees every acknowledged write, unlike a direct get that a lagging replica
// may answer. It returns nil if there is no such message.
func (b *Bus) leaderGet(ctx context.Context, stream string, req map[string]any) (*wims.Message, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	data, _ := json.Marshal(req)
	reply, err := b.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, data)
	if err != nil {
		return nil, err
	}
	var resp msgGetResponse
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		return nil, err
	}
	if resp.Error != nil {
		if resp.Error.ErrorCode == errCodeNoMessage {
			return nil, nil
		}
		return nil, resp.Error
	}
	if resp.Message == nil {
		return nil, errors.New("empty reply")
	}
	var h natsgo.Header
	if len(resp.Message.Header) > 0 {
		if h, err = natsgo.DecodeHeadersMsg(resp.Message.Header); err != nil {
			return nil, err
		}
	}
	m := toMessage(resp.Message.Subject, resp.Message.Seq, h, resp.Message.Data, 0)
	m.Stored = resp.Message.Time
	return m, nil
}

// GetMessage returns the message stored at seq in a stream kind (Events,
// DeadLetter, …), or nil if there is none (never stored, deleted or expired).
// It reads through the stream leader, so a message just stored is found.
func (b *Bus) GetMessage(ctx context.Context, stream string, seq uint64) (*wims.Message, error) {
	m, err := b.leaderGet(ctx, b.Stream(stream), map[string]any{"seq": seq})
	if err != nil {
		return nil, fmt.Errorf("nats: get %s #%d: %w", stream, seq, err)
	}
	return m, nil
}

// Recent returns up to limit messages on subject (wildcards allowed), newest
// first, that keep accepts (nil keeps all), having read at most scanMax
// messages: ScanBackward from the end of the stream. In a cluster any
// replica may answer, so the newest messages can be missing for a moment.
func (b *Bus) Recent(ctx context.Context, subject string, limit, scanMax int, keep func(*wims.Message) bool) ([]*wims.Message, error) {
	res, err := b.ScanBackward(ctx, subject, 0, limit, scanMax, keep)
	slices.Reverse(res.Messages)
	return res.Messages, err
}

// directBatch returns the messages on subject with sequences in [lo, hi],
// oldest first, via batched direct gets ($JS.API.DIRECT.GET). A batch asks
// for at most hi-lo+1 messages; the server may return some beyond hi (when
// the window holds fewer matches), which are dropped, and may stop early at
// its byte limit, in which case the next batch continues.
func (b *Bus) directBatch(ctx context.Context, stream string, lo, hi uint64, subject string) ([]*wims.Message, error) {
	var out []*wims.Message
	qc := b.queryConn()
	inbox := qc.NewRespInbox()
	sub, err := qc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("nats: direct get: %w", err)
	}
	defer sub.Unsubscribe()

	for next := lo; next <= hi; {
		req, _ := json.Marshal(struct {
			Seq     uint64 `json:"seq"`
			NextFor string `json:"next_by_subj"`
			Batch   int    `json:"batch"`
		}{next, subject, int(hi - next + 1)})
		if err := qc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, req); err != nil {
			return nil, fmt.Errorf("nats: direct get: %w", err)
		}
		got, last := 0, uint64(0)
	recv:
		for {
			msg, err := sub.NextMsgWithContext(ctx)
			if err != nil {
				return nil, fmt.Errorf("nats: direct get %s: %w", stream, err)
			}
			if len(msg.Data) == 0 && msg.Header.Get("Status") != "" {
				switch msg.Header.Get("Status") {
				case "204": // end of batch
				case "404": // nothing (more) on subject from next
					return out, nil
				default:
					return nil, fmt.Errorf("nats: direct get %s: %s %s", stream, msg.Header.Get("Status"), msg.Header.Get("Description"))
				}
				break recv
			}
			seq, err := strconv.ParseUint(msg.Header.Get(jetstream.SequenceHeader), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("nats: direct get %s: bad sequence header: %w", stream, err)
			}
			got, last = got+1, seq
			if seq > hi {
				continue
			}
			subj := msg.Header.Get(jetstream.SubjectHeader)
			stored, _ := time.Parse(time.RFC3339Nano, msg.Header.Get(jetstream.TimeStampHeaer))
			for _, k := range directHeaders {
				msg.Header.Del(k)
			}
			m := toMessage(subj, seq, msg.Header, msg.Data, 0)
			m.Stored = stored
			out = append(out, m)
		}
		if got == 0 || last >= hi {
			break
		}
		next = last + 1
	}
	return out, nil
}

// withDefaultTimeout gives ctx a deadline if it has none, so a read against
// an unreachable server cannot hang forever.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, readTimeout)
}
