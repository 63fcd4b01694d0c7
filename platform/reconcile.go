package platform

import (
	"context"
	"fmt"
	"reflect"

	"github.com/wims/wims"
	"github.com/wims/wims/rules"
)

// webhookConnection is the connection (no auth) of the API destinations
// that --config webhook targets become.
const webhookConnection = "wims-webhooks"

// WebhookDestination names the API destination a --config webhook URL
// becomes: the webhook target's id (a hash of the URL), so the same URL in
// several rules shares one destination (and one rate limit) and the URL
// stays out of names.
func WebhookDestination(url string) string {
	return rules.Target{Type: rules.TargetWebhook, URL: url}.ID()
}

// configTarget maps a --config target to a platform target.
func configTarget(t rules.Target) wims.Target {
	switch t.Type {
	case rules.TargetOrderWorkflow:
		return wims.Target{ID: "order-workflow", Arn: wims.OrderWorkflowARN}
	case rules.TargetNotifications:
		return wims.Target{ID: "notifications", Arn: wims.NotificationsARN}
	case rules.TargetEventLog:
		return wims.Target{ID: "event-log", Arn: wims.LogGroupARN(wims.EventLogGroup)}
	default: // webhook
		name := WebhookDestination(t.URL)
		return wims.Target{ID: name, Arn: wims.APIDestinationARN(name)}
	}
}

// Reconcile makes the store's wims-managed rules (the built-ins and those
// of --config, on the default bus) exactly those given: missing ones are
// created, changed ones rewritten, and managed rules no longer given are
// deleted with their targets. Rules created by users are never touched.
// Writes happen only for differences, so a restart with the same config
// changes nothing. Several instances starting at once converge: every
// write is an upsert of the same content.
func (s *Service) Reconcile(ctx context.Context, given []rules.Rule) error {
	want := map[string]rules.Rule{}
	for _, r := range given {
		want[r.Name] = r
	}
	current, err := s.store.ListResources(ctx, wims.KindRule, wims.DefaultBus+wims.KeySeparator)
	if err != nil {
		return err
	}
	for _, res := range current {
		r, err := decode(res, stampRule)
		if err != nil {
			return err
		}
		if _, ok := want[r.Name]; r.ManagedBy == wims.ManagedByWims && !ok {
			if err := s.DeleteRule(ctx, wims.DefaultBus, r.Name, true); err != nil {
				return fmt.Errorf("reconcile: remove rule %s: %w", r.Name, err)
			}
		}
	}
	for _, cr := range given {
		if err := s.reconcileRule(ctx, cr); err != nil {
			return fmt.Errorf("reconcile rule %s: %w", cr.Name, err)
		}
	}
	return nil
}

func (s *Service) reconcileRule(ctx context.Context, cr rules.Rule) error {
	state := wims.RuleEnabled
	if cr.Disabled {
		state = wims.RuleDisabled
	}
	r := wims.Rule{Name: cr.Name, EventBusName: wims.DefaultBus, EventPattern: string(cr.Pattern), State: state,
		Description: cr.Description, ManagedBy: wims.ManagedByWims}
	old, err := s.DescribeRule(ctx, wims.DefaultBus, cr.Name)
	switch {
	case wims.ErrorCode(err) == wims.ENOTFOUND:
	case err != nil:
		return err
	case old.ManagedBy != wims.ManagedByWims:
		return fmt.Errorf("a rule named %s was created by a user; rename one of them", cr.Name)
	}
	if err != nil || old.EventPattern != r.EventPattern || old.State != r.State || old.Description != r.Description {
		if _, err := s.PutRule(ctx, r); err != nil {
			return err
		}
	}
	var targets []wims.Target
	for _, ct := range cr.Targets {
		if ct.Type == rules.TargetWebhook {
			if err := s.ensureWebhookDestination(ctx, ct.URL); err != nil {
				return err
			}
		}
		t := configTarget(ct)
		t.Rule, t.EventBusName = cr.Name, wims.DefaultBus
		targets = append(targets, t)
	}
	have, err := s.ListTargetsByRule(ctx, wims.DefaultBus, cr.Name)
	if err != nil {
		return err
	}
	if reflect.DeepEqual(have, targets) {
		return nil
	}
	keep := map[string]bool{}
	for _, t := range targets {
		keep[t.ID] = true
	}
	var stale []string
	for _, t := range have {
		if !keep[t.ID] {
			stale = append(stale, t.ID)
		}
	}
	if len(stale) > 0 {
		if _, err := s.RemoveTargets(ctx, wims.DefaultBus, cr.Name, stale); err != nil {
			return err
		}
	}
	failures, err := s.PutTargets(ctx, wims.DefaultBus, cr.Name, targets)
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		return fmt.Errorf("target %s: %s", failures[0].TargetID, failures[0].ErrorMessage)
	}
	return nil
}

// ensureWebhookDestination creates the no-auth connection and the API
// destination of a --config webhook URL if they do not exist.
func (s *Service) ensureWebhookDestination(ctx context.Context, url string) error {
	if _, err := s.DescribeConnection(ctx, webhookConnection); wims.ErrorCode(err) == wims.ENOTFOUND {
		_, err = s.CreateConnection(ctx, wims.Connection{Name: webhookConnection, AuthorizationType: wims.AuthNone,
			Description: "No authorization: the connection of --config webhook targets."})
		if err != nil && wims.ErrorCode(err) != wims.ECONFLICT {
			return err
		}
	} else if err != nil {
		return err
	}
	name := WebhookDestination(url)
	d := wims.APIDestination{Name: name, ConnectionName: webhookConnection, InvocationEndpoint: url, HTTPMethod: "POST",
		Description: "A --config webhook target."}
	old, err := s.DescribeAPIDestination(ctx, name)
	switch {
	case wims.ErrorCode(err) == wims.ENOTFOUND:
		if _, err := s.CreateAPIDestination(ctx, d); err != nil && wims.ErrorCode(err) != wims.ECONFLICT {
			return err
		}
	case err != nil:
		return err
	case old.InvocationEndpoint != url:
		_, err = s.UpdateAPIDestination(ctx, d)
		return err
	}
	return nil
}
