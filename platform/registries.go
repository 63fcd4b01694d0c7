package platform

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wims/wims"
)

func stampRegistry(r *wims.Registry, c, u time.Time) { r.CreatedAt, r.UpdatedAt = c, u }

// discoveredRegistry is the registry that always exists, stored or not.
func discoveredRegistry() wims.Registry {
	return wims.Registry{Name: wims.DiscoveredRegistry, Description: "Schemas the discoverers inferred from the events on the buses."}
}

// CreateRegistry creates a user registry.
func (s *Service) CreateRegistry(ctx context.Context, r wims.Registry) (wims.Registry, error) {
	if err := r.Validate(); err != nil {
		return wims.Registry{}, err
	}
	if r.Name == wims.DiscoveredRegistry {
		return wims.Registry{}, wims.Errorf(wims.ECONFLICT, "Registry %s already exists.", r.Name)
	}
	existing, err := s.store.ListResources(ctx, wims.KindRegistry, "")
	if err != nil {
		return wims.Registry{}, err
	}
	if len(existing) >= wims.MaxRegistries {
		return wims.Registry{}, wims.Errorf(wims.ELIMIT, "At most %d registries.", wims.MaxRegistries)
	}
	w, err := write(wims.ResourceCreate, wims.KindRegistry, r.Name, r)
	if err != nil {
		return wims.Registry{}, err
	}
	out, err := s.store.ApplyResources(ctx, []wims.ResourceWrite{w})
	if err != nil {
		return wims.Registry{}, exists(err, "Registry %s already exists.", r.Name)
	}
	return decode(out[0], stampRegistry)
}

// UpdateRegistry replaces a registry's description.
func (s *Service) UpdateRegistry(ctx context.Context, r wims.Registry) (wims.Registry, error) {
	if err := r.Validate(); err != nil {
		return wims.Registry{}, err
	}
	if _, err := s.DescribeRegistry(ctx, r.Name); err != nil {
		return wims.Registry{}, err
	}
	w, err := write(wims.ResourceUpsert, wims.KindRegistry, r.Name, r)
	if err != nil {
		return wims.Registry{}, err
	}
	out, err := s.store.ApplyResources(ctx, []wims.ResourceWrite{w})
	if err != nil {
		return wims.Registry{}, err
	}
	return decode(out[0], stampRegistry)
}

// DescribeRegistry returns a registry; discovered-schemas always exists.
func (s *Service) DescribeRegistry(ctx context.Context, name string) (wims.Registry, error) {
	r, err := get(ctx, s, wims.KindRegistry, name, stampRegistry)
	if err != nil && name == wims.DiscoveredRegistry && wims.ErrorCode(err) == wims.ENOTFOUND {
		return discoveredRegistry(), nil
	}
	return r, notFound(err, "Registry %s does not exist.", name)
}

// DeleteRegistry deletes a user registry with its schemas and their
// versions, all in one write. A bus that validates against it is refused.
func (s *Service) DeleteRegistry(ctx context.Context, name string) error {
	if name == wims.DiscoveredRegistry {
		return wims.FieldError("RegistryName", "Registry %s cannot be deleted; delete its schemas instead.", name)
	}
	if _, err := get(ctx, s, wims.KindRegistry, name, stampRegistry); err != nil {
		return notFound(err, "Registry %s does not exist.", name)
	}
	buses, err := s.ListEventBuses(ctx, "")
	if err != nil {
		return err
	}
	for _, b := range buses {
		if b.SchemaValidation != nil && b.SchemaValidation.Registry == name {
			return wims.Errorf(wims.ECONFLICT, "Event bus %s validates against registry %s; change it first.", b.Name, name)
		}
	}
	writes := []wims.ResourceWrite{del(wims.KindRegistry, name)}
	for _, kind := range []wims.ResourceKind{wims.KindSchema, wims.KindSchemaVersion} {
		rs, err := s.store.ListResources(ctx, kind, name+"/")
		if err != nil {
			return err
		}
		for _, r := range rs {
			writes = append(writes, del(kind, r.Name))
		}
	}
	_, err = s.store.ApplyResources(ctx, writes)
	return notFound(err, "Registry %s does not exist.", name)
}

// ListRegistries lists registries by name, discovered-schemas included.
func (s *Service) ListRegistries(ctx context.Context, prefix string) ([]wims.Registry, error) {
	regs, err := list(ctx, s, wims.KindRegistry, prefix, stampRegistry)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(wims.DiscoveredRegistry, prefix) && !slices.ContainsFunc(regs, func(r wims.Registry) bool { return r.Name == wims.DiscoveredRegistry }) {
		regs = append(regs, discoveredRegistry())
		slices.SortFunc(regs, func(a, b wims.Registry) int { return strings.Compare(a.Name, b.Name) })
	}
	return regs, nil
}
