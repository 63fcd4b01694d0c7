package platform

import (
	"context"
	"fmt"
	"sync"

	"github.com/wims/wims"
	"github.com/wims/wims/schema"
)

// validators caches compiled schema versions; a version never changes, so
// its key (registry/name/version) is its identity.
type validators struct {
	mu sync.Mutex
	m  map[string]*schema.Validator
}

// maxValidators bounds the cache; past it, it starts over.
const maxValidators = 1000

func (v *validators) get(key string, compile func() (*schema.Validator, error)) (*schema.Validator, error) {
	v.mu.Lock()
	c, ok := v.m[key]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := compile()
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if v.m == nil || len(v.m) >= maxValidators {
		v.m = map[string]*schema.Validator{}
	}
	v.m[key] = c
	v.mu.Unlock()
	return c, nil
}

// validateEvent checks an event against the latest version of the schema
// named after its source and detail-type in the bus's registry. Returns
// EINVALID with the reason when the event must be refused.
func (s *Service) validateEvent(ctx context.Context, sv wims.SchemaValidation, e wims.PutEventsEntry, event []byte) error {
	name := wims.DiscoveredSchemaName(e.Source, e.DetailType)
	sc, err := s.getSchema(ctx, sv.Registry, name)
	switch wims.ErrorCode(err) {
	case "":
	case wims.ENOTFOUND:
		if sv.Mode == wims.ValidateStrict {
			return wims.Errorf(wims.EINVALID, "Registry %s has no schema %s to validate the event against.", sv.Registry, name)
		}
		return nil
	default:
		return err
	}
	key := wims.SchemaKey(sv.Registry, name) + "/" + sc.LatestVersion
	v, err := s.validators.get(key, func() (*schema.Validator, error) {
		latest, err := s.getVersion(ctx, sc, "")
		if err != nil {
			return nil, err
		}
		return schema.Compile(latest.Type, []byte(latest.Content))
	})
	if err != nil {
		return fmt.Errorf("schema %s version %s: %w", name, sc.LatestVersion, err)
	}
	if err := v.Validate(event); err != nil {
		return wims.Errorf(wims.EINVALID, "The event does not validate against schema %s version %s of registry %s: %v",
			name, sc.LatestVersion, sv.Registry, err)
	}
	return nil
}
