package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/wims/wims"
	"github.com/wims/wims/eventcrypt"
)

// kindEventKeys is the resource that holds the store's event key history
// (eventcrypt.History), under the name eventKeysName. It holds key ids and
// fingerprints, never a secret.
const (
	kindEventKeys wims.ResourceKind = "event_keys"
	eventKeysName                   = "history"
)

// admitEventKeys checks the key ring against the history the store keeps
// (eventcrypt.Keyring.Admit) and records the ring, before any event is
// encrypted or any pattern compiled with it: a ring that does not fit the
// store's events is a startup error, not rules that silently stop
// matching. Two instances creating the history at once are serialised by
// the create; the second checks against the first's. Two instances
// updating it at once (both restarted with new, different rings at the
// same moment) both pass against the old history and the last write wins:
// the check catches mismatched instances at their next start, not then.
func (a *App) admitEventKeys(ctx context.Context, ring *eventcrypt.Keyring) error {
	for attempt := 0; ; attempt++ {
		var h eventcrypt.History
		op := wims.ResourceCreate
		r, err := a.store.GetResource(ctx, kindEventKeys, eventKeysName)
		switch {
		case err == nil:
			if err := json.Unmarshal(r.Doc, &h); err != nil {
				return fmt.Errorf("event key history: %w", err)
			}
			op = wims.ResourceUpdate
		case wims.ErrorCode(err) != wims.ENOTFOUND:
			return fmt.Errorf("read the event key history: %w", err)
		}
		next, err := ring.Admit(h)
		if err != nil && len(a.cfg.EventKeys) == 0 {
			// The likeliest cause: a second instance on a shared store, with
			// the key file of its own data dir.
			return fmt.Errorf("event key (no --event-key: the key \"default\" of %s): %w; "+
				"every instance sharing a store needs the same keys: give them --event-key, or copy the first instance's key file",
				filepath.Join(a.cfg.DataDir, "event.key"), err)
		}
		if err != nil {
			return fmt.Errorf("--event-key: %w", err)
		}
		if op == wims.ResourceUpdate && next.Equal(h) {
			return nil
		}
		doc, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("event key history: %w", err)
		}
		_, err = a.store.ApplyResources(ctx, []wims.ResourceWrite{{Op: op, Resource: wims.Resource{Kind: kindEventKeys, Name: eventKeysName, Doc: doc}}})
		if wims.ErrorCode(err) == wims.ECONFLICT && attempt == 0 {
			continue // another instance created it first: check against that
		}
		if err != nil {
			return fmt.Errorf("record the event key history: %w", err)
		}
		a.log.Info("event keys recorded", "encrypting", next.Encrypting, "keys", len(next.Keys))
		return nil
	}
}
