package platform

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/pattern"
	"github.com/wims/wims/transform"
)

// Lanes: built-in targets on the default bus that keep their own durable
// consumer on the events stream (no copy of the event per delivery).
const (
	LaneWorkflow      = "order-workflow"
	LaneNotifications = "notifications"
	LaneEventLog      = "event-log"
)

// Lanes lists every lane, in the order their consumers start.
var Lanes = []string{LaneWorkflow, LaneNotifications, LaneEventLog}

// laneOf says which lane serves a target, or "" when the fan-out must.
// Only a plain target (the whole event, no transformation) on the default
// bus qualifies: a lane hands its handler the event as it is on the stream.
func laneOf(bus string, t wims.Target) string {
	if bus != wims.DefaultBus || t.Input != "" || t.InputPath != "" || t.InputTransformer != nil {
		return ""
	}
	switch t.Arn {
	case wims.OrderWorkflowARN:
		return LaneWorkflow
	case wims.NotificationsARN:
		return LaneNotifications
	case wims.LogGroupARN(wims.EventLogGroup):
		return LaneEventLog
	}
	return ""
}

// RouteTarget is a target as the fan-out and the delivery worker use it.
type RouteTarget struct {
	wims.Target
	Key      string // wims.TargetKey
	RuleName string
	RuleARN  string
	Kind     string // wims.TargetKind*
	Name     string // what the ARN names (bus, API destination, log group)
	Render   *transform.Transformer
}

// busRoutes is one bus's enabled rules that the fan-out serves.
type busRoutes struct {
	matcher *pattern.Matcher
	targets map[string][]*RouteTarget // by rule key
}

// Snapshot is one consistent, compiled view of every resource.
type Snapshot struct {
	Generation   int64
	buses        map[string]*busRoutes
	lanes        map[string]*pattern.Matcher
	targets      map[string]*RouteTarget
	destinations map[string]wims.APIDestination
	connections  map[string]wims.Connection // secrets opened
	Rules        int
}

// Lane returns the matcher of every enabled default-bus rule with a plain
// target in the lane; it matches nothing when there are none.
func (s *Snapshot) Lane(name string) *pattern.Matcher {
	if m := s.lanes[name]; m != nil {
		return m
	}
	return emptyMatcher
}

var emptyMatcher = pattern.NewMatcher()

// Target returns the routed target with the key, or nil if it is gone.
func (s *Snapshot) Target(key string) *RouteTarget { return s.targets[key] }

// Destination returns an API destination and its connection (with its
// secret), or ok=false if either is gone.
func (s *Snapshot) Destination(name string) (wims.APIDestination, wims.Connection, bool) {
	d, ok := s.destinations[name]
	if !ok {
		return d, wims.Connection{}, false
	}
	c, ok := s.connections[d.ConnectionName]
	return d, c, ok
}

// Catalog keeps the current Snapshot, reloading it when the store's
// resource generation moves: before a write made through this instance's
// Service returns (its Changed hook calls Load; Kick if that fails), within
// the poll for writes of other instances.
type Catalog struct {
	svc  *Service
	poll time.Duration
	log  *slog.Logger

	cur  atomic.Pointer[Snapshot]
	kick chan struct{}
	mu   sync.Mutex // serialises reloads
}

// NewCatalog returns a catalog over svc's store. Load it once before use.
func NewCatalog(svc *Service, poll time.Duration, log *slog.Logger) *Catalog {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Catalog{svc: svc, poll: poll, log: log, kick: make(chan struct{}, 1)}
	c.cur.Store(&Snapshot{Generation: -1})
	return c
}

// Snapshot returns the current view; it never blocks.
func (c *Catalog) Snapshot() *Snapshot { return c.cur.Load() }

