package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wims/wims"
)

// Replayer runs replays. It runs where the delivery worker runs (the elected
// "deliveries" instance), so the calls it makes count against the same API
// destination rates.
//
// A replay reads its archive in archive order and hands each event, with
// "replay-name" set, to every matching target in turn, inline: so targets
// see the events in the order they were archived, and a replayed event is
// stored nowhere but where its targets put it (never in an archive). A
// delivery that fails goes to the delivery queue, where it is retried and
// dead-lettered like any other (and may then arrive out of order).
//
// Progress is checkpointed at most once a second; a replay interrupted by a
// crash or a leader change resumes after its checkpoint, so the events after
// it are delivered again with the same ids (targets dedupe them as they do
// redeliveries).
type Replayer struct {
	Service *Service
	Catalog *Catalog
	// Deliver is the delivery worker's handler (Deliverer.Handle).
	Deliver wims.Handler
	// Queue and Deliveries are the delivery queue, for failed deliveries.
	Queue      Publisher
	Deliveries string
	// Poll is how often it looks for replays to run (default 500 ms).
	Poll time.Duration
	// Batch is how many archived events one read returns (default 256).
	Batch  int
	Now    wims.Clock
	Logger *slog.Logger
}

// Run runs replays until ctx ends.
func (r *Replayer) Run(ctx context.Context) error {
	poll := r.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	running := map[string]bool{}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		replays, err := r.Service.ListReplays(ctx, wims.ReplayFilter{})
		if err != nil && ctx.Err() == nil {
			r.log().Warn("listing replays failed; will retry", "err", err)
		}
		for _, rp := range replays {
			mu.Lock()
			busy := running[rp.Name]
			if !rp.Done() && !busy {
				running[rp.Name] = true
			}
			mu.Unlock()
			if rp.Done() || busy {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.run(ctx, rp); err != nil && ctx.Err() == nil {
					r.log().Warn("replay interrupted; will resume", "replay", rp.Name, "err", err)
				}
				mu.Lock()
				delete(running, rp.Name)
				mu.Unlock()
			}()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (r *Replayer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Replayer) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// run runs one replay from its checkpoint to its end, or until it is
// cancelled or ctx ends.
func (r *Replayer) run(ctx context.Context, rp wims.Replay) error {
	s := r.Service
	st, err := s.archiveStore()
	if err != nil {
		return err
	}
	p := replayProgress{State: wims.ReplayRunning, Checkpoint: rp.Checkpoint, Replayed: rp.Replayed, EventLastReplayedTime: rp.EventLastReplayedTime}
	from := p.Checkpoint + 1
	if p.Checkpoint == 0 {
		seq, err := st.ArchiveSeqAt(ctx, rp.Archive, rp.EventStartTime)
		if err != nil {
			return r.failIfGone(ctx, rp, &p, err)
		}
		if seq == 0 {
			from = rp.EndSeq + 1 // nothing archived since the start
		} else {
			from = seq
		}
	}
	if err := s.saveProgress(ctx, rp.Name, p); err != nil {
		return err
	}
	r.log().Info("replay running", "replay", rp.Name, "archive", rp.Archive, "from_seq", from, "to_seq", rp.EndSeq)
	saved := r.now()
	batch := r.Batch
	if batch <= 0 {
		batch = 256
	}
	for {
		cancelled, err := r.cancelled(ctx, rp.Name)
		if err != nil {
			return err
		}
		if cancelled {
			return r.finish(ctx, rp, &p, wims.ReplayCancelled, "")
		}
		if from > rp.EndSeq {
			return r.finish(ctx, rp, &p, wims.ReplayCompleted, "")
		}
		msgs, err := st.ReadArchive(ctx, rp.Archive, from, rp.EndSeq, batch)
		if err != nil {
			return r.failIfGone(ctx, rp, &p, err)
		}
		if len(msgs) == 0 { // the rest has expired
			return r.finish(ctx, rp, &p, wims.ReplayCompleted, "")
		}
		for _, m := range msgs {
			if !m.Stored.Before(rp.EventEndTime) {
				return r.finish(ctx, rp, &p, wims.ReplayCompleted, "")
			}
			if !m.Stored.Before(rp.EventStartTime) {
				if err := r.replayOne(ctx, rp, m); err != nil {
					return err
				}
				p.Replayed++
				p.EventLastReplayedTime = m.Stored
			}
			p.Checkpoint = m.Seq
			if r.now().Sub(saved) >= time.Second {
				if err := s.saveProgress(ctx, rp.Name, p); err != nil {
					return err
				}
				saved = r.now()
			}
		}
		from = msgs[len(msgs)-1].Seq + 1
	}
}

// cancelled reports whether CancelReplay was called for the replay (or it
// was deleted with its archive's bus).
func (r *Replayer) cancelled(ctx context.Context, name string) (bool, error) {
	res, err := get(ctx, r.Service, wims.KindReplay, name, stampReplay)
	if wims.ErrorCode(err) == wims.ENOTFOUND {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return res.State == wims.ReplayCancelling, nil
}

// failIfGone ends the replay FAILED if its archive no longer exists, and
// otherwise returns err (to be retried).
func (r *Replayer) failIfGone(ctx context.Context, rp wims.Replay, p *replayProgress, err error) error {
	if _, gerr := r.Service.getArchive(ctx, rp.Archive); wims.ErrorCode(gerr) == wims.ENOTFOUND {
		return r.finish(ctx, rp, p, wims.ReplayFailed, "Archive "+rp.Archive+" was deleted.")
	}
	return err
}

func (r *Replayer) finish(ctx context.Context, rp wims.Replay, p *replayProgress, state, reason string) error {
	p.State, p.StateReason, p.ReplayEndTime = state, reason, r.now().UTC()
	if err := r.Service.saveProgress(ctx, rp.Name, *p); err != nil {
		return err
	}
	r.log().Info("replay ended", "replay", rp.Name, "state", state, "replayed", p.Replayed, "reason", reason)
	return nil
}

// replayOne hands one archived event to each target it matches.
func (r *Replayer) replayOne(ctx context.Context, rp wims.Replay, m *wims.Message) error {
	data := withReplayName(m.Data, rp.Name)
	bus := wims.BusNameFromARN(rp.Destination.Arn)
	targets, err := r.Catalog.Snapshot().replayTargets(bus, data, rp.Destination.FilterArns)
	if err != nil {
		// Archived events were valid when they were put; a bad one is skipped.
		r.log().Warn("archived event does not parse; skipped", "replay", rp.Name, "seq", m.Seq, "err", err)
		return nil
	}
	eventID := EventID(m)
	ingested := r.now().UTC().Format(time.RFC3339Nano)
	from := map[string]string{wims.HeaderReplayName: rp.Name, wims.HeaderTraceParent: m.Header[wims.HeaderTraceParent],
		wims.HeaderClaimCheck: m.Header[wims.HeaderClaimCheck]}
	for _, t := range targets {
		h := deliveryHeader(t, bus, ingested, eventID, from)
		id := "dlv:replay:" + rp.Name + ":" + eventID + ":" + t.Key
		err := r.Deliver(ctx, &wims.Message{Subject: r.Deliveries, ID: id, Data: data, Header: h, Delivered: 1, Seq: m.Seq})
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Retried (and dead-lettered) by the delivery queue from here on.
		if _, qerr := r.Queue.PublishBatch(ctx, []wims.Outgoing{{Subject: r.Deliveries, ID: id, Data: data, Header: h}}); qerr != nil {
			return fmt.Errorf("replay %s: queue failed delivery to %s: %w", rp.Name, t.Key, errors.Join(err, qerr))
		}
	}
	return nil
}

// withReplayName returns the event with "replay-name" set, as EventBridge
// sets it on replayed events. Archived events never carry one.
func withReplayName(event []byte, name string) []byte {
	body := bytes.TrimLeft(event, " \t\r\n")
	if len(body) == 0 || body[0] != '{' {
		return event
	}
	rest := bytes.TrimLeft(body[1:], " \t\r\n")
	out := make([]byte, 0, len(event)+len(name)+20)
	out = append(out, `{"`+wims.ReplayNameField+`":"`...)
	out = append(out, name...)
	out = append(out, '"')
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}
