package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/wims/wims"
)

// DeadLetter is a message that failed every attempt, as GET /dead-letters
// shows it.
type DeadLetter struct {
	Seq           uint64          `json:"seq"`
	Consumer      string          `json:"consumer"`
	Rule          string          `json:"rule,omitempty"`
	Target        string          `json:"target,omitempty"`
	Bus           string          `json:"bus,omitempty"`
	DeadLetterARN string          `json:"deadLetterArn,omitempty"`
	Subject       string          `json:"subject"`
	Reason        string          `json:"reason"`
	Attempts      int             `json:"attempts"`
	Time          string          `json:"time"`
	Message       json.RawMessage `json:"message"`
}

// DeadLetters returns up to limit dead letters, newest first (limit 0: the
// server's default).
func (c *Client) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	dls, _, err := c.DeadLetterPage(ctx, wims.DeadLetterFilter{}, limit, "")
	return dls, err
}

// DeadLetterPage returns up to limit dead letters that pass f, newest
// first, below cursor ("" for the newest), and the cursor of the next
// (older) page, "" when there is none.
func (c *Client) DeadLetterPage(ctx context.Context, f wims.DeadLetterFilter, limit int, cursor string) ([]DeadLetter, string, error) {
	q := url.Values{}
	for k, v := range map[string]string{"consumer": f.Consumer, "rule": f.Rule, "target": f.Target, "bus": f.Bus, "reason": f.Reason, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	var out struct {
		DeadLetters []DeadLetter `json:"deadLetters"`
		Cursor      string       `json:"cursor"`
	}
	_, err := c.do(ctx, "GET", withQuery("/dead-letters", q), nil, nil, &out)
	return out.DeadLetters, out.Cursor, err
}

// Redrive sends the dead letter at seq back to where it came from.
func (c *Client) Redrive(ctx context.Context, seq uint64) error {
	_, err := c.do(ctx, "POST", "/dead-letters/"+strconv.FormatUint(seq, 10)+"/redrive", nil, nil, nil)
	return err
}

// RedriveDryRun returns the dead letter a redrive of seq would send, and
// changes nothing.
func (c *Client) RedriveDryRun(ctx context.Context, seq uint64) (DeadLetter, error) {
	var out struct {
		DeadLetter DeadLetter `json:"deadLetter"`
	}
	_, err := c.do(ctx, "POST", "/dead-letters/"+strconv.FormatUint(seq, 10)+"/redrive?dry-run=true", nil, nil, &out)
	return out.DeadLetter, err
}

// PurgeDeadLetter deletes the dead letter at seq.
func (c *Client) PurgeDeadLetter(ctx context.Context, seq uint64) error {
	_, err := c.do(ctx, "DELETE", "/dead-letters/"+strconv.FormatUint(seq, 10), nil, nil, nil)
	return err
}

// BulkResult is what a bulk redrive or purge did (or would do).
type BulkResult struct {
	Status string   `json:"status"`
	Count  int      `json:"count"`
	Seqs   []uint64 `json:"seqs"`
	More   bool     `json:"more"`
}

// RedriveAll redrives up to limit dead letters that pass f (limit 0: the
// server's maximum); with dryRun it only says which.
func (c *Client) RedriveAll(ctx context.Context, f wims.DeadLetterFilter, limit int, dryRun bool) (BulkResult, error) {
	return c.bulk(ctx, "/dead-letters/redrive", f, limit, dryRun)
}

// PurgeAll deletes up to limit dead letters that pass f; with dryRun it
// only says which.
func (c *Client) PurgeAll(ctx context.Context, f wims.DeadLetterFilter, limit int, dryRun bool) (BulkResult, error) {
	return c.bulk(ctx, "/dead-letters/purge", f, limit, dryRun)
}

func (c *Client) bulk(ctx context.Context, path string, f wims.DeadLetterFilter, limit int, dryRun bool) (BulkResult, error) {
	if dryRun {
		path += "?dry-run=true"
	}
	body := struct {
		wims.DeadLetterFilter
		Limit int `json:"limit,omitempty"`
	}{f, limit}
	var out BulkResult
	_, err := c.do(ctx, "POST", path, body, nil, &out)
	return out, err
}
