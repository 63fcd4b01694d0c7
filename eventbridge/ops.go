package eventbridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/wims/wims"
	"github.com/wims/wims/internal/textcheck"
)

// decode reads an operation's input; malformed JSON is a
// SerializationException, as AWS answers it.
func decode[T any](body []byte) (T, error) {
	var v T
	if path, found := textcheck.NULInJSON(body); found {
		return v, validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must not contain NUL characters", path)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&v); err != nil {
		return v, awsError{400, "SerializationException", "Cannot parse the request: " + err.Error()}
	}
	if dec.More() {
		return v, awsError{400, "SerializationException", "Cannot parse the request: trailing data"}
	}
	return v, nil
}

func required(name, v string) error {
	if v == "" {
		return validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return nil
}

// pageOf paginates a name-ordered list: the token is the last name
// returned, opaque to clients (base64).
func pageOf[T any](items []T, name func(T) string, token string, limit int) ([]T, string, error) {
	if limit < 0 || limit > 100 {
		return nil, "", validation("Limit must be between 1 and 100")
	}
	if limit == 0 {
		limit = 100
	}
	start := 0
	if token != "" {
		last, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", validation("The NextToken is not valid.")
		}
		for start < len(items) && name(items[start]) <= string(last) {
			start++
		}
	}
	end := min(start+limit, len(items))
	out := items[start:end]
	next := ""
	if end < len(items) && len(out) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(name(out[len(out)-1])))
	}
	return out, next, nil
}

type listIn struct {
	NamePrefix   string `json:"NamePrefix"`
	EventBusName string `json:"EventBusName"`
	NextToken    string `json:"NextToken"`
	Limit        int    `json:"Limit"`
}

type nameIn struct {
	Name         string `json:"Name"`
	EventBusName string `json:"EventBusName"`
	Force        bool   `json:"Force"`
}

// op builds an Operation from a typed function.
func op[In any](access string, f func(ctx context.Context, p wims.EventPlatform, in In) (any, error)) Operation {
	return Operation{Access: access, Call: func(ctx context.Context, p wims.EventPlatform, body []byte) (any, error) {
		in, err := decode[In](body)
		if err != nil {
			return nil, err
		}
		return f(ctx, p, in)
	}}
}

