package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/wims/wims"
)

// The event platform's routes (DESIGN §8). Bus names may contain '/'; the
// client percent-encodes every path segment, which the server decodes.

// withPrefix appends ?prefix= when prefix is not "".
func withPrefix(path, prefix string) string {
	if prefix == "" {
		return path
	}
	return path + "?" + url.Values{"prefix": {prefix}}.Encode()
}

// rulePath is the path of a rule; bus "" is the default bus.
func rulePath(bus, rule string) string {
	if bus == "" {
		bus = wims.DefaultBus
	}
	return "/buses/" + url.PathEscape(bus) + "/rules/" + url.PathEscape(rule)
}

// ListEventBuses lists the buses whose names start with prefix, by name;
// the default bus included.
func (c *Client) ListEventBuses(ctx context.Context, prefix string) ([]wims.EventBus, error) {
	var out struct {
		EventBuses []wims.EventBus `json:"eventBuses"`
	}
	_, err := c.do(ctx, "GET", withPrefix("/buses", prefix), nil, nil, &out)
	return out.EventBuses, err
}

// CreateEventBus creates a custom bus.
func (c *Client) CreateEventBus(ctx context.Context, name, description string) (wims.EventBus, error) {
	var b wims.EventBus
	body := struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
	}{name, description}
	_, err := c.do(ctx, "POST", "/buses", body, nil, &b)
	return b, err
}

// GetEventBus returns a bus.
func (c *Client) GetEventBus(ctx context.Context, name string) (wims.EventBus, error) {
	var b wims.EventBus
	_, err := c.do(ctx, "GET", "/buses/"+url.PathEscape(name), nil, nil, &b)
	return b, err
}

// DeleteEventBus deletes a custom bus that has no rules.
func (c *Client) DeleteEventBus(ctx context.Context, name string) error {
	_, err := c.do(ctx, "DELETE", "/buses/"+url.PathEscape(name), nil, nil, nil)
	return err
}

// ListRules lists a bus's rules whose names start with prefix.
func (c *Client) ListRules(ctx context.Context, bus, prefix string) ([]wims.Rule, error) {
	if bus == "" {
		bus = wims.DefaultBus
	}
	var out struct {
		Rules []wims.Rule `json:"rules"`
	}
	_, err := c.do(ctx, "GET", withPrefix("/buses/"+url.PathEscape(bus)+"/rules", prefix), nil, nil, &out)
	return out.Rules, err
}

// PutRule creates or replaces r (its name on its EventBusName, "" meaning
// the default bus), keeping its targets. State "" is ENABLED.
func (c *Client) PutRule(ctx context.Context, r wims.Rule) (wims.Rule, error) {
	body := struct {
		EventPattern string `json:"eventPattern"`
		State        string `json:"state,omitempty"`
		Description  string `json:"description,omitempty"`
	}{r.EventPattern, r.State, r.Description}
	var out wims.Rule
	_, err := c.do(ctx, "PUT", rulePath(r.EventBusName, r.Name), body, nil, &out)
	return out, err
}

// GetRule returns a rule.
func (c *Client) GetRule(ctx context.Context, bus, name string) (wims.Rule, error) {
	var out wims.Rule
	_, err := c.do(ctx, "GET", rulePath(bus, name), nil, nil, &out)
	return out, err
}

// DeleteRule deletes a rule. A rule with targets, or one wims manages,
// needs force (which removes its targets with it).
func (c *Client) DeleteRule(ctx context.Context, bus, name string, force bool) error {
	path := rulePath(bus, name)
	if force {
		path += "?force=true"
	}
	_, err := c.do(ctx, "DELETE", path, nil, nil, nil)
	return err
}

// EnableRule makes a rule route events again and returns it.
func (c *Client) EnableRule(ctx context.Context, bus, name string) (wims.Rule, error) {
	var out wims.Rule
	_, err := c.do(ctx, "POST", rulePath(bus, name)+"/enable", nil, nil, &out)
	return out, err
}

// DisableRule stops a rule routing events, keeping it and its targets.
func (c *Client) DisableRule(ctx context.Context, bus, name string) (wims.Rule, error) {
	var out wims.Rule
	_, err := c.do(ctx, "POST", rulePath(bus, name)+"/disable", nil, nil, &out)
	return out, err
}

// ListTargets lists a rule's targets by id.
func (c *Client) ListTargets(ctx context.Context, bus, rule string) ([]wims.Target, error) {
	var out struct {
		Targets []wims.Target `json:"targets"`
	}
	_, err := c.do(ctx, "GET", rulePath(bus, rule)+"/targets", nil, nil, &out)
	return out.Targets, err
}

