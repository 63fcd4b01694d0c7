package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/pattern"
)

// Publisher stores events on the bus.
type Publisher interface {
	// PublishBatch publishes in order and returns how many messages from the
	// start are known to be stored before the first failure.
	PublishBatch(ctx context.Context, ms []wims.Outgoing) (int, error)
}

// Options configure a Service.
type Options struct {
	Store  wims.ResourceStore
	Bus    Publisher
	Sealer *Sealer
	// Archives stores archived events; nil: archives and replays are
	// unavailable.
	Archives ArchiveStore
	// Subjects names the bus subjects of event buses.
	Subjects Subjects
	Now      wims.Clock
	Logger   *slog.Logger
	// Payloads keeps the details of claim-checked events: with it, a
	// PutEvents request over EventBridge's 256 KB (up to
	// wims.MaxClaimCheckBytes) has its largest details stored here and
	// replaced by references; without it such a request fails, as on AWS.
	Payloads wims.EventPayloadStore
	// Patterns, if set, rewrites every rule and archive pattern before it
	// is compiled: wims serve makes patterns on encrypted (sensitive)
	// fields match their tokens (eventcrypt.Keyring.RewritePattern). Rules
	// are stored as written, so a key rotation needs only a restart.
	Patterns func(p []byte) ([]byte, error)
	// Seal, if set, rewrites the detail of each event put with PutEvents
	// after it is validated and before it is claim-checked and published,
	// and of the event TestEventPattern tests: wims serve encrypts the
	// sensitive fields there (eventcrypt.Keyring.SealDetail), as the relay
	// does for change events, so Patterns' rewrite meets the form it
	// expects. It must keep a value it sealed before as it is: events are
	// put again.
	Seal func(detail []byte) ([]byte, error)
	// Changed, if set, is called after every committed resource write, so
	// this instance's Catalog reloads at once instead of at its next poll.
	Changed func()
}

// Service implements wims.EventPlatform over a resource store and the bus.
type Service struct {
	store    wims.ResourceStore
	bus      Publisher
	sealer   *Sealer
	archives ArchiveStore
	payloads wims.EventPayloadStore
	patterns func([]byte) ([]byte, error)
	seal     func([]byte) ([]byte, error)
	subjects Subjects
	now      wims.Clock
	log      *slog.Logger
	changed  func()
	// validators caches compiled schemas for buses that validate.
	validators validators
}

var (
	_ wims.EventPlatform  = (*Service)(nil)
	_ wims.SchemaRegistry = (*Service)(nil)
)

// New returns a Service.
func New(opt Options) *Service {
	s := &Service{store: opt.Store, bus: opt.Bus, sealer: opt.Sealer, archives: opt.Archives, payloads: opt.Payloads, patterns: opt.Patterns, seal: opt.Seal, subjects: opt.Subjects,
		now: opt.Now, log: opt.Logger, changed: opt.Changed}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.changed == nil {
		s.changed = func() {}
	}
	return s
}

// apply writes and tells the catalog.
func (s *Service) apply(ctx context.Context, writes ...wims.ResourceWrite) ([]wims.Resource, error) {
	out, err := s.store.ApplyResources(ctx, writes)
	if err != nil {
		return nil, err
	}
	s.changed()
	return out, nil
}

// write builds a ResourceWrite of v's JSON.
func write(op wims.ResourceOp, kind wims.ResourceKind, name string, v any) (wims.ResourceWrite, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return wims.ResourceWrite{}, err
	}
	return wims.ResourceWrite{Op: op, Resource: wims.Resource{Kind: kind, Name: name, Doc: doc}}, nil
}

func del(kind wims.ResourceKind, name string) wims.ResourceWrite {
	return wims.ResourceWrite{Op: wims.ResourceDelete, Resource: wims.Resource{Kind: kind, Name: name}}
}

