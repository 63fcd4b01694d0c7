package eventlog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/wims/wims"
	"github.com/wims/wims/pattern"
)

// Token is how an order id or a SKU appears as a subject token: letters,
// digits, '-' and '_' as they are, every other byte %XX-escaped (NATS
// tokens cannot hold '.', '*', '>' or spaces), and "~" for none.
func Token(s string) string {
	if s == "" {
		return "~"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Cursors name a position and a direction: "f<seq>" reads forward from
// seq, "b<seq>" backward below it. Clients see them base64url-encoded, as
// opaque strings.

func cursor(dir byte, seq uint64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendUint([]byte{dir}, seq, 10))
}

func parseCursor(c string) (dir byte, seq uint64, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && len(raw) > 1 && (raw[0] == 'f' || raw[0] == 'b') {
		if seq, err = strconv.ParseUint(string(raw[1:]), 10, 64); err == nil && seq > 0 {
			return raw[0], seq, nil
		}
	}
	return 0, 0, wims.FieldError("cursor", "is not a cursor this API returned")
}

// Query returns a page of the log: forward from q.Since or a forward
// cursor, backward (the newest matching events) otherwise; in log order
// either way. A page ends early, with its cursors, when ScanMax entries
// have been read, so a rare match costs a bounded amount of work per call.
func (l *Log) Query(ctx context.Context, q wims.EventQuery) (wims.EventPage, error) {
	subject, err := l.subject(q)
	if err != nil {
		return wims.EventPage{}, err
	}
	keep, err := filter(q, l.Patterns)
	if err != nil {
		return wims.EventPage{}, err
	}
	budget := l.ScanMax
	if budget <= 0 {
		budget = 10_000
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var stop func(*wims.Message) bool
	if !q.Until.IsZero() {
		stop = func(m *wims.Message) bool { return !m.Stored.Before(q.Until) }
	}
	var dir byte = 'b'
	var from uint64
	switch {
	case q.Cursor != "":
		if !q.Since.IsZero() {
			return wims.EventPage{}, wims.FieldError("since", "cannot be given with a cursor (the cursor carries the position)")
		}
		if dir, from, err = parseCursor(q.Cursor); err != nil {
			return wims.EventPage{}, err
		}
	case !q.Since.IsZero():
		dir = 'f'
		if from, err = l.Bus.SeqAt(ctx, subject, q.Since); err != nil {
			return wims.EventPage{}, fmt.Errorf("read event log: %w", err)
		}
		if from == 0 { // nothing logged since: read on from the end
			res, err := l.Bus.ScanBackward(ctx, subject, 0, 0, 0, nil)
			if err != nil {
				return wims.EventPage{}, fmt.Errorf("read event log: %w", err)
			}
			from = res.Next
		}
	case !q.Until.IsZero():
		if from, err = l.Bus.SeqAt(ctx, subject, q.Until); err != nil {
			return wims.EventPage{}, fmt.Errorf("read event log: %w", err)
		}
	}
	var page wims.EventPage
	if dir == 'f' {
		res, err := l.Bus.ScanForward(ctx, subject, from, limit, budget, keep, stop)
		if err != nil {
			return page, fmt.Errorf("read event log: %w", err)
		}
		page.Next = cursor('f', res.Next)
		page.Prev = cursor('b', from)
		if len(res.Messages) > 0 {
			page.Prev = cursor('b', res.Messages[0].Seq)
		}
		page.Events = data(res.Messages)
		return page, nil
	}
	res, err := l.Bus.ScanBackward(ctx, subject, from, limit, budget, keep)
	if err != nil {
		return page, fmt.Errorf("read event log: %w", err)
	}
	page.Events = data(res.Messages)
	page.Next = cursor('f', res.Next)
	if res.Prev > 0 {
		page.Prev = cursor('b', res.Prev)
	}
	return page, nil
}

func data(msgs []*wims.Message) []json.RawMessage {
	out := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		out[i] = m.Data
	}
	return out
}

// subject is the subject the query reads: the log group's, narrowed to
// the order and SKU asked for.
func (l *Log) subject(q wims.EventQuery) (string, error) {
	base := l.Subject
	if q.LogGroup != "" {
		if l.GroupSubject == nil {
			return "", wims.Errorf(wims.ENOTFOUND, "log group %s not found", q.LogGroup)
		}
		base = l.GroupSubject(q.LogGroup)
	}
	if q.OrderID == "" && q.SKU == "" {
		return base + ".>", nil
	}
	order, sku := "*", "*"
	if q.OrderID != "" {
		order = Token(q.OrderID)
	}
	if q.SKU != "" {
		sku = Token(q.SKU)
	}
	return base + "." + order + "." + sku, nil
}

// filter is what the query keeps of what the subject selects.
func filter(q wims.EventQuery, rewrite func([]byte) ([]byte, error)) (func(*wims.Message) bool, error) {
	var p *pattern.Pattern
	if q.Pattern != "" {
		src := []byte(q.Pattern)
		if rewrite != nil {
			var err error
			if src, err = rewrite(src); err != nil {
				return nil, wims.FieldError("pattern", "%s", err)
			}
		}
		var err error
		if p, err = pattern.Compile(src); err != nil {
			return nil, wims.FieldError("pattern", "%s", strings.TrimPrefix(err.Error(), "pattern: "))
		}
	}
	if q.Source == "" && q.DetailType == "" && p == nil {
		return nil, nil
	}
	return func(m *wims.Message) bool {
		if (q.Source != "" && m.Header[HeaderSource] != q.Source) || (q.DetailType != "" && m.Header[HeaderDetailType] != q.DetailType) {
			return false
		}
		if p == nil {
			return true
		}
		ok, err := p.Match(m.Data)
		return err == nil && ok
	}, nil
}
