package wims

import (
	"context"
	"time"
)

// PutEventsEntry is one event given to PutEvents.
type PutEventsEntry struct {
	Source       string    `json:"source"`
	DetailType   string    `json:"detailType"`
	Detail       string    `json:"detail"`
	Resources    []string  `json:"resources,omitempty"`
	Time         time.Time `json:"time,omitzero"` // zero: now
	EventBusName string    `json:"eventBusName,omitempty"`
	TraceHeader  string    `json:"traceHeader,omitempty"`
}

// PutEventsResult is the outcome of one entry: its event id, or an
// EventBridge error code and message.
type PutEventsResult struct {
	EventID      string `json:"eventId,omitempty"`
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// TargetFailure is a target that PutTargets or RemoveTargets could not
// apply, with an EventBridge error code.
type TargetFailure struct {
	TargetID     string `json:"targetId"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// EventPlatform is the local EventBridge (DESIGN §8): what the REST API, the
// CLI and the EventBridge wire API drive. Names of buses may be given as
// ARNs. Errors carry wims codes: EINVALID (field "EventPattern" for a
// pattern the compiler rejects), ENOTFOUND, ECONFLICT (already exists, or
// still in use), ELIMIT.
type EventPlatform interface {
	CreateEventBus(ctx context.Context, b EventBus) (EventBus, error)
	DescribeEventBus(ctx context.Context, name string) (EventBus, error)
	// UpdateEventBus replaces a bus's description and schema validation.
	UpdateEventBus(ctx context.Context, b EventBus) (EventBus, error)
	// DeleteEventBus refuses the default bus and a bus that still has rules.
	DeleteEventBus(ctx context.Context, name string) error
	ListEventBuses(ctx context.Context, namePrefix string) ([]EventBus, error)

	// PutRule creates a rule or replaces an existing one (keeping its targets).
	PutRule(ctx context.Context, r Rule) (Rule, error)
	DescribeRule(ctx context.Context, bus, name string) (Rule, error)
	// DeleteRule refuses a rule with targets unless force is set, and a rule
	// managed by wims unless force is set.
	DeleteRule(ctx context.Context, bus, name string, force bool) error
	ListRules(ctx context.Context, bus, namePrefix string) ([]Rule, error)
	// SetRuleState enables (RuleEnabled) or disables (RuleDisabled) a rule.
	SetRuleState(ctx context.Context, bus, name, state string) error
	// ListRuleNamesByTarget lists the rules on bus that have a target with arn.
	ListRuleNamesByTarget(ctx context.Context, bus, arn string) ([]string, error)

	// PutTargets adds or replaces targets of a rule; each target succeeds or
	// fails on its own. A rule may have at most MaxTargetsPerRule targets.
	PutTargets(ctx context.Context, bus, rule string, targets []Target) ([]TargetFailure, error)
	RemoveTargets(ctx context.Context, bus, rule string, ids []string) ([]TargetFailure, error)
	ListTargetsByRule(ctx context.Context, bus, rule string) ([]Target, error)

	// CreateConnection stores a connection; its Secret is encrypted and never
	// returned (Connection.Secret is empty in every result).
	CreateConnection(ctx context.Context, c Connection) (Connection, error)
	// UpdateConnection replaces a connection's fields; an empty Secret keeps
	// the stored one.
	UpdateConnection(ctx context.Context, c Connection) (Connection, error)
	DescribeConnection(ctx context.Context, name string) (Connection, error)
	// DeleteConnection refuses a connection some API destination uses.
	DeleteConnection(ctx context.Context, name string) error
	ListConnections(ctx context.Context, namePrefix string) ([]Connection, error)

	CreateAPIDestination(ctx context.Context, d APIDestination) (APIDestination, error)
	UpdateAPIDestination(ctx context.Context, d APIDestination) (APIDestination, error)
	DescribeAPIDestination(ctx context.Context, name string) (APIDestination, error)
	DeleteAPIDestination(ctx context.Context, name string) error
	ListAPIDestinations(ctx context.Context, namePrefix string) ([]APIDestination, error)

	// PutEvents stores each valid entry durably on its bus before returning;
	// entries fail on their own (results in the same order). It fails as a
	// whole (EINVALID, ETOOLARGE) for more than MaxPutEventsEntries entries
	// or more than MaxPutEventsBytes as EventBridge counts them, or, where
	// claim checks are on, more than MaxClaimCheckBytes: then the largest
	// details are stored as EventPayloads and their events carry references
	// until the request fits in MaxPutEventsBytes.
	PutEvents(ctx context.Context, entries []PutEventsEntry) ([]PutEventsResult, error)
	// TestEventPattern reports whether event matches pattern, as
	// `aws events test-event-pattern` does.
	TestEventPattern(ctx context.Context, pattern, event string) (bool, error)

	ArchivePlatform
}
