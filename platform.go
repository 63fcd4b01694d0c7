package wims

import (
	"regexp"
	"strings"
)

// The event platform (DESIGN §8) is a local EventBridge: event buses, rules
// with event patterns, targets, connections and API destinations, persisted
// as Resources in the store and driven through the REST API, the CLI and the
// EventBridge wire API. This file holds the names, ARNs and limits they share.

// ARN parts: partition aws, region local, account 000000000000, as in the
// envelopes of every event wims produces.
const (
	ARNPartition = "aws"
	ARNPrefix    = "arn:" + ARNPartition + ":"
	// DefaultBus always exists; it carries the change events.
	DefaultBus = "default"
	// OrderWorkflowARN is the order workflow as a rule target.
	OrderWorkflowARN = ARNPrefix + "states:" + EventRegion + ":" + EventAccount + ":stateMachine:order-workflow"
	// NotificationsARN is the stock-level notifier (log, webhooks) as a rule target.
	NotificationsARN = ARNPrefix + "sns:" + EventRegion + ":" + EventAccount + ":wims-notifications"
	// EventLogGroup is the log group of the built-in "everything" rule, the
	// one GET /events reads by default.
	EventLogGroup = "wims-events"
)

// Limits from AWS's service model (events 2015-10-07).
const (
	MaxPutEventsEntries   = 10
	MaxPutEventsBytes     = 256 * 1024
	MaxTargetsPerRule     = 5
	MaxEventPatternLength = 4096
	MaxInputLength        = 8192
	MaxInputPathLength    = 256
	MaxDescriptionLength  = 512
	MaxRetryAttempts      = 185
	MinEventAgeSeconds    = 60
	MaxEventAgeSeconds    = 86400
	MaxInputPathsMapItems = 100
)

// Name patterns from AWS's service model.
var (
	busNamePattern  = regexp.MustCompile(`^[/.\-_A-Za-z0-9]{1,256}$`)
	namePattern     = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)
	pathKeyPattern  = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,256}$`)
	arnPrefixEvents = ARNPrefix + "events:" + EventRegion + ":" + EventAccount + ":"
)

// ValidBusName reports whether name is a valid event bus name.
func ValidBusName(name string) bool { return busNamePattern.MatchString(name) }

// ValidName reports whether name is a valid rule, target, connection or API
// destination name (1–64 of letters, digits, '.', '-', '_').
func ValidName(name string) bool { return namePattern.MatchString(name) }

// BusARN is the ARN of an event bus.
func BusARN(name string) string { return arnPrefixEvents + "event-bus/" + name }

// RuleARN is the ARN of a rule; rules on the default bus omit the bus, as on AWS.
func RuleARN(bus, name string) string {
	if bus == DefaultBus || bus == "" {
		return arnPrefixEvents + "rule/" + name
	}
	return arnPrefixEvents + "rule/" + bus + "/" + name
}

// ConnectionARN is the ARN of a connection.
func ConnectionARN(name string) string { return arnPrefixEvents + "connection/" + name }

// APIDestinationARN is the ARN of an API destination.
func APIDestinationARN(name string) string { return arnPrefixEvents + "api-destination/" + name }

// LogGroupARN is the ARN of an event log (a CloudWatch log group on AWS).
func LogGroupARN(name string) string {
	return ARNPrefix + "logs:" + EventRegion + ":" + EventAccount + ":log-group:" + name
}

// BusNameFromARN accepts a bus name or a bus ARN (as the EventBusName
// parameters of the wire API do) and returns the name.
func BusNameFromARN(nameOrARN string) string {
	if rest, ok := strings.CutPrefix(nameOrARN, ARNPrefix); ok {
		if i := strings.Index(rest, ":event-bus/"); i >= 0 {
			return rest[i+len(":event-bus/"):]
		}
	}
	return nameOrARN
}

// Target kinds: what a target's ARN names.
const (
	TargetKindBus            = "event-bus"
	TargetKindAPIDestination = "api-destination"
	TargetKindWorkflow       = "order-workflow"
	TargetKindLogGroup       = "log-group"
	TargetKindNotifications  = "notifications"
)

// ParseTargetARN says what kind of target arn names and its resource name
// (the bus, API destination or log group). Returns EINVALID, field "Arn",
// for an ARN wims cannot deliver to.
func ParseTargetARN(arn string) (kind, name string, err error) {
	switch {
	case arn == OrderWorkflowARN:
		return TargetKindWorkflow, "order-workflow", nil
	case arn == NotificationsARN:
		return TargetKindNotifications, "wims-notifications", nil
	case strings.HasPrefix(arn, arnPrefixEvents+"event-bus/"):
		name = strings.TrimPrefix(arn, arnPrefixEvents+"event-bus/")
		if ValidBusName(name) {
			return TargetKindBus, name, nil
		}
	case strings.HasPrefix(arn, arnPrefixEvents+"api-destination/"):
		name = strings.TrimPrefix(arn, arnPrefixEvents+"api-destination/")
		// AWS target ARNs of API destinations carry "/<uuid>" after the name.
		name, _, _ = strings.Cut(name, "/")
		if ValidName(name) {
			return TargetKindAPIDestination, name, nil
		}
	case strings.HasPrefix(arn, ARNPrefix+"logs:"+EventRegion+":"+EventAccount+":log-group:"):
		name = strings.TrimPrefix(arn, ARNPrefix+"logs:"+EventRegion+":"+EventAccount+":log-group:")
		name = strings.TrimSuffix(name, ":*")
		if validLogGroup(name) {
			return TargetKindLogGroup, name, nil
		}
	}
	return "", "", FieldError("Arn", "%q is not a target wims can deliver to: want an event bus, API destination or log group ARN in %s:%s, %s or %s",
		arn, EventRegion, EventAccount, OrderWorkflowARN, NotificationsARN)
}

var logGroupPattern = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)

func validLogGroup(name string) bool { return logGroupPattern.MatchString(name) }