// Kick asks for a reload now (after a local write).
func (c *Catalog) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Load reloads if the generation moved, and returns the current snapshot.
func (c *Catalog) Load(ctx context.Context) (*Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen, err := c.svc.store.ResourceGeneration(ctx)
	if err != nil {
		return c.Snapshot(), err
	}
	if cur := c.Snapshot(); cur.Generation == gen {
		return cur, nil
	}
	snap, err := c.build(ctx, gen)
	if err != nil {
		return c.Snapshot(), err
	}
	c.cur.Store(snap)
	c.log.Debug("catalog reloaded", "generation", gen, "rules", snap.Rules)
	return snap, nil
}

// Run reloads on every kick and poll until ctx ends.
func (c *Catalog) Run(ctx context.Context) error {
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-c.kick:
		}
		if _, err := c.Load(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("catalog reload failed; keeping the last one", "err", err)
		}
	}
}

// build compiles every resource at generation gen (or later: a write
// between reading the generation and the resources is picked up by the
// next reload, since the generation read is older).
func (c *Catalog) build(ctx context.Context, gen int64) (*Snapshot, error) {
	s := c.svc
	snap := &Snapshot{
		Generation: gen, buses: map[string]*busRoutes{}, lanes: map[string]*pattern.Matcher{},
		targets: map[string]*RouteTarget{}, destinations: map[string]wims.APIDestination{},
		connections: map[string]wims.Connection{},
	}
	rules, err := list(ctx, s, wims.KindRule, "", stampRule)
	if err != nil {
		return nil, err
	}
	targets, err := list(ctx, s, wims.KindTarget, "", stampTarget)
	if err != nil {
		return nil, err
	}
	byRule := map[string][]wims.Target{}
	for _, t := range targets {
		k := wims.RuleKey(t.EventBusName, t.Rule)
		byRule[k] = append(byRule[k], t)
	}
	for _, r := range rules {
		if !r.Enabled() {
			continue
		}
		p, err := pattern.Compile([]byte(r.EventPattern))
		if err != nil {
			c.log.Error("stored rule has an invalid pattern; skipped", "rule", r.Name, "bus", r.EventBusName, "err", err)
			continue
		}
		snap.Rules++
		rk := wims.RuleKey(r.EventBusName, r.Name)
		for _, t := range byRule[rk] {
			if lane := laneOf(r.EventBusName, t); lane != "" {
				m := snap.lanes[lane]
				if m == nil {
					m = pattern.NewMatcher()
					snap.lanes[lane] = m
				}
				m.Add(r.Name, p)
				continue
			}
			rt, err := routeTarget(r, t)
			if err != nil {
				c.log.Error("stored target is invalid; skipped", "rule", r.Name, "target", t.ID, "err", err)
				continue
			}
			br := snap.buses[r.EventBusName]
			if br == nil {
				br = &busRoutes{matcher: pattern.NewMatcher(), targets: map[string][]*RouteTarget{}}
				snap.buses[r.EventBusName] = br
			}
			br.matcher.Add(rk, p)
			br.targets[rk] = append(br.targets[rk], rt)
			snap.targets[rt.Key] = rt
		}
	}
	dests, err := list(ctx, s, wims.KindAPIDestination, "", stampDestination)
	if err != nil {
		return nil, err
	}
	for _, d := range dests {
		snap.destinations[d.Name] = d
	}
	conns, err := s.store.ListResources(ctx, wims.KindConnection, "")
	if err != nil {
		return nil, err
	}
	for _, r := range conns {
		conn, err := s.openConnection(r)
		if err != nil {
			c.log.Error("connection secret cannot be opened; its API destinations will fail", "connection", r.Name, "err", err)
			continue
		}
		snap.connections[conn.Name] = conn
	}
	return snap, nil
}

func routeTarget(r wims.Rule, t wims.Target) (*RouteTarget, error) {
	kind, name, err := wims.ParseTargetARN(t.Arn)
	if err != nil {
		return nil, err
	}
	in, err := compileInput(t)
	if err != nil {
		return nil, err
	}
	return &RouteTarget{
		Target: t, Key: wims.TargetKey(r.EventBusName, r.Name, t.ID), RuleName: r.Name, RuleARN: r.ARN(),
		Kind: kind, Name: name, Render: in,
	}, nil
}
