package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wims/wims"
)

// The event log (GET /events, GET /events/stream).

// eventsQuery encodes an event query as the API's parameters.
func eventsQuery(q wims.EventQuery) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("source", q.Source)
	set("detail-type", q.DetailType)
	set("log-group", q.LogGroup)
	set("order", q.OrderID)
	set("sku", q.SKU)
	set("pattern", q.Pattern)
	set("cursor", q.Cursor)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	return v
}

// Events returns a page of the event log.
func (c *Client) Events(ctx context.Context, q wims.EventQuery) (wims.EventPage, error) {
	var page wims.EventPage
	_, err := c.do(ctx, "GET", withQuery("/events", eventsQuery(q)), nil, nil, &page)
	return page, err
}

// TailEvents follows the event log (from q.Since or q.Cursor, else from
// now), calling f with each matching event as it is logged, until ctx ends
// or f returns an error. A dropped connection is resumed from the last
// cursor the server sent, so no event is missed.
func (c *Client) TailEvents(ctx context.Context, q wims.EventQuery, f func(json.RawMessage) error) error {
	q.Until = time.Time{}
	for {
		cursor, err := c.tailOnce(ctx, q, f)
		if ctx.Err() != nil {
			return nil
		}
		var he handlerError
		if errors.As(err, &he) {
			return he.err
		}
		var refused *Error
		if errors.As(err, &refused) {
			return err // the query itself is refused: retrying cannot help
		}
		if cursor != "" {
			q.Cursor, q.Since = cursor, time.Time{}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// handlerError is an error of TailEvents' f, which ends the tail.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// tailOnce reads one stream; it returns the last cursor seen.
func (c *Client) tailOnce(ctx context.Context, q wims.EventQuery, f func(json.RawMessage) error) (string, error) {
	path := withQuery("/events/stream", eventsQuery(q))
	req, err := c.newRequest(ctx, "GET", path, nil, http.Header{"Accept": {"text/event-stream"}})
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream, application/problem+json")
	// No client timeout: the stream lasts as long as ctx.
	hc := *c.HTTP
	hc.Timeout = 0
	res, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", c.read(res, "GET", path, nil)
	}
	last := ""
	lines := bufio.NewScanner(res.Body)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			last = id
		} else if data, ok := strings.CutPrefix(line, "data: "); ok {
			if err := f(json.RawMessage(data)); err != nil {
				return last, handlerError{err}
			}
		}
	}
	return last, lines.Err()
}