// targetBody is a target as PUT …/targets takes it: the rule and bus are
// the path's, so they are not sent.
type targetBody struct {
	ID               string                 `json:"id"`
	Arn              string                 `json:"arn"`
	Input            string                 `json:"input,omitempty"`
	InputPath        string                 `json:"inputPath,omitempty"`
	InputTransformer *wims.InputTransformer `json:"inputTransformer,omitempty"`
	RetryPolicy      *wims.RetryPolicy      `json:"retryPolicy,omitempty"`
	DeadLetterConfig *wims.DeadLetterConfig `json:"deadLetterConfig,omitempty"`
	HTTPParameters   *wims.HTTPParameters   `json:"httpParameters,omitempty"`
}

// PutTargets adds or replaces targets of a rule (their Rule and
// EventBusName are ignored). The targets that could not be applied come
// back with an EventBridge error code; the others were applied.
func (c *Client) PutTargets(ctx context.Context, bus, rule string, targets []wims.Target) ([]wims.TargetFailure, error) {
	body := struct {
		Targets []targetBody `json:"targets"`
	}{make([]targetBody, len(targets))}
	for i, t := range targets {
		body.Targets[i] = targetBody{
			ID: t.ID, Arn: t.Arn, Input: t.Input, InputPath: t.InputPath, InputTransformer: t.InputTransformer,
			RetryPolicy: t.RetryPolicy, DeadLetterConfig: t.DeadLetterConfig, HTTPParameters: t.HTTPParameters,
		}
	}
	var out struct {
		FailedEntries []wims.TargetFailure `json:"failedEntries"`
	}
	_, err := c.do(ctx, "PUT", rulePath(bus, rule)+"/targets", body, nil, &out)
	return out.FailedEntries, err
}

