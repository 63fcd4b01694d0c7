package platform

import (
	"context"
	"time"

	"github.com/wims/wims"
)

// A replay is two resources: the replay (written by StartReplay and
// CancelReplay) and its progress (written only by the replay worker). What
// DescribeReplay shows is both merged, so a cancel is never lost to a
// progress write racing it.

// replayProgress is the worker's half of a replay.
type replayProgress struct {
	State                 string    `json:"state"`
	StateReason           string    `json:"stateReason,omitempty"`
	Checkpoint            uint64    `json:"checkpoint"`
	Replayed              int64     `json:"replayed"`
	EventLastReplayedTime time.Time `json:"eventLastReplayedTime,omitzero"`
	ReplayEndTime         time.Time `json:"replayEndTime,omitzero"`
}

func stampReplay(r *wims.Replay, c, u time.Time)          { r.CreatedAt, r.UpdatedAt = c, u }
func stampProgress(*replayProgress, time.Time, time.Time) {}

// merge folds the worker's progress into the replay as the API shows it.
func merge(r wims.Replay, p *replayProgress) wims.Replay {
	cancelling := r.State == wims.ReplayCancelling
	if p != nil {
		r.Checkpoint, r.Replayed = p.Checkpoint, p.Replayed
		r.EventLastReplayedTime, r.ReplayEndTime = p.EventLastReplayedTime, p.ReplayEndTime
		r.State, r.StateReason = p.State, p.StateReason
	}
	if cancelling && !r.Done() {
		r.State = wims.ReplayCancelling
	}
	return r
}

