package wims

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// EventBus is a bus that rules listen on. The default bus always exists and
// carries the change events; custom buses carry what PutEvents puts there.
type EventBus struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// SchemaValidation, if set, makes PutEvents reject entries that do not
	// validate against the bus's registry (a wims extension).
	SchemaValidation *SchemaValidation `json:"schemaValidation,omitempty"`
	CreatedAt        time.Time         `json:"createdAt"`
	UpdatedAt        time.Time         `json:"updatedAt"`
}

// ARN is the bus's ARN.
func (b EventBus) ARN() string { return BusARN(b.Name) }

// Validate checks the bus's fields.
func (b EventBus) Validate() error {
	if !ValidBusName(b.Name) {
		return FieldError("Name", "must be 1-256 letters, digits, '/', '.', '-' or '_'")
	}
	if len(b.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	if b.SchemaValidation != nil {
		return b.SchemaValidation.Validate()
	}
	return nil
}

// Rule states.
const (
	RuleEnabled  = "ENABLED"
	RuleDisabled = "DISABLED"
)

// Rule routes events on a bus matching its pattern to its targets.
type Rule struct {
	Name         string `json:"name"`
	EventBusName string `json:"eventBusName"`
	EventPattern string `json:"eventPattern"`
	State        string `json:"state"`
	Description  string `json:"description,omitempty"`
	// ManagedBy is "wims" for the built-in rules and those of --config, which
	// are reconciled into the store on every start.
	ManagedBy string    `json:"managedBy,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ManagedByWims marks rules wims writes itself (built-ins and --config).
const ManagedByWims = "wims"

// ARN is the rule's ARN.
func (r Rule) ARN() string { return RuleARN(r.EventBusName, r.Name) }

// Enabled reports whether the rule routes events.
func (r Rule) Enabled() bool { return r.State != RuleDisabled }

// Validate checks the rule's fields except the pattern, which the pattern
// compiler checks (an invalid one is InvalidEventPatternException on AWS).
func (r Rule) Validate() error {
	if !ValidName(r.Name) {
		return FieldError("Name", "must be 1-64 letters, digits, '.', '-' or '_'")
	}
	if !ValidBusName(r.EventBusName) {
		return FieldError("EventBusName", "must be 1-256 letters, digits, '/', '.', '-' or '_'")
	}
	if r.EventPattern == "" {
		return FieldError("EventPattern", "is required (wims has no scheduled rules)")
	}
	if len(r.EventPattern) > MaxEventPatternLength {
		return FieldError("EventPattern", "must be at most %d characters", MaxEventPatternLength)
	}
	if r.State != RuleEnabled && r.State != RuleDisabled {
		return FieldError("State", "must be ENABLED or DISABLED, got %q", r.State)
	}
	if len(r.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	return nil
}

// InputTransformer renders a custom input from values picked out of the event.
type InputTransformer struct {
	InputPathsMap map[string]string `json:"inputPathsMap,omitempty"`
	InputTemplate string            `json:"inputTemplate"`
}

// RetryPolicy bounds the retries of a failing delivery. Zero values mean the
// AWS defaults (185 attempts, 24 h).
type RetryPolicy struct {
	MaximumRetryAttempts     *int `json:"maximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int `json:"maximumEventAgeInSeconds,omitempty"`
}

// Attempts is the number of retries allowed after the first attempt.
func (p *RetryPolicy) Attempts() int {
	if p == nil || p.MaximumRetryAttempts == nil {
		return MaxRetryAttempts
	}
	return *p.MaximumRetryAttempts
}

// MaxAge is how old an event may get before its delivery is given up.
func (p *RetryPolicy) MaxAge() time.Duration {
	if p == nil || p.MaximumEventAgeInSeconds == nil {
		return MaxEventAgeSeconds * time.Second
	}
	return time.Duration(*p.MaximumEventAgeInSeconds) * time.Second
}

// DeadLetterConfig names where a delivery that ran out of retries goes. wims
// keeps every such delivery in its dead-letter stream either way; the ARN (an
// SQS queue on AWS) labels it so it can be listed and redriven by queue.
type DeadLetterConfig struct {
	Arn string `json:"arn,omitempty"`
}

// HTTPParameters add headers and query parameters to API destination calls.
type HTTPParameters struct {
	HeaderParameters      map[string]string `json:"headerParameters,omitempty"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameterValues   []string          `json:"pathParameterValues,omitempty"`
}

// Target is where a rule sends matching events, and in what shape: the
// whole event, a constant Input, the part at InputPath, or an
// InputTransformer's rendering (at most one of the three).
type Target struct {
	// Rule and EventBusName say which rule the target belongs to.
	Rule             string            `json:"rule"`
	EventBusName     string            `json:"eventBusName"`
	ID               string            `json:"id"`
	Arn              string            `json:"arn"`
	Input            string            `json:"input,omitempty"`
	InputPath        string            `json:"inputPath,omitempty"`
	InputTransformer *InputTransformer `json:"inputTransformer,omitempty"`
	RetryPolicy      *RetryPolicy      `json:"retryPolicy,omitempty"`
	DeadLetterConfig *DeadLetterConfig `json:"deadLetterConfig,omitempty"`
	HTTPParameters   *HTTPParameters   `json:"httpParameters,omitempty"`
}

// Validate checks the target's own fields; the input transformer's template
// and paths are checked where they are compiled.
func (t Target) Validate() error {
	if !ValidName(t.ID) {
		return FieldError("Id", "must be 1-64 letters, digits, '.', '-' or '_'")
	}
	if _, _, err := ParseTargetARN(t.Arn); err != nil {
		return err
	}
	n := 0
	if t.Input != "" {
		n++
		if !json.Valid([]byte(t.Input)) {
			return FieldError("Input", "must be valid JSON text")
		}
		if len(t.Input) > MaxInputLength {
			return FieldError("Input", "must be at most %d characters", MaxInputLength)
		}
	}
	if t.InputPath != "" {
		n++
		if len(t.InputPath) > MaxInputPathLength {
			return FieldError("InputPath", "must be at most %d characters", MaxInputPathLength)
		}
	}
	if t.InputTransformer != nil {
		n++
		it := t.InputTransformer
		if it.InputTemplate == "" || len(it.InputTemplate) > MaxInputLength {
			return FieldError("InputTransformer.InputTemplate", "must be 1-%d characters", MaxInputLength)
		}
		if len(it.InputPathsMap) > MaxInputPathsMapItems {
			return FieldError("InputTransformer.InputPathsMap", "may have at most %d entries", MaxInputPathsMapItems)
		}
		for k := range it.InputPathsMap {
			if !pathKeyPattern.MatchString(k) {
				return FieldError("InputTransformer.InputPathsMap", "key %q must be letters, digits, '_' or '-'", k)
			}
		}
	}
	if n > 1 {
		return FieldError("Input", "only one of Input, InputPath and InputTransformer may be given")
	}
	if p := t.RetryPolicy; p != nil {
		if a := p.MaximumRetryAttempts; a != nil && (*a < 0 || *a > MaxRetryAttempts) {
			return FieldError("RetryPolicy.MaximumRetryAttempts", "must be between 0 and %d", MaxRetryAttempts)
		}
		if a := p.MaximumEventAgeInSeconds; a != nil && (*a < MinEventAgeSeconds || *a > MaxEventAgeSeconds) {
			return FieldError("RetryPolicy.MaximumEventAgeInSeconds", "must be between %d and %d", MinEventAgeSeconds, MaxEventAgeSeconds)
		}
	}
	if d := t.DeadLetterConfig; d != nil && d.Arn != "" && !validARN(d.Arn) {
		return FieldError("DeadLetterConfig.Arn", "%q is not an ARN", d.Arn)
	}
	return nil
}

func validARN(s string) bool {
	return len(s) <= 1600 && len(s) > len(ARNPrefix) && s[:len(ARNPrefix)] == ARNPrefix
}

// Connection authorization types.
const (
	AuthAPIKey = "API_KEY"
	AuthBasic  = "BASIC"
	AuthNone   = "NONE"
)

// Connection holds how API destinations authenticate. Its secrets (the API
// key's value, the password) are write-only: they are stored encrypted apart
// from the connection's document, never returned, logged or put in an event.
type Connection struct {
	Name              string `json:"name"`
	Description       string `json:"description,omitempty"`
	AuthorizationType string `json:"authorizationType"`
	// APIKeyName is the header that carries the API key (API_KEY).
	APIKeyName string `json:"apiKeyName,omitempty"`
	// Username is the basic-auth user (BASIC).
	Username string `json:"username,omitempty"`
	// InvocationHTTPParameters are added to every call through the connection.
	InvocationHTTPParameters *HTTPParameters `json:"invocationHttpParameters,omitempty"`
	State                    string          `json:"state"`
	CreatedAt                time.Time       `json:"createdAt"`
	UpdatedAt                time.Time       `json:"updatedAt"`
	// Secret is the API key value or the password. It never leaves the
	// process in clear: `json:"-"` keeps it out of images and responses.
	Secret string `json:"-"`
}

// ConnectionAuthorized is the state of a usable connection.
const ConnectionAuthorized = "AUTHORIZED"

// ARN is the connection's ARN.
func (c Connection) ARN() string { return ConnectionARN(c.Name) }

// Validate checks the connection's fields, including that the secret its
// authorization type needs is present.
func (c Connection) Validate() error {
	if !ValidName(c.Name) {
		return FieldError("Name", "must be 1-64 letters, digits, '.', '-' or '_'")
	}
	if len(c.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	switch c.AuthorizationType {
	case AuthAPIKey:
		if c.APIKeyName == "" || len(c.APIKeyName) > 512 {
			return FieldError("AuthParameters.ApiKeyAuthParameters.ApiKeyName", "is required (1-512 characters)")
		}
		if c.Secret == "" || len(c.Secret) > 512 {
			return FieldError("AuthParameters.ApiKeyAuthParameters.ApiKeyValue", "is required (1-512 characters)")
		}
	case AuthBasic:
		if c.Username == "" || len(c.Username) > 512 {
			return FieldError("AuthParameters.BasicAuthParameters.Username", "is required (1-512 characters)")
		}
		if c.Secret == "" || len(c.Secret) > 512 {
			return FieldError("AuthParameters.BasicAuthParameters.Password", "is required (1-512 characters)")
		}
	case AuthNone:
	default:
		return FieldError("AuthorizationType", "must be API_KEY, BASIC or NONE, got %q", c.AuthorizationType)
	}
	return nil
}

// API destination states.
const (
	APIDestinationActive   = "ACTIVE"
	APIDestinationInactive = "INACTIVE"
)

// APIDestination is an HTTP endpoint events are sent to, through a
// connection, at most InvocationRateLimitPerSecond calls per second across
// every wims instance.
type APIDestination struct {
	Name                         string    `json:"name"`
	Description                  string    `json:"description,omitempty"`
	ConnectionName               string    `json:"connectionName"`
	InvocationEndpoint           string    `json:"invocationEndpoint"`
	HTTPMethod                   string    `json:"httpMethod"`
	InvocationRateLimitPerSecond int       `json:"invocationRateLimitPerSecond"`
	State                        string    `json:"state"`
	CreatedAt                    time.Time `json:"createdAt"`
	UpdatedAt                    time.Time `json:"updatedAt"`
}

// DefaultInvocationRate is AWS's default InvocationRateLimitPerSecond.
const DefaultInvocationRate = 300

// ARN is the API destination's ARN.
func (d APIDestination) ARN() string { return APIDestinationARN(d.Name) }

// Validate checks the API destination's fields.
func (d APIDestination) Validate() error {
	if !ValidName(d.Name) {
		return FieldError("Name", "must be 1-64 letters, digits, '.', '-' or '_'")
	}
	if len(d.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	if !ValidName(d.ConnectionName) {
		return FieldError("ConnectionArn", "must name a connection")
	}
	u, err := url.Parse(d.InvocationEndpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(d.InvocationEndpoint) > 2048 {
		return FieldError("InvocationEndpoint", "must be an absolute http(s) URL of at most 2048 characters")
	}
	switch d.HTTPMethod {
	case "POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE":
	default:
		return FieldError("HttpMethod", "must be POST, GET, HEAD, OPTIONS, PUT, PATCH or DELETE, got %q", d.HTTPMethod)
	}
	if d.InvocationRateLimitPerSecond < 1 {
		return FieldError("InvocationRateLimitPerSecond", "must be at least 1")
	}
	return nil
}

// ResourceKind names a kind of platform resource. It is also the table name
// of its changes in the change log, so rules can match resource changes.
type ResourceKind string

// Resource kinds.
const (
	KindEventBus       ResourceKind = "event_buses"
	KindRule           ResourceKind = "rules"
	KindTarget         ResourceKind = "targets"
	KindConnection     ResourceKind = "connections"
	KindAPIDestination ResourceKind = "api_destinations"
)

// KeySeparator joins the parts of a scoped resource name. Rules and targets
// are scoped by bus (and rule); no bus, rule or target name may contain '|',
// so "bus|" lists exactly one bus's rules and "bus|rule|" one rule's targets.
const KeySeparator = "|"

// RuleKey is the resource name of a rule.
func RuleKey(bus, rule string) string { return bus + KeySeparator + rule }

// TargetKey is the resource name of a rule's target.
func TargetKey(bus, rule, id string) string { return bus + KeySeparator + rule + KeySeparator + id }

// Resource is one stored platform resource: a JSON document (the
// domain type's JSON, which is also its change image) under (Kind, Name),
// and an optional encrypted secret that never appears in images.
type Resource struct {
	Kind      ResourceKind
	Name      string
	Doc       json.RawMessage
	Secret    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ResourceOp is what a ResourceWrite does.
type ResourceOp int

// Resource operations.
const (
	// ResourceCreate fails with ECONFLICT if the resource exists.
	ResourceCreate ResourceOp = iota + 1
	// ResourceUpdate fails with ENOTFOUND if the resource does not exist.
	ResourceUpdate
	// ResourceUpsert creates or replaces.
	ResourceUpsert
	// ResourceDelete fails with ENOTFOUND if the resource does not exist.
	ResourceDelete
)

// ResourceWrite is one write of ApplyResources.
type ResourceWrite struct {
	Op       ResourceOp
	Resource Resource // Kind and Name always; Doc and Secret unless deleting
}

// ResourceStore keeps the platform's resources. Every write appends a
// change (table = kind, key {"name"}, images = the documents) and bumps the
// generation in the same transaction, so running instances notice it.
type ResourceStore interface {
	// ApplyResources runs the writes in order in one transaction: all or
	// none. It returns each resource as written (for a delete, as it was),
	// stamped with the store's clock (CreatedAt kept on update).
	ApplyResources(ctx context.Context, writes []ResourceWrite) ([]Resource, error)
	// GetResource returns ENOTFOUND when there is no such resource.
	GetResource(ctx context.Context, kind ResourceKind, name string) (Resource, error)
	// ListResources returns the resources of a kind whose names start with
	// prefix, ordered by name.
	ListResources(ctx context.Context, kind ResourceKind, prefix string) ([]Resource, error)
	// ResourceGeneration increases with every committed resource write.
	ResourceGeneration(ctx context.Context) (int64, error)
}

// String names a resource for messages.
func (r Resource) String() string { return fmt.Sprintf("%s %q", r.Kind, r.Name) }
