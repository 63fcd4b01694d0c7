package client

import (
	"context"
	"encoding/json"
	"strconv"
)

// DeadLetter is a message that failed every attempt, as GET /dead-letters
// shows it.
type DeadLetter struct {
	Seq      uint64          `json:"seq"`
	Consumer string          `json:"consumer"`
	Subject  string          `json:"subject"`
	Reason   string          `json:"reason"`
	Attempts int             `json:"attempts"`
	Time     string          `json:"time"`
	Message  json.RawMessage `json:"message"`
}

// DeadLetters returns up to limit dead letters, newest first (limit 0: the
// server's default).
func (c *Client) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	path := "/dead-letters"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out struct {
		DeadLetters []DeadLetter `json:"deadLetters"`
	}
	_, err := c.do(ctx, "GET", path, nil, nil, &out)
	return out.DeadLetters, err
}

// Redrive sends the dead letter at seq back to where it came from.
func (c *Client) Redrive(ctx context.Context, seq uint64) error {
	_, err := c.do(ctx, "POST", "/dead-letters/"+strconv.FormatUint(seq, 10)+"/redrive", nil, nil, nil)
	return err
}