// decode turns a stored resource into its domain type, with the store's
// timestamps (the document's own are those of the write that made it).
func decode[T any](r wims.Resource, stamp func(*T, time.Time, time.Time)) (T, error) {
	var v T
	if err := json.Unmarshal(r.Doc, &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", r, err)
	}
	stamp(&v, r.CreatedAt, r.UpdatedAt)
	return v, nil
}

func get[T any](ctx context.Context, s *Service, kind wims.ResourceKind, name string, stamp func(*T, time.Time, time.Time)) (T, error) {
	r, err := s.store.GetResource(ctx, kind, name)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode(r, stamp)
}

func list[T any](ctx context.Context, s *Service, kind wims.ResourceKind, prefix string, stamp func(*T, time.Time, time.Time)) ([]T, error) {
	rs, err := s.store.ListResources(ctx, kind, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(rs))
	for _, r := range rs {
		v, err := decode(r, stamp)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// notFound rewrites the store's ENOTFOUND with a message naming the
// resource the way EventBridge does.
func notFound(err error, format string, args ...any) error {
	if wims.ErrorCode(err) == wims.ENOTFOUND {
		return wims.Errorf(wims.ENOTFOUND, format, args...)
	}
	return err
}

func exists(err error, format string, args ...any) error {
	if wims.ErrorCode(err) == wims.ECONFLICT {
		return wims.Errorf(wims.ECONFLICT, format, args...)
	}
	return err
}

// busName normalises a bus name or ARN; empty is the default bus.
func busName(nameOrARN string) string {
	if nameOrARN == "" {
		return wims.DefaultBus
	}
	return wims.BusNameFromARN(nameOrARN)
}

// checkPattern compiles a pattern, reporting failure on field EventPattern
// (InvalidEventPatternException on the wire).
func (s *Service) checkPattern(p string) (*pattern.Pattern, error) {
	compiled, err := s.compile([]byte(p))
	if err != nil {
		return nil, wims.FieldError("EventPattern", "%s", strings.TrimPrefix(err.Error(), "pattern: "))
	}
	return compiled, nil
}

// compile compiles a pattern as rules use it: rewritten by Patterns first.
func (s *Service) compile(p []byte) (*pattern.Pattern, error) {
	if s.patterns != nil {
		var err error
		if p, err = s.patterns(p); err != nil {
			return nil, err
		}
	}
	return pattern.Compile(p)
}

// TestEventPattern reports whether event matches pattern, as a rule with
// that pattern would once the event is put on a bus: the pattern is
// rewritten (Patterns) and the event's detail sealed (Seal), so a pattern
// on a sensitive field matches the event whether it is given in plain text
// (as a publisher puts it) or with the encrypted form events carry (as the
// event log shows it).
func (s *Service) TestEventPattern(_ context.Context, p, event string) (bool, error) {
	compiled, err := s.checkPattern(p)
	if err != nil {
		return false, err
	}
	if !json.Valid([]byte(event)) {
		return false, wims.FieldError("Event", "must be a JSON event")
	}
	data, err := s.sealEvent([]byte(event))
	if err != nil {
		return false, wims.FieldError("Event", "%v", err)
	}
	ok, err := compiled.Match(data)
	if err != nil {
		return false, wims.FieldError("Event", "%v", err)
	}
	return ok, nil
}

// sealEvent returns a whole event with its detail sealed (Seal), for
// TestEventPattern. An event without an object detail is returned as it
// is: nothing in it can be sensitive, as every sensitive path is under
// detail.
func (s *Service) sealEvent(event []byte) ([]byte, error) {
	if s.seal == nil {
		return event, nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(event, &members) != nil || !isObject(members["detail"]) {
		return event, nil
	}
	detail, err := s.seal(members["detail"])
	if err != nil {
		return nil, fmt.Errorf("seal detail: %w", err)
	}
	if bytes.Equal(detail, members["detail"]) {
		return event, nil
	}
	members["detail"] = detail
	return json.Marshal(members)
}
