package platform

import (
	"context"
	"time"

	"github.com/wims/wims"
)

func stampConnection(c *wims.Connection, created, updated time.Time) {
	c.CreatedAt, c.UpdatedAt = created, updated
}

func stampDestination(d *wims.APIDestination, created, updated time.Time) {
	d.CreatedAt, d.UpdatedAt = created, updated
}

// secretAAD binds a sealed secret to its connection.
func secretAAD(name string) string { return string(wims.KindConnection) + "/" + name }

// CreateConnection stores a connection with its secret sealed.
func (s *Service) CreateConnection(ctx context.Context, c wims.Connection) (wims.Connection, error) {
	return s.putConnection(ctx, wims.ResourceCreate, c)
}

// UpdateConnection replaces a connection; an empty Secret keeps the stored
// one (and an unchanged authorization type is then still valid).
func (s *Service) UpdateConnection(ctx context.Context, c wims.Connection) (wims.Connection, error) {
	old, err := s.store.GetResource(ctx, wims.KindConnection, c.Name)
	if err != nil {
		return wims.Connection{}, notFound(err, "Connection %s does not exist.", c.Name)
	}
	if c.Secret == "" && len(old.Secret) > 0 {
		if c.Secret, err = s.sealer.Open(old.Secret, secretAAD(c.Name)); err != nil {
			return wims.Connection{}, err
		}
	}
	return s.putConnection(ctx, wims.ResourceUpdate, c)
}

func (s *Service) putConnection(ctx context.Context, op wims.ResourceOp, c wims.Connection) (wims.Connection, error) {
	if c.AuthorizationType == wims.AuthNone {
		c.Secret = ""
	}
	if err := c.Validate(); err != nil {
		return wims.Connection{}, err
	}
	c.State = wims.ConnectionAuthorized
	w, err := write(op, wims.KindConnection, c.Name, c)
	if err != nil {
		return wims.Connection{}, err
	}
	if c.Secret != "" {
		if w.Resource.Secret, err = s.sealer.Seal(c.Secret, secretAAD(c.Name)); err != nil {
			return wims.Connection{}, err
		}
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		err = exists(err, "Connection %s already exists.", c.Name)
		return wims.Connection{}, notFound(err, "Connection %s does not exist.", c.Name)
	}
	return decode(out[0], stampConnection)
}

// DescribeConnection returns a connection without its secret.
func (s *Service) DescribeConnection(ctx context.Context, name string) (wims.Connection, error) {
	c, err := get(ctx, s, wims.KindConnection, name, stampConnection)
	return c, notFound(err, "Connection %s does not exist.", name)
}

// openConnection decodes a stored connection with its secret opened, for
// the catalog (and so the delivery worker) only.
func (s *Service) openConnection(r wims.Resource) (wims.Connection, error) {
	c, err := decode(r, stampConnection)
	if err != nil {
		return c, err
	}
	if len(r.Secret) > 0 {
		if c.Secret, err = s.sealer.Open(r.Secret, secretAAD(c.Name)); err != nil {
			return c, err
		}
	}
	return c, nil
}

// DeleteConnection deletes a connection no API destination uses.
func (s *Service) DeleteConnection(ctx context.Context, name string) error {
	dests, err := list(ctx, s, wims.KindAPIDestination, "", stampDestination)
	if err != nil {
		return err
	}
	for _, d := range dests {
		if d.ConnectionName == name {
			return wims.Errorf(wims.ECONFLICT, "Connection %s is used by API destination %s.", name, d.Name)
		}
	}
	_, err = s.apply(ctx, del(wims.KindConnection, name))
	return notFound(err, "Connection %s does not exist.", name)
}

// ListConnections lists connections by name, without secrets.
func (s *Service) ListConnections(ctx context.Context, prefix string) ([]wims.Connection, error) {
	return list(ctx, s, wims.KindConnection, prefix, stampConnection)
}

// CreateAPIDestination stores an API destination on an existing connection.
func (s *Service) CreateAPIDestination(ctx context.Context, d wims.APIDestination) (wims.APIDestination, error) {
	return s.putDestination(ctx, wims.ResourceCreate, d)
}

// UpdateAPIDestination replaces an API destination.
func (s *Service) UpdateAPIDestination(ctx context.Context, d wims.APIDestination) (wims.APIDestination, error) {
	return s.putDestination(ctx, wims.ResourceUpdate, d)
}

func (s *Service) putDestination(ctx context.Context, op wims.ResourceOp, d wims.APIDestination) (wims.APIDestination, error) {
	if d.InvocationRateLimitPerSecond == 0 {
		d.InvocationRateLimitPerSecond = wims.DefaultInvocationRate
	}
	if d.State == "" {
		d.State = wims.APIDestinationActive
	}
	if err := d.Validate(); err != nil {
		return wims.APIDestination{}, err
	}
	if _, err := s.store.GetResource(ctx, wims.KindConnection, d.ConnectionName); err != nil {
		return wims.APIDestination{}, notFound(err, "Connection %s does not exist.", d.ConnectionName)
	}
	w, err := write(op, wims.KindAPIDestination, d.Name, d)
	if err != nil {
		return wims.APIDestination{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		err = exists(err, "API destination %s already exists.", d.Name)
		return wims.APIDestination{}, notFound(err, "API destination %s does not exist.", d.Name)
	}
	return decode(out[0], stampDestination)
}

// DescribeAPIDestination returns an API destination.
func (s *Service) DescribeAPIDestination(ctx context.Context, name string) (wims.APIDestination, error) {
	d, err := get(ctx, s, wims.KindAPIDestination, name, stampDestination)
	return d, notFound(err, "API destination %s does not exist.", name)
}

// DeleteAPIDestination deletes an API destination. Targets naming it fail
// their deliveries until they are removed, as on EventBridge.
func (s *Service) DeleteAPIDestination(ctx context.Context, name string) error {
	_, err := s.apply(ctx, del(wims.KindAPIDestination, name))
	return notFound(err, "API destination %s does not exist.", name)
}

// ListAPIDestinations lists API destinations by name.
func (s *Service) ListAPIDestinations(ctx context.Context, prefix string) ([]wims.APIDestination, error) {
	return list(ctx, s, wims.KindAPIDestination, prefix, stampDestination)
}
