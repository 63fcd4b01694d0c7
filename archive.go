package wims

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Archives keep the events of a bus that match their pattern, so that a
// time window of them can be replayed to the bus's rules later (after a
// fix, say). A replay re-delivers archived events with "replay-name" set in
// the envelope; replayed events are never archived again.

// Resource kinds of archives and replays.
const (
	KindArchive ResourceKind = "archives"
	KindReplay  ResourceKind = "replays"
	// KindReplayProgress is a replay's progress, written only by the
	// replay worker, so that its writes never overwrite a cancel.
	KindReplayProgress ResourceKind = "replay_progress"
)

// Archive states (AWS's ArchiveState). wims archives are ENABLED from the
// moment CreateArchive answers; the others are never set.
const (
	ArchiveEnabled  = "ENABLED"
	ArchiveDisabled = "DISABLED"
)

// Replay states (AWS's ReplayState).
const (
	ReplayStarting   = "STARTING"
	ReplayRunning    = "RUNNING"
	ReplayCancelling = "CANCELLING"
	ReplayCompleted  = "COMPLETED"
	ReplayCancelled  = "CANCELLED"
	ReplayFailed     = "FAILED"
)

// Archive limits, from AWS's service model and quotas.
const (
	MaxArchiveNameLength = 48
	MaxReplayNameLength  = 64
	// MaxArchives is how many archives a deployment may have; each is a
	// stream of its own.
	MaxArchives = 100
	// MaxActiveReplays is how many replays may be unfinished at once (AWS: 10).
	MaxActiveReplays = 10
	// MaxReplayFilterArns bounds Destination.FilterArns.
	MaxReplayFilterArns = 100
)

// ReplayNameField is the envelope field a replayed event carries.
const ReplayNameField = "replay-name"

