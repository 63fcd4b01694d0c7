package bench

import (
	"context"
	"net/url"
	"time"
)

// Drain is how long the pipeline took to catch up with a burst: from the
// first request's start until no order of the run was PENDING any more
// (all RESERVED or beyond), and until none was PENDING or RESERVED (all
// PAID or failed), each also as a ratio to the time the accepts took.
// Issue 12's goal is ReservedRatio <= 1.25 and, with an unthrottled
// payments API, PaidRatio <= 1.5.
type Drain struct {
	AcceptSeconds      float64 `json:"acceptSeconds"`
	AllReservedSeconds float64 `json:"allReservedSeconds,omitempty"`
	AllPaidSeconds     float64 `json:"allPaidSeconds,omitempty"`
	ReservedRatio      float64 `json:"reservedRatio,omitempty"`
	PaidRatio          float64 `json:"paidRatio,omitempty"`
	// TimedOut is set when E2ETimeout ended the wait first; the unreached
	// figures are then absent.
	TimedOut bool `json:"timedOut,omitempty"`
}

// drainPoll is how often the drain is sampled: its resolution.
const drainPoll = 20 * time.Millisecond

// drain polls the run's orders (one customer id per run) by status until
// none is PENDING and then none is RESERVED.
func (r *runner) drain(ctx context.Context, acceptSeconds float64) *Drain {
	d := &Drain{AcceptSeconds: round3(acceptSeconds)}
	ctx, cancel := context.WithTimeout(ctx, r.opt.E2ETimeout)
	defer cancel()
	none := func(status string) (bool, error) {
		var page struct {
			Orders []struct{} `json:"orders"`
		}
		q := url.Values{"customerId": {r.customer}, "status": {status}, "limit": {"1"}}
		err := r.get(ctx, "/orders?"+q.Encode(), &page)
		return err == nil && len(page.Orders) == 0, err
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		now := time.Since(r.start).Seconds()
		if d.AllReservedSeconds == 0 {
			if ok, _ := none("PENDING"); ok {
				d.AllReservedSeconds = round3(now)
			}
		}
		if d.AllReservedSeconds != 0 {
			if ok, _ := none("RESERVED"); ok {
				d.AllPaidSeconds = round3(now)
				break
			}
		}
		select {
		case <-ctx.Done():
			d.TimedOut = true
			return d.ratios()
		case <-t.C:
		}
	}
	return d.ratios()
}

func (d *Drain) ratios() *Drain {
	if d.AcceptSeconds > 0 {
		if d.AllReservedSeconds > 0 {
			d.ReservedRatio = round3(d.AllReservedSeconds / d.AcceptSeconds)
		}
		if d.AllPaidSeconds > 0 {
			d.PaidRatio = round3(d.AllPaidSeconds / d.AcceptSeconds)
		}
	}
	return d
}
