package eventbridge

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/wims/wims"
)

// epoch is a timestamp as the JSON 1.1 protocol sends it: seconds since
// the Unix epoch, fractional.
type epoch float64

func toEpoch(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(float64(t.UnixNano()) / 1e9)
	return &e
}

func (e *epoch) time() time.Time {
	if e == nil {
		return time.Time{}
	}
	sec, frac := math.Modf(float64(*e))
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// AWS shapes, member names exactly as the service model spells them.

type eventBusShape struct {
	Name             string `json:"Name"`
	Arn              string `json:"Arn"`
	Description      string `json:"Description,omitempty"`
	CreationTime     *epoch `json:"CreationTime,omitempty"`
	LastModifiedTime *epoch `json:"LastModifiedTime,omitempty"`
}

func fromBus(b wims.EventBus) eventBusShape {
	return eventBusShape{Name: b.Name, Arn: b.ARN(), Description: b.Description,
		CreationTime: toEpoch(b.CreatedAt), LastModifiedTime: toEpoch(b.UpdatedAt)}
}

type ruleShape struct {
	Name         string `json:"Name"`
	Arn          string `json:"Arn"`
	EventPattern string `json:"EventPattern,omitempty"`
	State        string `json:"State"`
	Description  string `json:"Description,omitempty"`
	ManagedBy    string `json:"ManagedBy,omitempty"`
	EventBusName string `json:"EventBusName"`
	CreatedBy    string `json:"CreatedBy,omitempty"`
}

func fromRule(r wims.Rule) ruleShape {
	return ruleShape{Name: r.Name, Arn: r.ARN(), EventPattern: r.EventPattern, State: r.State,
		Description: r.Description, ManagedBy: r.ManagedBy, EventBusName: r.EventBusName, CreatedBy: wims.EventAccount}
}

type inputTransformerShape struct {
	InputPathsMap map[string]string `json:"InputPathsMap,omitempty"`
	InputTemplate string            `json:"InputTemplate"`
}

type retryPolicyShape struct {
	MaximumRetryAttempts     *int `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int `json:"MaximumEventAgeInSeconds,omitempty"`
}

type deadLetterShape struct {
	Arn string `json:"Arn,omitempty"`
}

type httpParametersShape struct {
	PathParameterValues   []string          `json:"PathParameterValues,omitempty"`
	HeaderParameters      map[string]string `json:"HeaderParameters,omitempty"`
	QueryStringParameters map[string]string `json:"QueryStringParameters,omitempty"`
}

type targetShape struct {
	ID               string                 `json:"Id"`
	Arn              string                 `json:"Arn"`
	RoleArn          string                 `json:"RoleArn,omitempty"`
	Input            string                 `json:"Input,omitempty"`
	InputPath        string                 `json:"InputPath,omitempty"`
	InputTransformer *inputTransformerShape `json:"InputTransformer,omitempty"`
	RetryPolicy      *retryPolicyShape      `json:"RetryPolicy,omitempty"`
	DeadLetterConfig *deadLetterShape       `json:"DeadLetterConfig,omitempty"`
	HTTPParameters   *httpParametersShape   `json:"HttpParameters,omitempty"`
}

func toTarget(t targetShape) wims.Target {
	out := wims.Target{ID: t.ID, Arn: t.Arn, Input: t.Input, InputPath: t.InputPath}
	if it := t.InputTransformer; it != nil {
		out.InputTransformer = &wims.InputTransformer{InputPathsMap: it.InputPathsMap, InputTemplate: it.InputTemplate}
	}
	if p := t.RetryPolicy; p != nil {
		out.RetryPolicy = &wims.RetryPolicy{MaximumRetryAttempts: p.MaximumRetryAttempts, MaximumEventAgeInSeconds: p.MaximumEventAgeInSeconds}
	}
	if d := t.DeadLetterConfig; d != nil {
		out.DeadLetterConfig = &wims.DeadLetterConfig{Arn: d.Arn}
	}
	if h := t.HTTPParameters; h != nil {
		out.HTTPParameters = &wims.HTTPParameters{PathParameterValues: h.PathParameterValues,
			HeaderParameters: h.HeaderParameters, QueryStringParameters: h.QueryStringParameters}
	}
	return out
}

func fromTarget(t wims.Target) targetShape {
	out := targetShape{ID: t.ID, Arn: t.Arn, Input: t.Input, InputPath: t.InputPath}
	if it := t.InputTransformer; it != nil {
		out.InputTransformer = &inputTransformerShape{InputPathsMap: it.InputPathsMap, InputTemplate: it.InputTemplate}
	}
	if p := t.RetryPolicy; p != nil {
		out.RetryPolicy = &retryPolicyShape{MaximumRetryAttempts: p.MaximumRetryAttempts, MaximumEventAgeInSeconds: p.MaximumEventAgeInSeconds}
	}
	if d := t.DeadLetterConfig; d != nil {
		out.DeadLetterConfig = &deadLetterShape{Arn: d.Arn}
	}
	if h := t.HTTPParameters; h != nil {
		out.HTTPParameters = &httpParametersShape{PathParameterValues: h.PathParameterValues,
			HeaderParameters: h.HeaderParameters, QueryStringParameters: h.QueryStringParameters}
	}
	return out
}

// Connections: AuthParameters carry secrets in requests only.

type keyValueShape struct {
	Key           string `json:"Key"`
	Value         string `json:"Value,omitempty"`
	IsValueSecret bool   `json:"IsValueSecret,omitempty"`
}

type connectionHTTPParametersShape struct {
	HeaderParameters      []keyValueShape `json:"HeaderParameters,omitempty"`
	QueryStringParameters []keyValueShape `json:"QueryStringParameters,omitempty"`
	BodyParameters        []keyValueShape `json:"BodyParameters,omitempty"`
}

type authParametersShape struct {
	APIKeyAuthParameters *struct {
		APIKeyName  string `json:"ApiKeyName"`
		APIKeyValue string `json:"ApiKeyValue,omitempty"`
	} `json:"ApiKeyAuthParameters,omitempty"`
	BasicAuthParameters *struct {
		Username string `json:"Username"`
		Password string `json:"Password,omitempty"`
	} `json:"BasicAuthParameters,omitempty"`
	OAuthParameters          json.RawMessage                `json:"OAuthParameters,omitempty"`
	InvocationHTTPParameters *connectionHTTPParametersShape `json:"InvocationHttpParameters,omitempty"`
}

func toParams(p *connectionHTTPParametersShape) (*wims.HTTPParameters, error) {
	if p == nil {
		return nil, nil
	}
	if len(p.BodyParameters) > 0 {
		return nil, validation("InvocationHttpParameters.BodyParameters are not supported by wims")
	}
	out := &wims.HTTPParameters{}
	for _, kv := range p.HeaderParameters {
		if out.HeaderParameters == nil {
			out.HeaderParameters = map[string]string{}
		}
		out.HeaderParameters[kv.Key] = kv.Value
	}
	for _, kv := range p.QueryStringParameters {
		if out.QueryStringParameters == nil {
			out.QueryStringParameters = map[string]string{}
		}
		out.QueryStringParameters[kv.Key] = kv.Value
	}
	return out, nil
}

// fromParams shows a connection's parameters; values are withheld, as
// EventBridge withholds secret ones (wims cannot tell which were secret).
func fromParams(p *wims.HTTPParameters) *connectionHTTPParametersShape {
	if p == nil {
		return nil
	}
	out := &connectionHTTPParametersShape{}
	for k := range p.HeaderParameters {
		out.HeaderParameters = append(out.HeaderParameters, keyValueShape{Key: k, IsValueSecret: true})
	}
	for k := range p.QueryStringParameters {
		out.QueryStringParameters = append(out.QueryStringParameters, keyValueShape{Key: k, IsValueSecret: true})
	}
	return out
}

// toConnection reads a Create/UpdateConnection request. wims accepts
// AuthorizationType NONE besides AWS's BASIC and API_KEY.
func toConnection(name, description, authType string, p *authParametersShape) (wims.Connection, error) {
	c := wims.Connection{Name: name, Description: description, AuthorizationType: authType}
	if authType == "OAUTH_CLIENT_CREDENTIALS" {
		return c, validation("AuthorizationType OAUTH_CLIENT_CREDENTIALS is not supported by wims: use API_KEY, BASIC or NONE")
	}
	if p == nil {
		return c, nil
	}
	if k := p.APIKeyAuthParameters; k != nil {
		c.APIKeyName, c.Secret = k.APIKeyName, k.APIKeyValue
	}
	if b := p.BasicAuthParameters; b != nil {
		c.Username, c.Secret = b.Username, b.Password
	}
	params, err := toParams(p.InvocationHTTPParameters)
	if err != nil {
		return c, err
	}
	c.InvocationHTTPParameters = params
	return c, nil
}

type connectionShape struct {
	ConnectionArn      string               `json:"ConnectionArn"`
	Name               string               `json:"Name,omitempty"`
	Description        string               `json:"Description,omitempty"`
	ConnectionState    string               `json:"ConnectionState"`
	AuthorizationType  string               `json:"AuthorizationType,omitempty"`
	AuthParameters     *authParametersShape `json:"AuthParameters,omitempty"`
	CreationTime       *epoch               `json:"CreationTime,omitempty"`
	LastModifiedTime   *epoch               `json:"LastModifiedTime,omitempty"`
	LastAuthorizedTime *epoch               `json:"LastAuthorizedTime,omitempty"`
}

func fromConnection(c wims.Connection, withAuth bool) connectionShape {
	out := connectionShape{ConnectionArn: c.ARN(), Name: c.Name, Description: c.Description, ConnectionState: c.State,
		AuthorizationType: c.AuthorizationType, CreationTime: toEpoch(c.CreatedAt), LastModifiedTime: toEpoch(c.UpdatedAt),
		LastAuthorizedTime: toEpoch(c.UpdatedAt)}
	if withAuth {
		p := &authParametersShape{InvocationHTTPParameters: fromParams(c.InvocationHTTPParameters)}
		switch c.AuthorizationType {
		case wims.AuthAPIKey:
			p.APIKeyAuthParameters = &struct {
				APIKeyName  string `json:"ApiKeyName"`
				APIKeyValue string `json:"ApiKeyValue,omitempty"`
			}{APIKeyName: c.APIKeyName}
		case wims.AuthBasic:
			p.BasicAuthParameters = &struct {
				Username string `json:"Username"`
				Password string `json:"Password,omitempty"`
			}{Username: c.Username}
		}
		out.AuthParameters = p
	}
	return out
}

type apiDestinationShape struct {
	ApiDestinationArn            string `json:"ApiDestinationArn"`
	Name                         string `json:"Name,omitempty"`
	Description                  string `json:"Description,omitempty"`
	ApiDestinationState          string `json:"ApiDestinationState"`
	ConnectionArn                string `json:"ConnectionArn,omitempty"`
	InvocationEndpoint           string `json:"InvocationEndpoint,omitempty"`
	HTTPMethod                   string `json:"HttpMethod,omitempty"`
	InvocationRateLimitPerSecond int    `json:"InvocationRateLimitPerSecond,omitempty"`
	CreationTime                 *epoch `json:"CreationTime,omitempty"`
	LastModifiedTime             *epoch `json:"LastModifiedTime,omitempty"`
}

func fromDestination(d wims.APIDestination, full bool) apiDestinationShape {
	out := apiDestinationShape{ApiDestinationArn: d.ARN(), ApiDestinationState: d.State,
		CreationTime: toEpoch(d.CreatedAt), LastModifiedTime: toEpoch(d.UpdatedAt)}
	if full {
		out.Name, out.Description, out.ConnectionArn = d.Name, d.Description, wims.ConnectionARN(d.ConnectionName)
		out.InvocationEndpoint, out.HTTPMethod, out.InvocationRateLimitPerSecond = d.InvocationEndpoint, d.HTTPMethod, d.InvocationRateLimitPerSecond
	}
	return out
}

// connectionName reads a ConnectionArn (or a bare name).
func connectionName(arn string) (string, error) {
	if arn == "" {
		return "", nil
	}
	const marker = ":connection/"
	if i := strings.Index(arn, marker); i >= 0 && strings.HasPrefix(arn, wims.ARNPrefix) {
		name, _, _ := strings.Cut(arn[i+len(marker):], "/")
		return name, nil
	}
	if wims.ValidName(arn) {
		return arn, nil
	}
	return "", validation("ConnectionArn %q is not a connection ARN", arn)
}
