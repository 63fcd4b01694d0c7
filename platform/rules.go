package platform

import (
	"context"
	"strings"
	"time"

	"github.com/wims/wims"
)

func stampRule(r *wims.Rule, c, u time.Time)         { r.CreatedAt, r.UpdatedAt = c, u }
func stampTarget(*wims.Target, time.Time, time.Time) {}

// PutRule creates a rule or replaces its pattern, state and description,
// keeping its targets, as EventBridge's PutRule does. An empty state is
// ENABLED.
func (s *Service) PutRule(ctx context.Context, r wims.Rule) (wims.Rule, error) {
	r.EventBusName = busName(r.EventBusName)
	if r.State == "" {
		r.State = wims.RuleEnabled
	}
	if err := r.Validate(); err != nil {
		return wims.Rule{}, err
	}
	if _, err := s.checkPattern(r.EventPattern); err != nil {
		return wims.Rule{}, err
	}
	ok, err := s.busExists(ctx, r.EventBusName)
	if err != nil {
		return wims.Rule{}, err
	}
	if !ok {
		return wims.Rule{}, wims.Errorf(wims.ENOTFOUND, "Event bus %s does not exist.", r.EventBusName)
	}
	w, err := write(wims.ResourceUpsert, wims.KindRule, wims.RuleKey(r.EventBusName, r.Name), r)
	if err != nil {
		return wims.Rule{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.Rule{}, err
	}
	return decode(out[0], stampRule)
}

// DescribeRule returns a rule.
func (s *Service) DescribeRule(ctx context.Context, bus, name string) (wims.Rule, error) {
	bus = busName(bus)
	r, err := get(ctx, s, wims.KindRule, wims.RuleKey(bus, name), stampRule)
	return r, notFound(err, "Rule %s does not exist on EventBus %s.", name, bus)
}

// DeleteRule deletes a rule. A rule with targets needs force (EventBridge:
// "Rule can't be deleted since it has targets"); force removes them with it.
func (s *Service) DeleteRule(ctx context.Context, bus, name string, force bool) error {
	bus = busName(bus)
	r, err := s.DescribeRule(ctx, bus, name)
	if err != nil {
		return err
	}
	if r.ManagedBy != "" && !force {
		return wims.FieldError("Force", "Rule %s is managed by %s; pass Force to delete it (it comes back on the next start if its config still names it).", name, r.ManagedBy)
	}
	targets, err := s.store.ListResources(ctx, wims.KindTarget, wims.RuleKey(bus, name)+wims.KeySeparator)
	if err != nil {
		return err
	}
	if len(targets) > 0 && !force {
		return wims.FieldError("Name", "Rule can't be deleted since it has targets.")
	}
	writes := make([]wims.ResourceWrite, 0, len(targets)+1)
	for _, t := range targets {
		writes = append(writes, del(wims.KindTarget, t.Name))
	}
	writes = append(writes, del(wims.KindRule, wims.RuleKey(bus, name)))
	_, err = s.apply(ctx, writes...)
	return notFound(err, "Rule %s does not exist on EventBus %s.", name, bus)
}

// ListRules lists a bus's rules by name.
func (s *Service) ListRules(ctx context.Context, bus, prefix string) ([]wims.Rule, error) {
	bus = busName(bus)
	ok, err := s.busExists(ctx, bus)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, wims.Errorf(wims.ENOTFOUND, "Event bus %s does not exist.", bus)
	}
	return list(ctx, s, wims.KindRule, wims.RuleKey(bus, prefix), stampRule)
}

// SetRuleState enables or disables a rule.
func (s *Service) SetRuleState(ctx context.Context, bus, name, state string) error {
	r, err := s.DescribeRule(ctx, bus, name)
	if err != nil {
		return err
	}
	if state != wims.RuleEnabled && state != wims.RuleDisabled {
		return wims.FieldError("State", "must be ENABLED or DISABLED")
	}
	if r.State == state {
		return nil
	}
	r.State = state
	w, err := write(wims.ResourceUpdate, wims.KindRule, wims.RuleKey(r.EventBusName, r.Name), r)
	if err != nil {
		return err
	}
	_, err = s.apply(ctx, w)
	return notFound(err, "Rule %s does not exist on EventBus %s.", name, r.EventBusName)
}

// ListRuleNamesByTarget lists the rules on bus with a target whose ARN is arn.
func (s *Service) ListRuleNamesByTarget(ctx context.Context, bus, arn string) ([]string, error) {
	bus = busName(bus)
	targets, err := list(ctx, s, wims.KindTarget, bus+wims.KeySeparator, stampTarget)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range targets {
		if t.Arn == arn && (len(names) == 0 || names[len(names)-1] != t.Rule) {
			names = append(names, t.Rule)
		}
	}
	return names, nil
}

