package client

import (
	"context"
	"net/url"
	"time"

	"github.com/wims/wims"
)

// Archives and replays (DESIGN §8).

// ArchiveRequest creates (name, bus) or updates an archive.
type ArchiveRequest struct {
	Name          string `json:"name,omitempty"`
	EventBus      string `json:"eventBus,omitempty"`
	Description   string `json:"description,omitempty"`
	EventPattern  string `json:"eventPattern,omitempty"`
	RetentionDays int    `json:"retentionDays"`
}

// ListArchives lists archives whose names start with prefix (and of bus,
// if given), with their event counts and sizes.
func (c *Client) ListArchives(ctx context.Context, prefix, bus string) ([]wims.Archive, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if bus != "" {
		q.Set("bus", bus)
	}
	var out struct {
		Archives []wims.Archive `json:"archives"`
	}
	_, err := c.do(ctx, "GET", withQuery("/archives", q), nil, nil, &out)
	return out.Archives, err
}

// CreateArchive creates an archive.
func (c *Client) CreateArchive(ctx context.Context, req ArchiveRequest) (wims.Archive, error) {
	var a wims.Archive
	_, err := c.do(ctx, "POST", "/archives", req, nil, &a)
	return a, err
}

// UpdateArchive replaces an archive's description, pattern and retention.
func (c *Client) UpdateArchive(ctx context.Context, name string, req ArchiveRequest) (wims.Archive, error) {
	var a wims.Archive
	_, err := c.do(ctx, "PUT", "/archives/"+url.PathEscape(name), req, nil, &a)
	return a, err
}

// GetArchive returns an archive.
func (c *Client) GetArchive(ctx context.Context, name string) (wims.Archive, error) {
	var a wims.Archive
	_, err := c.do(ctx, "GET", "/archives/"+url.PathEscape(name), nil, nil, &a)
	return a, err
}

// DeleteArchive deletes an archive and its events.
func (c *Client) DeleteArchive(ctx context.Context, name string) error {
	_, err := c.do(ctx, "DELETE", "/archives/"+url.PathEscape(name), nil, nil, nil)
	return err
}

// ReplayRequest starts a replay; Rules, if given, limits it to those rules.
type ReplayRequest struct {
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	Archive        string    `json:"archive"`
	EventStartTime time.Time `json:"eventStartTime"`
	EventEndTime   time.Time `json:"eventEndTime"`
	Rules          []string  `json:"rules,omitempty"`
}

// StartReplay starts a replay.
func (c *Client) StartReplay(ctx context.Context, req ReplayRequest) (wims.Replay, error) {
	var r wims.Replay
	_, err := c.do(ctx, "POST", "/replays", req, nil, &r)
	return r, err
}

// ListReplays lists replays whose names start with prefix (of archive and
// in state, when given).
func (c *Client) ListReplays(ctx context.Context, prefix, archive, state string) ([]wims.Replay, error) {
	q := url.Values{}
	for k, v := range map[string]string{"prefix": prefix, "archive": archive, "state": state} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Replays []wims.Replay `json:"replays"`
	}
	_, err := c.do(ctx, "GET", withQuery("/replays", q), nil, nil, &out)
	return out.Replays, err
}

// GetReplay returns a replay and its progress.
func (c *Client) GetReplay(ctx context.Context, name string) (wims.Replay, error) {
	var r wims.Replay
	_, err := c.do(ctx, "GET", "/replays/"+url.PathEscape(name), nil, nil, &r)
	return r, err
}

// CancelReplay stops a running replay.
func (c *Client) CancelReplay(ctx context.Context, name string) (wims.Replay, error) {
	var r wims.Replay
	_, err := c.do(ctx, "POST", "/replays/"+url.PathEscape(name)+"/cancel", nil, nil, &r)
	return r, err
}

// withQuery appends q to path when it has any values.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