// RemoveTarget removes one target of a rule.
func (c *Client) RemoveTarget(ctx context.Context, bus, rule, id string) error {
	_, err := c.do(ctx, "DELETE", rulePath(bus, rule)+"/targets/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// connectionBody is a connection as the server takes it: the secret in
// apiKeyValue or password by authorization type.
type connectionBody struct {
	Name                     string               `json:"name,omitempty"`
	Description              string               `json:"description,omitempty"`
	AuthorizationType        string               `json:"authorizationType"`
	APIKeyName               string               `json:"apiKeyName,omitempty"`
	APIKeyValue              string               `json:"apiKeyValue,omitempty"`
	Username                 string               `json:"username,omitempty"`
	Password                 string               `json:"password,omitempty"`
	InvocationHTTPParameters *wims.HTTPParameters `json:"invocationHttpParameters,omitempty"`
}

func newConnectionBody(c wims.Connection) connectionBody {
	b := connectionBody{
		Name: c.Name, Description: c.Description, AuthorizationType: c.AuthorizationType,
		APIKeyName: c.APIKeyName, Username: c.Username, InvocationHTTPParameters: c.InvocationHTTPParameters,
	}
	switch c.AuthorizationType {
	case wims.AuthAPIKey:
		b.APIKeyValue = c.Secret
	case wims.AuthBasic:
		b.Password = c.Secret
	}
	return b
}

// ListConnections lists connections by name. No answer carries a secret.
func (c *Client) ListConnections(ctx context.Context, prefix string) ([]wims.Connection, error) {
	var out struct {
		Connections []wims.Connection `json:"connections"`
	}
	_, err := c.do(ctx, "GET", withPrefix("/connections", prefix), nil, nil, &out)
	return out.Connections, err
}

// CreateConnection creates a connection; conn.Secret is the API key value
// (API_KEY) or the password (BASIC), sent once and never returned.
func (c *Client) CreateConnection(ctx context.Context, conn wims.Connection) (wims.Connection, error) {
	var out wims.Connection
	_, err := c.do(ctx, "POST", "/connections", newConnectionBody(conn), nil, &out)
	return out, err
}

// UpdateConnection replaces a connection's fields; an empty Secret keeps
// the stored one.
func (c *Client) UpdateConnection(ctx context.Context, conn wims.Connection) (wims.Connection, error) {
	var out wims.Connection
	_, err := c.do(ctx, "PUT", "/connections/"+url.PathEscape(conn.Name), newConnectionBody(conn), nil, &out)
	return out, err
}

// GetConnection returns a connection without its secret.
func (c *Client) GetConnection(ctx context.Context, name string) (wims.Connection, error) {
	var out wims.Connection
	_, err := c.do(ctx, "GET", "/connections/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// DeleteConnection deletes a connection no API destination uses.
func (c *Client) DeleteConnection(ctx context.Context, name string) error {
	_, err := c.do(ctx, "DELETE", "/connections/"+url.PathEscape(name), nil, nil, nil)
	return err
}

// destinationBody is an API destination as the server takes it.
type destinationBody struct {
	Name                         string `json:"name,omitempty"`
	Description                  string `json:"description,omitempty"`
	ConnectionName               string `json:"connectionName"`
	InvocationEndpoint           string `json:"invocationEndpoint"`
	HTTPMethod                   string `json:"httpMethod"`
	InvocationRateLimitPerSecond int    `json:"invocationRateLimitPerSecond,omitempty"`
}

func newDestinationBody(d wims.APIDestination) destinationBody {
	return destinationBody{d.Name, d.Description, d.ConnectionName, d.InvocationEndpoint, d.HTTPMethod, d.InvocationRateLimitPerSecond}
}

// ListAPIDestinations lists API destinations by name.
func (c *Client) ListAPIDestinations(ctx context.Context, prefix string) ([]wims.APIDestination, error) {
	var out struct {
		APIDestinations []wims.APIDestination `json:"apiDestinations"`
	}
	_, err := c.do(ctx, "GET", withPrefix("/api-destinations", prefix), nil, nil, &out)
	return out.APIDestinations, err
}

// CreateAPIDestination creates an API destination on an existing
// connection; a rate of 0 is EventBridge's default (300/s).
func (c *Client) CreateAPIDestination(ctx context.Context, d wims.APIDestination) (wims.APIDestination, error) {
	var out wims.APIDestination
	_, err := c.do(ctx, "POST", "/api-destinations", newDestinationBody(d), nil, &out)
	return out, err
}

// UpdateAPIDestination replaces an API destination.
func (c *Client) UpdateAPIDestination(ctx context.Context, d wims.APIDestination) (wims.APIDestination, error) {
	var out wims.APIDestination
	_, err := c.do(ctx, "PUT", "/api-destinations/"+url.PathEscape(d.Name), newDestinationBody(d), nil, &out)
	return out, err
}

// GetAPIDestination returns an API destination.
func (c *Client) GetAPIDestination(ctx context.Context, name string) (wims.APIDestination, error) {
	var out wims.APIDestination
	_, err := c.do(ctx, "GET", "/api-destinations/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// DeleteAPIDestination deletes an API destination.
func (c *Client) DeleteAPIDestination(ctx context.Context, name string) error {
	_, err := c.do(ctx, "DELETE", "/api-destinations/"+url.PathEscape(name), nil, nil, nil)
	return err
}

// eventBody is one entry as POST /events takes it; the server sets the
// trace header from the request's own trace context.
type eventBody struct {
	Source       string    `json:"source"`
	DetailType   string    `json:"detailType"`
	Detail       string    `json:"detail"`
	Resources    []string  `json:"resources,omitempty"`
	Time         time.Time `json:"time,omitzero"`
	EventBusName string    `json:"eventBusName,omitempty"`
}

// PutEvents puts up to 10 events; each succeeds (EventID) or fails
// (ErrorCode, ErrorMessage) on its own, in the entries' order. An entry's
// Detail is JSON text (an object); its TraceHeader is not sent.
func (c *Client) PutEvents(ctx context.Context, entries []wims.PutEventsEntry) ([]wims.PutEventsResult, error) {
	body := struct {
		Entries []eventBody `json:"entries"`
	}{make([]eventBody, len(entries))}
	for i, e := range entries {
		body.Entries[i] = eventBody{e.Source, e.DetailType, e.Detail, e.Resources, e.Time, e.EventBusName}
	}
	var out struct {
		Entries []wims.PutEventsResult `json:"entries"`
	}
	_, err := c.do(ctx, "POST", "/events", body, nil, &out)
	return out.Entries, err
}

// TestEventPattern reports whether event (JSON text) matches pattern (JSON
// text), as the server's pattern engine decides.
func (c *Client) TestEventPattern(ctx context.Context, pattern, event string) (bool, error) {
	body := struct {
		EventPattern string `json:"eventPattern"`
		Event        string `json:"event"`
	}{pattern, event}
	var out struct {
		Result bool `json:"result"`
	}
	_, err := c.do(ctx, http.MethodPost, "/rules/test", body, nil, &out)
	return out.Result, err
}