// PutTargets adds or replaces targets. Each target is validated on its own
// (its failure is reported, the others still apply); the valid ones are
// written in one transaction.
func (s *Service) PutTargets(ctx context.Context, bus, rule string, targets []wims.Target) ([]wims.TargetFailure, error) {
	bus = busName(bus)
	if len(targets) == 0 || len(targets) > 10 {
		return nil, wims.FieldError("Targets", "must have 1-10 targets")
	}
	if _, err := s.DescribeRule(ctx, bus, rule); err != nil {
		return nil, err
	}
	existing, err := list(ctx, s, wims.KindTarget, wims.RuleKey(bus, rule)+wims.KeySeparator, stampTarget)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, t := range existing {
		ids[t.ID] = true
	}
	var failures []wims.TargetFailure
	var writes []wims.ResourceWrite
	seen := map[string]bool{}
	for _, t := range targets {
		t.Rule, t.EventBusName = rule, bus
		if err := s.checkTarget(ctx, t); err != nil {
			failures = append(failures, wims.TargetFailure{TargetID: t.ID, ErrorCode: "ValidationException", ErrorMessage: wims.ErrorMessage(err)})
			continue
		}
		if seen[t.ID] {
			return nil, wims.FieldError("Targets", "target id %s is given twice", t.ID)
		}
		seen[t.ID] = true
		ids[t.ID] = true
		w, err := write(wims.ResourceUpsert, wims.KindTarget, wims.TargetKey(bus, rule, t.ID), t)
		if err != nil {
			return nil, err
		}
		writes = append(writes, w)
	}
	if len(ids) > wims.MaxTargetsPerRule {
		return nil, wims.Errorf(wims.ELIMIT, "The requested resource exceeds the maximum number allowed: a rule can have at most %d targets.", wims.MaxTargetsPerRule)
	}
	if len(writes) > 0 {
		if _, err := s.apply(ctx, writes...); err != nil {
			return nil, err
		}
	}
	return failures, nil
}

// checkTarget validates a target, including its input transformation and
// that what its ARN names exists.
func (s *Service) checkTarget(ctx context.Context, t wims.Target) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if _, err := compileInput(t); err != nil {
		return err
	}
	kind, name, _ := wims.ParseTargetARN(t.Arn)
	switch kind {
	case wims.TargetKindBus:
		ok, err := s.busExists(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			return wims.FieldError("Arn", "Event bus %s does not exist.", name)
		}
	case wims.TargetKindAPIDestination:
		if _, err := s.store.GetResource(ctx, wims.KindAPIDestination, name); err != nil {
			return notFound(err, "API destination %s does not exist.", name)
		}
	}
	return nil
}

// RemoveTargets removes targets by id; an unknown id is reported as a
// failure, the others are removed.
func (s *Service) RemoveTargets(ctx context.Context, bus, rule string, ids []string) ([]wims.TargetFailure, error) {
	bus = busName(bus)
	if len(ids) == 0 || len(ids) > 100 {
		return nil, wims.FieldError("Ids", "must have 1-100 target ids")
	}
	if _, err := s.DescribeRule(ctx, bus, rule); err != nil {
		return nil, err
	}
	var failures []wims.TargetFailure
	var writes []wims.ResourceWrite
	for _, id := range ids {
		key := wims.TargetKey(bus, rule, id)
		if _, err := s.store.GetResource(ctx, wims.KindTarget, key); err != nil {
			if wims.ErrorCode(err) != wims.ENOTFOUND {
				return nil, err
			}
			failures = append(failures, wims.TargetFailure{TargetID: id, ErrorCode: "ResourceNotFoundException",
				ErrorMessage: "Target " + id + " does not exist on rule " + rule + "."})
			continue
		}
		writes = append(writes, del(wims.KindTarget, key))
	}
	if len(writes) > 0 {
		if _, err := s.apply(ctx, writes...); err != nil {
			return nil, err
		}
	}
	return failures, nil
}

// ListTargetsByRule lists a rule's targets by id.
func (s *Service) ListTargetsByRule(ctx context.Context, bus, rule string) ([]wims.Target, error) {
	bus = busName(bus)
	if _, err := s.DescribeRule(ctx, bus, rule); err != nil {
		return nil, err
	}
	return list(ctx, s, wims.KindTarget, wims.RuleKey(bus, rule)+wims.KeySeparator, stampTarget)
}

// ruleOfKey splits a rule's resource name.
func ruleOfKey(key string) (bus, rule string) {
	bus, rule, _ = strings.Cut(key, wims.KeySeparator)
	return bus, rule
}
