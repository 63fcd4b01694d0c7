package platform

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wims/wims"
)

func stampBus(b *wims.EventBus, c, u time.Time) { b.CreatedAt, b.UpdatedAt = c, u }

// defaultBus is the bus that always exists, stored or not.
func defaultBus() wims.EventBus {
	return wims.EventBus{Name: wims.DefaultBus, Description: "The default bus: wims' change events and whatever PutEvents puts there."}
}

// CreateEventBus creates a custom bus. "default" already exists.
func (s *Service) CreateEventBus(ctx context.Context, b wims.EventBus) (wims.EventBus, error) {
	if err := b.Validate(); err != nil {
		return wims.EventBus{}, err
	}
	if b.Name == wims.DefaultBus {
		return wims.EventBus{}, wims.Errorf(wims.ECONFLICT, "Event bus default already exists.")
	}
	w, err := write(wims.ResourceCreate, wims.KindEventBus, b.Name, b)
	if err != nil {
		return wims.EventBus{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.EventBus{}, exists(err, "Event bus %s already exists.", b.Name)
	}
	return decode(out[0], stampBus)
}

// DescribeEventBus returns a bus; the default bus always exists.
func (s *Service) DescribeEventBus(ctx context.Context, name string) (wims.EventBus, error) {
	name = busName(name)
	b, err := get(ctx, s, wims.KindEventBus, name, stampBus)
	if err != nil && name == wims.DefaultBus && wims.ErrorCode(err) == wims.ENOTFOUND {
		return defaultBus(), nil
	}
	return b, notFound(err, "Event bus %s does not exist.", name)
}

// UpdateEventBus replaces a bus's description and schema validation. The
// default bus is stored on its first update. A validating bus's registry
// must exist.
func (s *Service) UpdateEventBus(ctx context.Context, b wims.EventBus) (wims.EventBus, error) {
	b.Name = busName(b.Name)
	if err := b.Validate(); err != nil {
		return wims.EventBus{}, err
	}
	if _, err := s.DescribeEventBus(ctx, b.Name); err != nil {
		return wims.EventBus{}, err
	}
	if v := b.SchemaValidation; v != nil {
		if _, err := s.DescribeRegistry(ctx, v.Registry); err != nil {
			return wims.EventBus{}, err
		}
	}
	w, err := write(wims.ResourceUpsert, wims.KindEventBus, b.Name, b)
	if err != nil {
		return wims.EventBus{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.EventBus{}, err
	}
	return decode(out[0], stampBus)
}

// DeleteEventBus deletes a custom bus that has no rules left.
func (s *Service) DeleteEventBus(ctx context.Context, name string) error {
	name = busName(name)
	if name == wims.DefaultBus {
		return wims.FieldError("Name", "Cannot delete event bus default.")
	}
	rules, err := s.store.ListResources(ctx, wims.KindRule, name+wims.KeySeparator)
	if err != nil {
		return err
	}
	if len(rules) > 0 {
		return wims.Errorf(wims.ECONFLICT, "Event bus %s still has %d rules; delete them first.", name, len(rules))
	}
	if n, err := s.archivesOn(ctx, name); err != nil {
		return err
	} else if n > 0 {
		return wims.Errorf(wims.ECONFLICT, "Event bus %s still has %d archives; delete them first.", name, n)
	}
	_, err = s.apply(ctx, del(wims.KindEventBus, name))
	return notFound(err, "Event bus %s does not exist.", name)
}

// ListEventBuses lists buses by name, the default bus included.
func (s *Service) ListEventBuses(ctx context.Context, prefix string) ([]wims.EventBus, error) {
	buses, err := list(ctx, s, wims.KindEventBus, prefix, stampBus)
	if err != nil {
		return nil, err
	}
	hasDefault := false
	for _, b := range buses {
		hasDefault = hasDefault || b.Name == wims.DefaultBus
	}
	if !hasDefault && strings.HasPrefix(wims.DefaultBus, prefix) {
		buses = append(buses, defaultBus())
		slices.SortFunc(buses, func(a, b wims.EventBus) int { return strings.Compare(a.Name, b.Name) })
	}
	return buses, nil
}

// busExists reports whether a bus exists (the default bus always does).
func (s *Service) busExists(ctx context.Context, name string) (bool, error) {
	_, ok, err := s.lookupBus(ctx, name)
	return ok, err
}

// lookupBus returns a bus, ok=false when there is none.
func (s *Service) lookupBus(ctx context.Context, name string) (wims.EventBus, bool, error) {
	b, err := s.DescribeEventBus(ctx, name)
	switch wims.ErrorCode(err) {
	case "":
		return b, true, nil
	case wims.ENOTFOUND:
		return b, false, nil
	default:
		return b, false, err
	}
}
