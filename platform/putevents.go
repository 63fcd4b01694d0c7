package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/wims/wims"
)

// HeaderBus names the bus of an event on the events stream. Change events
// carry none: they are on the default bus.
const HeaderBus = wims.HeaderBus

// Subjects names the subjects of the platform's streams.
type Subjects struct {
	// Events is the events stream's root, e.g. "wims.events": change events
	// are on <Events>.cdc, the domain events the relay derives from them on
	// <Events>.domain (both of the default bus), events put on bus B on
	// <Events>.bus.<token(B)>.
	Events string
	// Deliveries is the subject of the delivery work queue.
	Deliveries string
}

// Bus is the subject of the events put on bus name. A bus name may contain
// '.', which separates subject tokens, so it is escaped as "%2E"; bus names
// cannot contain '%', which keeps the mapping one-to-one.
func (s Subjects) Bus(name string) string {
	return s.Events + ".bus." + strings.ReplaceAll(name, ".", "%2E")
}

// BusOf returns the bus an events-stream message belongs to.
func BusOf(m *wims.Message) string {
	if b := m.Header[HeaderBus]; b != "" {
		return b
	}
	return wims.DefaultBus
}

// EntrySize is an entry's size as EventBridge counts it towards the 256 KB
// limit of a PutEvents request: 14 bytes for a given Time, plus the UTF-8
// bytes of Source, DetailType, Detail and each of Resources.
func EntrySize(e wims.PutEventsEntry) int {
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if !e.Time.IsZero() {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// PutEvents validates each entry, stores the valid ones on their buses in
// one batch, and returns a result per entry.
func (s *Service) PutEvents(ctx context.Context, entries []wims.PutEventsEntry) ([]wims.PutEventsResult, error) {
	if len(entries) == 0 || len(entries) > wims.MaxPutEventsEntries {
		return nil, wims.FieldError("Entries", "must have 1-%d entries, got %d", wims.MaxPutEventsEntries, len(entries))
	}
	total := 0
	for _, e := range entries {
		total += EntrySize(e)
	}
	limit := wims.MaxPutEventsBytes
	if s.payloads != nil {
		limit = wims.MaxClaimCheckBytes
	}
	if total > limit {
		return nil, wims.FieldError("Entries", "Total size of the entries in the request is over the limit (%d bytes, at most %d).", total, limit)
	}
	claimed := claimSet(entries, total)
	results := make([]wims.PutEventsResult, len(entries))
	out := make([]wims.Outgoing, 0, len(entries))
	index := make([]int, 0, len(entries)) // out[i] is entries[index[i]]
	type lookup struct {
		bus wims.EventBus
		ok  bool
	}
	known := map[string]lookup{}
	now := s.now().UTC()
	for i, e := range entries {
		bus := busName(e.EventBusName)
		l, seen := known[bus]
		if !seen {
			var err error
			if l.bus, l.ok, err = s.lookupBus(ctx, bus); err != nil {
				return nil, err
			}
			known[bus] = l
		}
		if !l.ok {
			// EventBridge itself answers success for an unknown bus and drops
			// the event (aws/aws-sdk#186); a demanding user wants to know.
			results[i] = wims.PutEventsResult{ErrorCode: "ResourceNotFoundException", ErrorMessage: "Event bus " + bus + " does not exist."}
			continue
		}
		msg, ev, res := s.envelope(e, bus, now)
		if res.ErrorCode == "" && l.bus.SchemaValidation != nil {
			// The detail as put is validated, claim-checked or not.
			if err := s.validateEvent(ctx, *l.bus.SchemaValidation, e, msg.Data); err != nil {
				if wims.ErrorCode(err) != wims.EINVALID {
					return nil, err
				}
				res = wims.PutEventsResult{ErrorCode: "InvalidArgument", ErrorMessage: wims.ErrorMessage(err)}
			}
		}
		if res.ErrorCode == "" && s.seal != nil {
			// After validation, which sees the detail as put; before the
			// claim check, so a stored payload holds the sealed form too.
			if err := s.sealMessage(&msg, &ev); err != nil {
				s.log.Warn("put events: sensitive fields not sealed", "event_id", ev.ID, "err", err)
				res = wims.PutEventsResult{ErrorCode: "InternalFailure", ErrorMessage: "The event's sensitive fields could not be encrypted; retry it."}
			}
		}
		if res.ErrorCode == "" && claimed[i] {
			if err := s.claimCheck(ctx, &msg, ev, bus, now); err != nil {
				s.log.Warn("put events: claim-check payload not stored", "event_id", ev.ID, "err", err)
				res = wims.PutEventsResult{ErrorCode: "InternalFailure", ErrorMessage: "The event's payload could not be stored; retry it."}
			}
		}
		results[i] = res
		if res.ErrorCode == "" {
			out = append(out, msg)
			index = append(index, i)
		}
	}
	if len(out) > 0 {
		n, err := s.bus.PublishBatch(ctx, out)
		if err != nil {
			s.log.Warn("put events: publish failed", "stored", n, "of", len(out), "err", err)
		}
		for j := n; j < len(out); j++ {
			results[index[j]] = wims.PutEventsResult{ErrorCode: "InternalFailure", ErrorMessage: "The event could not be stored; retry it."}
		}
	}
	return results, nil
}

// sealMessage seals ev's detail (Options.Seal) and, if that changed it,
// rebuilds msg's data from it. An event without a sensitive field is left
// alone, so it costs no second encoding.
func (s *Service) sealMessage(msg *wims.Outgoing, ev *wims.Event) error {
	detail, err := s.seal(ev.Detail)
	if err != nil {
		return err
	}
	if bytes.Equal(detail, ev.Detail) {
		return nil
	}
	ev.Detail = detail
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode sealed event: %w", err)
	}
	msg.Data = data
	return nil
}

// claimRefSize is what a claim-checked entry counts towards the 256 KB
// instead of its detail: the size of its reference (event ids are UUIDs).
var claimRefSize = len(wims.NewClaimCheck(uuid.Nil.String(), nil).Detail())

// claimSet chooses the entries whose details are claim-checked when the
// request (total bytes as EventBridge counts them) is over 256 KB: the
// largest first, until what goes on the bus fits, so that as few payloads
// as possible are stored and an entry's fate does not depend on its place
// in the request. nil when the request fits.
func claimSet(entries []wims.PutEventsEntry, total int) []bool {
	if total <= wims.MaxPutEventsBytes {
		return make([]bool, len(entries))
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(entries[b].Detail) - len(entries[a].Detail) })
	claimed := make([]bool, len(entries))
	for _, i := range order {
		if total <= wims.MaxPutEventsBytes || len(entries[i].Detail) <= claimRefSize {
			break
		}
		claimed[i] = true
		total -= len(entries[i].Detail) - claimRefSize
	}
	return claimed
}

