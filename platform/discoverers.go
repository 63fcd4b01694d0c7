package platform

import (
	"context"
	"strings"
	"time"

	"github.com/wims/wims"
)

func stampDiscoverer(d *wims.Discoverer, c, u time.Time) { d.CreatedAt, d.UpdatedAt = c, u }

// CreateDiscoverer starts schema discovery on a bus: one discoverer per
// bus, STARTED.
func (s *Service) CreateDiscoverer(ctx context.Context, d wims.Discoverer) (wims.Discoverer, error) {
	d.EventBus = busName(d.EventBus)
	if len(d.Description) > wims.MaxDescriptionLength {
		return wims.Discoverer{}, wims.FieldError("Description", "must be at most %d characters", wims.MaxDescriptionLength)
	}
	ok, err := s.busExists(ctx, d.EventBus)
	if err != nil {
		return wims.Discoverer{}, err
	}
	if !ok {
		return wims.Discoverer{}, wims.Errorf(wims.ENOTFOUND, "Event bus %s does not exist.", d.EventBus)
	}
	d.ID, d.State = wims.DiscovererID(d.EventBus), wims.DiscovererStarted
	w, err := write(wims.ResourceCreate, wims.KindDiscoverer, d.ID, d)
	if err != nil {
		return wims.Discoverer{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.Discoverer{}, exists(err, "Bus %s already has discoverer %s.", d.EventBus, d.ID)
	}
	return decode(out[0], stampDiscoverer)
}

// UpdateDiscoverer replaces a discoverer's description and cross-account
// flag (wims has one account: the flag is kept, and changes nothing).
func (s *Service) UpdateDiscoverer(ctx context.Context, d wims.Discoverer) (wims.Discoverer, error) {
	cur, err := s.DescribeDiscoverer(ctx, d.ID)
	if err != nil {
		return wims.Discoverer{}, err
	}
	if len(d.Description) > wims.MaxDescriptionLength {
		return wims.Discoverer{}, wims.FieldError("Description", "must be at most %d characters", wims.MaxDescriptionLength)
	}
	cur.Description, cur.CrossAccount = d.Description, d.CrossAccount
	return s.putDiscoverer(ctx, cur)
}

func (s *Service) putDiscoverer(ctx context.Context, d wims.Discoverer) (wims.Discoverer, error) {
	w, err := write(wims.ResourceUpdate, wims.KindDiscoverer, d.ID, d)
	if err != nil {
		return wims.Discoverer{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.Discoverer{}, notFound(err, "Discoverer %s does not exist.", d.ID)
	}
	return decode(out[0], stampDiscoverer)
}

// DescribeDiscoverer returns a discoverer.
func (s *Service) DescribeDiscoverer(ctx context.Context, id string) (wims.Discoverer, error) {
	d, err := get(ctx, s, wims.KindDiscoverer, id, stampDiscoverer)
	return d, notFound(err, "Discoverer %s does not exist.", id)
}

// DeleteDiscoverer stops discovery on its bus for good; the schemas it
// found stay.
func (s *Service) DeleteDiscoverer(ctx context.Context, id string) error {
	_, err := s.apply(ctx, del(wims.KindDiscoverer, id))
	return notFound(err, "Discoverer %s does not exist.", id)
}

// ListDiscoverers lists discoverers by id.
func (s *Service) ListDiscoverers(ctx context.Context, idPrefix, sourceARNPrefix string) ([]wims.Discoverer, error) {
	all, err := list(ctx, s, wims.KindDiscoverer, idPrefix, stampDiscoverer)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, d := range all {
		if strings.HasPrefix(wims.BusARN(d.EventBus), sourceARNPrefix) {
			out = append(out, d)
		}
	}
	return out, nil
}

// SetDiscovererState starts or stops a discoverer.
func (s *Service) SetDiscovererState(ctx context.Context, id, state string) (wims.Discoverer, error) {
	if state != wims.DiscovererStarted && state != wims.DiscovererStopped {
		return wims.Discoverer{}, wims.FieldError("State", "must be %s or %s", wims.DiscovererStarted, wims.DiscovererStopped)
	}
	d, err := s.DescribeDiscoverer(ctx, id)
	if err != nil {
		return wims.Discoverer{}, err
	}
	if d.State == state {
		return d, nil
	}
	d.State = state
	return s.putDiscoverer(ctx, d)
}

// EnsureDefaultDiscoverer creates the default bus's discoverer unless it
// exists (stopped or not): discovery on the default bus is on by default.
func (s *Service) EnsureDefaultDiscoverer(ctx context.Context) error {
	_, err := s.CreateDiscoverer(ctx, wims.Discoverer{EventBus: wims.DefaultBus, Description: "Discovers the schemas of the default bus's events."})
	if wims.ErrorCode(err) == wims.ECONFLICT {
		return nil
	}
	return err
}