// StartReplay records a replay of an archive's window to the archive's bus,
// STARTING; the replay worker (on the elected delivery instance) runs it.
// Only events archived before it started are replayed.
func (s *Service) StartReplay(ctx context.Context, r wims.Replay) (wims.Replay, error) {
	st, err := s.archiveStore()
	if err != nil {
		return wims.Replay{}, err
	}
	r.Archive = wims.ArchiveNameFromARN(r.Archive)
	if err := r.Validate(); err != nil {
		return wims.Replay{}, err
	}
	a, err := s.getArchive(ctx, r.Archive)
	if err != nil {
		return wims.Replay{}, err
	}
	bus, ok := wims.BusNameFromBusARN(r.Destination.Arn)
	if !ok {
		return wims.Replay{}, wims.FieldError("Destination.Arn", "must be an event bus ARN")
	}
	if bus != a.EventBus {
		return wims.Replay{}, wims.FieldError("Destination.Arn", "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted (the archive is of bus %s).", a.EventBus)
	}
	for _, arn := range r.Destination.FilterArns {
		if _, err := s.ruleByARN(ctx, bus, arn); err != nil {
			return wims.Replay{}, err
		}
	}
	active, err := s.ListReplays(ctx, wims.ReplayFilter{})
	if err != nil {
		return wims.Replay{}, err
	}
	n := 0
	for _, x := range active {
		if x.Name == r.Name {
			return wims.Replay{}, wims.Errorf(wims.ECONFLICT, "Replay %s already exists.", r.Name)
		}
		if !x.Done() {
			n++
		}
	}
	if n >= wims.MaxActiveReplays {
		return wims.Replay{}, wims.Errorf(wims.ELIMIT, "The requested resource exceeds the maximum number allowed: at most %d replays may run at once.", wims.MaxActiveReplays)
	}
	stats, err := st.ArchiveStats(ctx, a.Name)
	if err != nil {
		return wims.Replay{}, err
	}
	r.State, r.StateReason, r.ReplayStartTime = wims.ReplayStarting, "", s.now().UTC()
	r.EndSeq, r.Checkpoint, r.Replayed = stats.LastSeq, 0, 0
	r.EventLastReplayedTime, r.ReplayEndTime = time.Time{}, time.Time{}
	w, err := write(wims.ResourceCreate, wims.KindReplay, r.Name, r)
	if err != nil {
		return wims.Replay{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.Replay{}, exists(err, "Replay %s already exists.", r.Name)
	}
	return decode(out[0], stampReplay)
}

// ruleByARN checks that arn names a rule on bus.
func (s *Service) ruleByARN(ctx context.Context, bus, arn string) (wims.Rule, error) {
	rules, err := s.ListRules(ctx, bus, "")
	if err != nil {
		return wims.Rule{}, err
	}
	for _, r := range rules {
		if r.ARN() == arn {
			return r, nil
		}
	}
	return wims.Rule{}, wims.Errorf(wims.ENOTFOUND, "Rule %s does not exist on EventBus %s.", arn, bus)
}

// DescribeReplay returns a replay with its progress.
func (s *Service) DescribeReplay(ctx context.Context, name string) (wims.Replay, error) {
	if _, err := s.archiveStore(); err != nil {
		return wims.Replay{}, err
	}
	r, err := get(ctx, s, wims.KindReplay, name, stampReplay)
	if err != nil {
		return wims.Replay{}, notFound(err, "Replay %s does not exist.", name)
	}
	p, err := s.progress(ctx, name)
	if err != nil {
		return wims.Replay{}, err
	}
	return merge(r, p), nil
}

func (s *Service) progress(ctx context.Context, name string) (*replayProgress, error) {
	p, err := get(ctx, s, wims.KindReplayProgress, name, stampProgress)
	if wims.ErrorCode(err) == wims.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// CancelReplay asks an unfinished replay to stop. The worker stops it
// within one batch of events and marks it CANCELLED.
func (s *Service) CancelReplay(ctx context.Context, name string) (wims.Replay, error) {
	r, err := s.DescribeReplay(ctx, name)
	if err != nil {
		return wims.Replay{}, err
	}
	if r.Done() || r.State == wims.ReplayCancelling {
		return wims.Replay{}, wims.Errorf(wims.ECONFLICT, "Replay %s is %s; only a STARTING or RUNNING replay can be cancelled.", name, r.State)
	}
	stored, err := get(ctx, s, wims.KindReplay, name, stampReplay)
	if err != nil {
		return wims.Replay{}, notFound(err, "Replay %s does not exist.", name)
	}
	stored.State = wims.ReplayCancelling
	w, err := write(wims.ResourceUpdate, wims.KindReplay, name, stored)
	if err != nil {
		return wims.Replay{}, err
	}
	if _, err := s.apply(ctx, w); err != nil {
		return wims.Replay{}, notFound(err, "Replay %s does not exist.", name)
	}
	return s.DescribeReplay(ctx, name)
}

// ListReplays lists replays by name, with their progress.
func (s *Service) ListReplays(ctx context.Context, f wims.ReplayFilter) ([]wims.Replay, error) {
	if _, err := s.archiveStore(); err != nil {
		return nil, err
	}
	all, err := list(ctx, s, wims.KindReplay, f.NamePrefix, stampReplay)
	if err != nil {
		return nil, err
	}
	progress, err := s.store.ListResources(ctx, wims.KindReplayProgress, f.NamePrefix)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*replayProgress, len(progress))
	for _, res := range progress {
		p, err := decode(res, stampProgress)
		if err != nil {
			return nil, err
		}
		byName[res.Name] = &p
	}
	archive := wims.ArchiveNameFromARN(f.Archive)
	out := all[:0]
	for _, r := range all {
		r = merge(r, byName[r.Name])
		if (archive != "" && r.Archive != archive) || (f.State != "" && r.State != f.State) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// saveProgress writes the worker's half of a replay.
func (s *Service) saveProgress(ctx context.Context, name string, p replayProgress) error {
	w, err := write(wims.ResourceUpsert, wims.KindReplayProgress, name, p)
	if err != nil {
		return err
	}
	_, err = s.apply(ctx, w)
	return err
}