// claimCheck stores ev's detail as its payload and makes msg carry the
// reference instead. The payload is committed before the event is
// published, so a reference on the bus always resolves.
func (s *Service) claimCheck(ctx context.Context, msg *wims.Outgoing, ev wims.Event, bus string, now time.Time) error {
	ref := wims.NewClaimCheck(ev.ID, ev.Detail)
	if err := s.payloads.PutEventPayload(ctx, wims.EventPayload{
		ID: ev.ID, Bus: bus, Detail: ev.Detail, SHA256: ref.SHA256, CreatedAt: now,
	}); err != nil {
		return err
	}
	ev.Detail = ref.Detail()
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	msg.Data = data
	msg.Header[wims.HeaderClaimCheck] = ev.ID
	return nil
}

// envelope validates one entry and builds its event.
func (s *Service) envelope(e wims.PutEventsEntry, bus string, now time.Time) (wims.Outgoing, wims.Event, wims.PutEventsResult) {
	fail := func(code, format string, args ...any) (wims.Outgoing, wims.Event, wims.PutEventsResult) {
		return wims.Outgoing{}, wims.Event{}, wims.PutEventsResult{ErrorCode: code, ErrorMessage: fmt.Sprintf(format, args...)}
	}
	switch {
	case e.Source == "":
		return fail("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
	case e.DetailType == "":
		return fail("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
	case e.Detail == "":
		return fail("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
	case strings.HasPrefix(e.Source, "aws."):
		return fail("NotAuthorizedForSourceException", "Not authorized for the source %s.", e.Source)
	case !utf8.ValidString(e.Source) || !utf8.ValidString(e.DetailType):
		return fail("InvalidArgument", "Source and DetailType must be valid UTF-8.")
	}
	detail := []byte(e.Detail)
	if !json.Valid(detail) || !isObject(detail) {
		return fail("MalformedDetail", "Detail is malformed: it must be a JSON object.")
	}
	t := e.Time
	if t.IsZero() {
		t = now
	}
	resources := e.Resources
	if resources == nil {
		resources = []string{}
	}
	id := uuid.New().String()
	ev := wims.Event{
		Version: wims.EventVersion, ID: id, DetailType: e.DetailType, Source: e.Source,
		Account: wims.EventAccount, Time: t.UTC().Truncate(time.Second), Region: wims.EventRegion,
		Resources: resources, Detail: json.RawMessage(detail),
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return fail("MalformedDetail", "Detail is malformed.")
	}
	h := map[string]string{HeaderBus: bus}
	if strings.HasPrefix(e.TraceHeader, "00-") {
		h[wims.HeaderTraceParent] = e.TraceHeader
	}
	return wims.Outgoing{Subject: s.subjects.Bus(bus), ID: id, Data: data, Header: h}, ev, wims.PutEventsResult{EventID: id}
}

func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}