// Archive is an event archive on a bus.
type Archive struct {
	Name        string `json:"name"`
	EventBus    string `json:"eventBus"`
	Description string `json:"description,omitempty"`
	// EventPattern selects what is archived; "" archives every event.
	EventPattern string `json:"eventPattern,omitempty"`
	// RetentionDays: 0 keeps events forever.
	RetentionDays int       `json:"retentionDays"`
	State         string    `json:"state"`
	StateReason   string    `json:"stateReason,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	// EventCount and SizeBytes are read from the archive's storage when it
	// is described, never stored.
	EventCount int64 `json:"eventCount"`
	SizeBytes  int64 `json:"sizeBytes"`
}

// ARN is the archive's ARN.
func (a Archive) ARN() string { return ArchiveARN(a.Name) }

// Retention is how long the archive keeps an event; 0 is forever.
func (a Archive) Retention() time.Duration {
	return time.Duration(a.RetentionDays) * 24 * time.Hour
}

// Validate checks the archive's fields except the pattern (the pattern
// compiler's).
func (a Archive) Validate() error {
	if !archiveNamePattern.MatchString(a.Name) {
		return FieldError("ArchiveName", "must be 1-%d letters, digits, '.', '-' or '_'", MaxArchiveNameLength)
	}
	if !ValidBusName(a.EventBus) {
		return FieldError("EventSourceArn", "must name an event bus")
	}
	if len(a.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	if len(a.EventPattern) > MaxEventPatternLength {
		return FieldError("EventPattern", "must be at most %d characters", MaxEventPatternLength)
	}
	if a.RetentionDays < 0 || a.RetentionDays > 365*100 {
		return FieldError("RetentionDays", "must be from 0 (forever) to 36500 days")
	}
	return nil
}

// ReplayDestination is where a replay sends events: a bus, and optionally
// only the rules named by FilterArns.
type ReplayDestination struct {
	Arn        string   `json:"arn"`
	FilterArns []string `json:"filterArns,omitempty"`
}

// Replay re-delivers the events of an archive stored in [EventStartTime,
// EventEndTime) to the rules of a bus.
type Replay struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Archive     string            `json:"archive"`
	Destination ReplayDestination `json:"destination"`
	// The window is of the times events were archived (which for an event
	// put without a Time is its time).
	EventStartTime time.Time `json:"eventStartTime"`
	EventEndTime   time.Time `json:"eventEndTime"`
	State          string    `json:"state"`
	StateReason    string    `json:"stateReason,omitempty"`
	// EventLastReplayedTime is the archive time of the last event replayed.
	EventLastReplayedTime time.Time `json:"eventLastReplayedTime,omitzero"`
	ReplayStartTime       time.Time `json:"replayStartTime,omitzero"`
	ReplayEndTime         time.Time `json:"replayEndTime,omitzero"`
	// Checkpoint is the archive sequence replayed up to (inclusive); a
	// replay resumed after a restart continues after it.
	Checkpoint uint64 `json:"checkpoint,omitempty"`
	// EndSeq is the archive's last sequence when the replay started: events
	// archived later are not part of it.
	EndSeq uint64 `json:"endSeq,omitempty"`
	// Replayed counts the events sent to the bus's rules so far.
	Replayed  int64     `json:"replayed"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ARN is the replay's ARN.
func (r Replay) ARN() string { return ReplayARN(r.Name) }

// Done reports whether the replay has ended (it will not run again).
func (r Replay) Done() bool {
	return r.State == ReplayCompleted || r.State == ReplayCancelled || r.State == ReplayFailed
}

// Validate checks the replay's fields.
func (r Replay) Validate() error {
	if !replayNamePattern.MatchString(r.Name) {
		return FieldError("ReplayName", "must be 1-%d letters, digits, '.', '-' or '_'", MaxReplayNameLength)
	}
	if len(r.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	if !archiveNamePattern.MatchString(r.Archive) {
		return FieldError("EventSourceArn", "must be an archive ARN")
	}
	if r.EventStartTime.IsZero() {
		return FieldError("EventStartTime", "is required")
	}
	if r.EventEndTime.IsZero() {
		return FieldError("EventEndTime", "is required")
	}
	if !r.EventStartTime.Before(r.EventEndTime) {
		return FieldError("EventStartTime", "must be before EventEndTime")
	}
	if len(r.Destination.FilterArns) > MaxReplayFilterArns {
		return FieldError("Destination.FilterArns", "must have at most %d rule ARNs", MaxReplayFilterArns)
	}
	for _, arn := range r.Destination.FilterArns {
		if !strings.HasPrefix(arn, arnPrefixEvents+"rule/") {
			return FieldError("Destination.FilterArns", "%q is not a rule ARN", arn)
		}
	}
	return nil
}

var (
	archiveNamePattern = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,48}$`)
	replayNamePattern  = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)
)

// ArchiveARN is the ARN of an archive.
func ArchiveARN(name string) string { return arnPrefixEvents + "archive/" + name }

// ReplayARN is the ARN of a replay.
func ReplayARN(name string) string { return arnPrefixEvents + "replay/" + name }

// ArchiveNameFromARN accepts an archive ARN (or a bare name) and returns
// the name.
func ArchiveNameFromARN(nameOrARN string) string {
	if rest, ok := strings.CutPrefix(nameOrARN, arnPrefixEvents+"archive/"); ok {
		return rest
	}
	return nameOrARN
}

// BusNameFromBusARN returns the bus an event bus ARN names, or ok=false if
// arn is not one.
func BusNameFromBusARN(arn string) (string, bool) {
	name, ok := strings.CutPrefix(arn, arnPrefixEvents+"event-bus/")
	return name, ok && ValidBusName(name)
}

// ArchiveFilter selects archives for ListArchives.
type ArchiveFilter struct {
	NamePrefix string
	EventBus   string // "" any
	State      string // "" any
}

// ReplayFilter selects replays for ListReplays.
type ReplayFilter struct {
	NamePrefix string
	Archive    string // "" any
	State      string // "" any
}

// ArchivePlatform is the archive and replay half of the event platform.
// Errors carry wims codes as EventPlatform's do; CancelReplay of a replay
// that has ended is ECONFLICT (AWS's IllegalStatusException).
type ArchivePlatform interface {
	CreateArchive(ctx context.Context, a Archive) (Archive, error)
	// UpdateArchive replaces the description, pattern and retention.
	UpdateArchive(ctx context.Context, a Archive) (Archive, error)
	DescribeArchive(ctx context.Context, name string) (Archive, error)
	// DeleteArchive deletes the archive and every event in it.
	DeleteArchive(ctx context.Context, name string) error
	ListArchives(ctx context.Context, f ArchiveFilter) ([]Archive, error)

	// StartReplay records the replay (STARTING); the replay worker runs it.
	StartReplay(ctx context.Context, r Replay) (Replay, error)
	DescribeReplay(ctx context.Context, name string) (Replay, error)
	// CancelReplay asks a running replay to stop (CANCELLING, then CANCELLED).
	CancelReplay(ctx context.Context, name string) (Replay, error)
	ListReplays(ctx context.Context, f ReplayFilter) ([]Replay, error)
}

// ArchiveStats is what an archive's storage holds.
type ArchiveStats struct {
	Events  int64
	Bytes   int64
	LastSeq uint64 // 0: empty
}