// operations lists every operation this package serves.
var operations = map[string]Operation{
	"PutEvents": op("put", func(ctx context.Context, p wims.EventPlatform, in struct {
		Entries []struct {
			Time         *epoch   `json:"Time"`
			Source       string   `json:"Source"`
			Resources    []string `json:"Resources"`
			DetailType   string   `json:"DetailType"`
			Detail       string   `json:"Detail"`
			EventBusName string   `json:"EventBusName"`
			TraceHeader  string   `json:"TraceHeader"`
		} `json:"Entries"`
	}) (any, error) {
		if len(in.Entries) == 0 || len(in.Entries) > wims.MaxPutEventsEntries {
			return nil, validation("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", wims.MaxPutEventsEntries)
		}
		entries := make([]wims.PutEventsEntry, len(in.Entries))
		for i, e := range in.Entries {
			entries[i] = wims.PutEventsEntry{Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, Resources: e.Resources,
				Time: e.Time.time(), EventBusName: e.EventBusName, TraceHeader: e.TraceHeader}
		}
		res, err := p.PutEvents(ctx, entries)
		if err != nil {
			return nil, err
		}
		type entry struct {
			EventID      string `json:"EventId,omitempty"`
			ErrorCode    string `json:"ErrorCode,omitempty"`
			ErrorMessage string `json:"ErrorMessage,omitempty"`
		}
		out := struct {
			FailedEntryCount int     `json:"FailedEntryCount"`
			Entries          []entry `json:"Entries"`
		}{Entries: make([]entry, len(res))}
		for i, r := range res {
			out.Entries[i] = entry{r.EventID, r.ErrorCode, r.ErrorMessage}
			if r.ErrorCode != "" {
				out.FailedEntryCount++
			}
		}
		return out, nil
	}),
	"TestEventPattern": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		EventPattern string `json:"EventPattern"`
		Event        string `json:"Event"`
	}) (any, error) {
		if err := required("EventPattern", in.EventPattern); err != nil {
			return nil, err
		}
		if err := required("Event", in.Event); err != nil {
			return nil, err
		}
		ok, err := p.TestEventPattern(ctx, in.EventPattern, in.Event)
		if err != nil {
			return nil, err
		}
		return struct {
			Result bool `json:"Result"`
		}{ok}, nil
	}),

	"CreateEventBus": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		Name            string `json:"Name"`
		Description     string `json:"Description"`
		EventSourceName string `json:"EventSourceName"`
	}) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		if in.EventSourceName != "" {
			return nil, validation("EventSourceName: partner event sources are not supported by wims")
		}
		b, err := p.CreateEventBus(ctx, wims.EventBus{Name: in.Name, Description: in.Description})
		if err != nil {
			return nil, err
		}
		return struct {
			EventBusArn string `json:"EventBusArn"`
			Description string `json:"Description,omitempty"`
		}{b.ARN(), b.Description}, nil
	}),
	"DescribeEventBus": op("read", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		b, err := p.DescribeEventBus(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		return fromBus(b), nil
	}),
	"DeleteEventBus": op("admin", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		err := p.DeleteEventBus(ctx, in.Name)
		if wims.ErrorCode(err) == wims.ENOTFOUND {
			return nil, nil // EventBridge deletes a missing bus without complaint
		}
		return nil, err
	}),
	"ListEventBuses": op("read", func(ctx context.Context, p wims.EventPlatform, in listIn) (any, error) {
		buses, err := p.ListEventBuses(ctx, in.NamePrefix)
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(buses, func(b wims.EventBus) string { return b.Name }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		out := struct {
			EventBuses []eventBusShape `json:"EventBuses"`
			NextToken  string          `json:"NextToken,omitempty"`
		}{EventBuses: []eventBusShape{}, NextToken: next}
		for _, b := range page {
			out.EventBuses = append(out.EventBuses, fromBus(b))
		}
		return out, nil
	}),

	"PutRule": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		Name               string `json:"Name"`
		EventPattern       string `json:"EventPattern"`
		ScheduleExpression string `json:"ScheduleExpression"`
		State              string `json:"State"`
		Description        string `json:"Description"`
		EventBusName       string `json:"EventBusName"`
	}) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		if in.ScheduleExpression != "" {
			return nil, validation("ScheduleExpression: scheduled rules are not supported by wims; give an EventPattern")
		}
		if in.EventPattern == "" {
			return nil, validation("Parameter(s) EventPattern must be specified.")
		}
		r, err := p.PutRule(ctx, wims.Rule{Name: in.Name, EventBusName: in.EventBusName, EventPattern: in.EventPattern,
			State: in.State, Description: in.Description})
		if err != nil {
			return nil, err
		}
		return struct {
			RuleArn string `json:"RuleArn"`
		}{r.ARN()}, nil
	}),
	"DescribeRule": op("read", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		r, err := p.DescribeRule(ctx, in.EventBusName, in.Name)
		if err != nil {
			return nil, err
		}
		return fromRule(r), nil
	}),
	"DeleteRule": op("admin", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		err := p.DeleteRule(ctx, in.EventBusName, in.Name, in.Force)
		if wims.ErrorCode(err) == wims.ENOTFOUND {
			return nil, nil // as on EventBridge: deleting a missing rule succeeds
		}
		if wims.ErrorField(err) == "Force" {
			return nil, awsError{400, "ManagedRuleException", wims.ErrorMessage(err)}
		}
		return nil, err
	}),
	"ListRules": op("read", func(ctx context.Context, p wims.EventPlatform, in listIn) (any, error) {
		rules, err := p.ListRules(ctx, in.EventBusName, in.NamePrefix)
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(rules, func(r wims.Rule) string { return r.Name }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		out := struct {
			Rules     []ruleShape `json:"Rules"`
			NextToken string      `json:"NextToken,omitempty"`
		}{Rules: []ruleShape{}, NextToken: next}
		for _, r := range page {
			out.Rules = append(out.Rules, fromRule(r))
		}
		return out, nil
	}),
	"EnableRule":  setState(wims.RuleEnabled),
	"DisableRule": setState(wims.RuleDisabled),
	"ListRuleNamesByTarget": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		TargetArn    string `json:"TargetArn"`
		EventBusName string `json:"EventBusName"`
		NextToken    string `json:"NextToken"`
		Limit        int    `json:"Limit"`
	}) (any, error) {
		if err := required("TargetArn", in.TargetArn); err != nil {
			return nil, err
		}
		names, err := p.ListRuleNamesByTarget(ctx, in.EventBusName, in.TargetArn)
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(names, func(s string) string { return s }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		return struct {
			RuleNames []string `json:"RuleNames"`
			NextToken string   `json:"NextToken,omitempty"`
		}{append([]string{}, page...), next}, nil
	}),

	"PutTargets": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		Rule         string        `json:"Rule"`
		EventBusName string        `json:"EventBusName"`
		Targets      []targetShape `json:"Targets"`
	}) (any, error) {
		if err := required("Rule", in.Rule); err != nil {
			return nil, err
		}
		targets := make([]wims.Target, len(in.Targets))
		for i, t := range in.Targets {
			targets[i] = toTarget(t)
		}
		failures, err := p.PutTargets(ctx, in.EventBusName, in.Rule, targets)
		if err != nil {
			return nil, err
		}
		return failedEntries(failures), nil
	}),
	"RemoveTargets": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		Rule         string   `json:"Rule"`
		EventBusName string   `json:"EventBusName"`
		IDs          []string `json:"Ids"`
		Force        bool     `json:"Force"`
	}) (any, error) {
		if err := required("Rule", in.Rule); err != nil {
			return nil, err
		}
		failures, err := p.RemoveTargets(ctx, in.EventBusName, in.Rule, in.IDs)
		if err != nil {
			return nil, err
		}
		return failedEntries(failures), nil
	}),
	"ListTargetsByRule": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		Rule         string `json:"Rule"`
		EventBusName string `json:"EventBusName"`
		NextToken    string `json:"NextToken"`
		Limit        int    `json:"Limit"`
	}) (any, error) {
		if err := required("Rule", in.Rule); err != nil {
			return nil, err
		}
		targets, err := p.ListTargetsByRule(ctx, in.EventBusName, in.Rule)
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(targets, func(t wims.Target) string { return t.ID }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		out := struct {
			Targets   []targetShape `json:"Targets"`
			NextToken string        `json:"NextToken,omitempty"`
		}{Targets: []targetShape{}, NextToken: next}
		for _, t := range page {
			out.Targets = append(out.Targets, fromTarget(t))
		}
		return out, nil
	}),

	"CreateConnection": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		Name              string               `json:"Name"`
		Description       string               `json:"Description"`
		AuthorizationType string               `json:"AuthorizationType"`
		AuthParameters    *authParametersShape `json:"AuthParameters"`
	}) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		if err := required("AuthorizationType", in.AuthorizationType); err != nil {
			return nil, err
		}
		c, err := toConnection(in.Name, in.Description, in.AuthorizationType, in.AuthParameters)
		if err != nil {
			return nil, err
		}
		if c, err = p.CreateConnection(ctx, c); err != nil {
			return nil, err
		}
		return fromConnection(c, false), nil
	}),
	"UpdateConnection": op("admin", func(ctx context.Context, p wims.EventPlatform, in struct {
		Name              string               `json:"Name"`
		Description       *string              `json:"Description"`
		AuthorizationType string               `json:"AuthorizationType"`
		AuthParameters    *authParametersShape `json:"AuthParameters"`
	}) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		old, err := p.DescribeConnection(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		desc, authType := old.Description, old.AuthorizationType
		if in.Description != nil {
			desc = *in.Description
		}
		if in.AuthorizationType != "" {
			authType = in.AuthorizationType
		}
		c, err := toConnection(in.Name, desc, authType, in.AuthParameters)
		if err != nil {
			return nil, err
		}
		if in.AuthParameters == nil || (in.AuthParameters.APIKeyAuthParameters == nil && in.AuthParameters.BasicAuthParameters == nil) {
			c.APIKeyName, c.Username = old.APIKeyName, old.Username
		}
		if in.AuthParameters == nil || in.AuthParameters.InvocationHTTPParameters == nil {
			c.InvocationHTTPParameters = old.InvocationHTTPParameters
		}
		if c, err = p.UpdateConnection(ctx, c); err != nil {
			return nil, err
		}
		return fromConnection(c, false), nil
	}),
	"DescribeConnection": op("read", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		c, err := p.DescribeConnection(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		return fromConnection(c, true), nil
	}),
	"DeleteConnection": op("admin", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		c, err := p.DescribeConnection(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		if err := p.DeleteConnection(ctx, in.Name); err != nil {
			return nil, err
		}
		c.State = "DELETING"
		return fromConnection(c, false), nil
	}),
	"ListConnections": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		listIn
		ConnectionState string `json:"ConnectionState"`
	}) (any, error) {
		conns, err := p.ListConnections(ctx, in.NamePrefix)
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(conns, func(c wims.Connection) string { return c.Name }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		out := struct {
			Connections []connectionShape `json:"Connections"`
			NextToken   string            `json:"NextToken,omitempty"`
		}{Connections: []connectionShape{}, NextToken: next}
		for _, c := range page {
			if in.ConnectionState == "" || in.ConnectionState == c.State {
				out.Connections = append(out.Connections, fromConnection(c, false))
			}
		}
		return out, nil
	}),

	"CreateApiDestination": op("admin", func(ctx context.Context, p wims.EventPlatform, in apiDestinationIn) (any, error) {
		for name, v := range map[string]string{"Name": in.Name, "ConnectionArn": in.ConnectionArn, "InvocationEndpoint": in.InvocationEndpoint, "HttpMethod": in.HTTPMethod} {
			if err := required(name, v); err != nil {
				return nil, err
			}
		}
		conn, err := connectionName(in.ConnectionArn)
		if err != nil {
			return nil, err
		}
		d, err := p.CreateAPIDestination(ctx, wims.APIDestination{Name: in.Name, Description: in.Description, ConnectionName: conn,
			InvocationEndpoint: in.InvocationEndpoint, HTTPMethod: in.HTTPMethod, InvocationRateLimitPerSecond: in.InvocationRateLimitPerSecond})
		if err != nil {
			return nil, err
		}
		return fromDestination(d, false), nil
	}),
	"UpdateApiDestination": op("admin", func(ctx context.Context, p wims.EventPlatform, in apiDestinationIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		d, err := p.DescribeAPIDestination(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		if in.Description != "" {
			d.Description = in.Description
		}
		if in.ConnectionArn != "" {
			if d.ConnectionName, err = connectionName(in.ConnectionArn); err != nil {
				return nil, err
			}
		}
		if in.InvocationEndpoint != "" {
			d.InvocationEndpoint = in.InvocationEndpoint
		}
		if in.HTTPMethod != "" {
			d.HTTPMethod = in.HTTPMethod
		}
		if in.InvocationRateLimitPerSecond != 0 {
			d.InvocationRateLimitPerSecond = in.InvocationRateLimitPerSecond
		}
		if d, err = p.UpdateAPIDestination(ctx, d); err != nil {
			return nil, err
		}
		return fromDestination(d, false), nil
	}),
	"DescribeApiDestination": op("read", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		d, err := p.DescribeAPIDestination(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		return fromDestination(d, true), nil
	}),
	"DeleteApiDestination": op("admin", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		return nil, p.DeleteAPIDestination(ctx, in.Name)
	}),
	"ListApiDestinations": op("read", func(ctx context.Context, p wims.EventPlatform, in struct {
		listIn
		ConnectionArn string `json:"ConnectionArn"`
	}) (any, error) {
		conn, err := connectionName(in.ConnectionArn)
		if err != nil {
			return nil, err
		}
		dests, err := p.ListAPIDestinations(ctx, in.NamePrefix)
		if err != nil {
			return nil, err
		}
		var kept []wims.APIDestination
		for _, d := range dests {
			if conn == "" || d.ConnectionName == conn {
				kept = append(kept, d)
			}
		}
		page, next, err := pageOf(kept, func(d wims.APIDestination) string { return d.Name }, in.NextToken, in.Limit)
		if err != nil {
			return nil, err
		}
		out := struct {
			ApiDestinations []apiDestinationShape `json:"ApiDestinations"`
			NextToken       string                `json:"NextToken,omitempty"`
		}{ApiDestinations: []apiDestinationShape{}, NextToken: next}
		for _, d := range page {
			out.ApiDestinations = append(out.ApiDestinations, fromDestination(d, true))
		}
		return out, nil
	}),
}

type apiDestinationIn struct {
	Name                         string `json:"Name"`
	Description                  string `json:"Description"`
	ConnectionArn                string `json:"ConnectionArn"`
	InvocationEndpoint           string `json:"InvocationEndpoint"`
	HTTPMethod                   string `json:"HttpMethod"`
	InvocationRateLimitPerSecond int    `json:"InvocationRateLimitPerSecond"`
}

func setState(state string) Operation {
	return op("admin", func(ctx context.Context, p wims.EventPlatform, in nameIn) (any, error) {
		if err := required("Name", in.Name); err != nil {
			return nil, err
		}
		return nil, p.SetRuleState(ctx, in.EventBusName, in.Name, state)
	})
}

type failedEntry struct {
	TargetID     string `json:"TargetId"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func failedEntries(fs []wims.TargetFailure) any {
	out := struct {
		FailedEntryCount int           `json:"FailedEntryCount"`
		FailedEntries    []failedEntry `json:"FailedEntries"`
	}{FailedEntryCount: len(fs), FailedEntries: []failedEntry{}}
	for _, f := range fs {
		out.FailedEntries = append(out.FailedEntries, failedEntry{f.TargetID, f.ErrorCode, f.ErrorMessage})
	}
	return out
}
