// Package client is a Go client for the wims HTTP API. Its methods return
// domain types; an error answer (an RFC 9457 problem) becomes a *Error that
// carries the status, problem type, detail and offending field.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("WIMS_API_KEY"))
//	o, err := c.CreateOrder(ctx, client.OrderRequest{CustomerID: "123", Quantity: 3}, "retry-key-1")
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wims/wims"
)

// Client talks to one wims server. It is safe for concurrent use.
type Client struct {
	base   string
	apiKey string
	// HTTP is the client requests go through; defaults to one with a 30 s
	// timeout.
	HTTP *http.Client
}

// New returns a client for the server at baseURL (e.g.
// "http://127.0.0.1:8080"), authenticating with apiKey if it is not "".
func New(baseURL, apiKey string) *Client {
	return &Client{
		base:   strings.TrimRight(baseURL, "/"),
		apiKey: apiKey,
		HTTP:   &http.Client{Timeout: 30 * time.Second},
	}
}

// Error is an error answer from the server: its problem details.
type Error struct {
	Status    int    `json:"status"`
	Type      string `json:"type"`
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	Field     string `json:"field"`
	RequestID string `json:"requestId"`
	// RetryAfter is the Retry-After header of a 429 or 409, if any.
	RetryAfter time.Duration `json:"-"`
}

// Error formats the problem for people: "404 Not found: No item …".
func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.RequestID != "" && e.Status >= 500 {
		msg += " (request id " + e.RequestID + ")"
	}
	return msg
}

// Kind is the last segment of the problem type, e.g. "validation-error".
func (e *Error) Kind() string { return e.Type[strings.LastIndexByte(e.Type, '/')+1:] }

// OrderRequest is the body of POST /orders: SKU and Quantity (SKU "" means
// the default product), or Lines for an order of several SKUs, not both.
type OrderRequest struct {
	CustomerID string           `json:"customerId"`
	Quantity   int64            `json:"quantity,omitempty"`
	SKU        string           `json:"sku,omitempty"`
	Lines      []wims.OrderLine `json:"lines,omitempty"`
}

// OrderDetail is GET /orders/{id}: the order and what happened to it.
type OrderDetail struct {
	wims.Order
	History    []wims.StatusChange   `json:"history"`
	Payments   []wims.PaymentAttempt `json:"payments"`
	Executions []wims.Execution      `json:"executions"`
}

// ItemRequest is the body of PUT /inventory/{sku}.
type ItemRequest struct {
	ProductName       string `json:"productName"`
	Model             string `json:"model,omitempty"`
	Quantity          int64  `json:"quantity"`
	LowStockThreshold *int64 `json:"lowStockThreshold,omitempty"`
	// HighStockThreshold, if above 0, is the overstock level.
	HighStockThreshold int64 `json:"highStockThreshold,omitempty"`
	// AllowBackorder lets orders beyond the stock wait as BACKORDERED.
	AllowBackorder bool `json:"allowBackorder,omitempty"`
}

// CreateOrder places an order. With idempotencyKey set, a retry returns the
// original order (replayed reports it) instead of creating another.
func (c *Client) CreateOrder(ctx context.Context, req OrderRequest, idempotencyKey string) (o wims.Order, replayed bool, err error) {
	hdr := http.Header{}
	if idempotencyKey != "" {
		hdr.Set("Idempotency-Key", idempotencyKey)
	}
	res, err := c.do(ctx, "POST", "/orders", req, hdr, &o)
	if err != nil {
		return wims.Order{}, false, err
	}
	return o, res.Header.Get("Idempotent-Replayed") == "true", nil
}

// GetOrder returns an order with its history, payments and executions.
func (c *Client) GetOrder(ctx context.Context, id string) (OrderDetail, error) {
	var o OrderDetail
	_, err := c.do(ctx, "GET", "/orders/"+url.PathEscape(id), nil, nil, &o)
	return o, err
}

// CancelOrder cancels an order and returns it as the cancel left it:
// CANCELLED, or REFUND_PENDING for a paid order. Cancelling a CANCELLED
// order again returns it unchanged; an order past cancelling is a 409
// problem (type order-not-cancellable).
func (c *Client) CancelOrder(ctx context.Context, id string) (wims.Order, error) {
	var o wims.Order
	_, err := c.do(ctx, "POST", "/orders/"+url.PathEscape(id)+"/cancel", nil, nil, &o)
	return o, err
}

// ShipOrder marks a PAID order SHIPPED with the shipment and returns it.
// The same shipment again returns the order unchanged; any other status,
// or another shipment of a SHIPPED order, is a 409 problem (type
// order-not-shippable).
func (c *Client) ShipOrder(ctx context.Context, id string, s wims.Shipment) (wims.Order, error) {
	var o wims.Order
	_, err := c.do(ctx, "POST", "/orders/"+url.PathEscape(id)+"/shipment", s, nil, &o)
	return o, err
}

// ListOrders returns one page of orders, newest first.
func (c *Client) ListOrders(ctx context.Context, f wims.OrderFilter) (wims.OrderPage, error) {
	q := url.Values{}
	if f.CustomerID != "" {
		q.Set("customerId", f.CustomerID)
	}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.SKU != "" {
		q.Set("sku", f.SKU)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	path := "/orders"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var p wims.OrderPage
	_, err := c.do(ctx, "GET", path, nil, nil, &p)
	return p, err
}

// ListItems returns the inventory, ordered by SKU.
func (c *Client) ListItems(ctx context.Context) ([]wims.Item, error) {
	var out struct {
		Items []wims.Item `json:"items"`
	}
	_, err := c.do(ctx, "GET", "/inventory", nil, nil, &out)
	return out.Items, err
}

// GetItem returns one item.
func (c *Client) GetItem(ctx context.Context, sku string) (wims.Item, error) {
	var it wims.Item
	_, err := c.do(ctx, "GET", "/inventory/"+url.PathEscape(sku), nil, nil, &it)
	return it, err
}

// PutItem creates or replaces an item.
func (c *Client) PutItem(ctx context.Context, sku string, req ItemRequest) (wims.Item, error) {
	var it wims.Item
	_, err := c.do(ctx, "PUT", "/inventory/"+url.PathEscape(sku), req, nil, &it)
	return it, err
}

// AdjustStock adds delta (negative for a write-off) to an item's quantity.
func (c *Client) AdjustStock(ctx context.Context, sku string, adj wims.Adjustment) (wims.Item, error) {
	var it wims.Item
	_, err := c.do(ctx, "POST", "/inventory/"+url.PathEscape(sku)+"/adjustments", adj, nil, &it)
	return it, err
}

// maxResponse bounds a response body the client reads.
const maxResponse = 32 << 20

// do sends one request and decodes a 2xx JSON answer into out, or returns
// the problem as *Error.
func (c *Client) do(ctx context.Context, method, path string, body any, hdr http.Header, out any) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, body, hdr)
	if err != nil {
		return nil, err
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return res, c.read(res, method, path, out)
}

// newRequest builds an authenticated request with a JSON body (if any).
func (c *Client) newRequest(ctx context.Context, method, path string, body any, hdr http.Header) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	return req, nil
}

// read decodes a response into out, or its problem into an *Error.
func (c *Client) read(res *http.Response, method, path string, out any) error {
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s: reading the response: %w", method, path, err)
	}
	if res.StatusCode >= 300 {
		e := &Error{Status: res.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Status == 0 {
			// Not a problem (a proxy's page?): say what came back.
			e.Status, e.Title = res.StatusCode, http.StatusText(res.StatusCode)
			e.Detail = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding the response: %w", method, path, err)
		}
	}
	return nil
}
