package platform

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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

// busArchives is one bus's archives.
type busArchives struct {
	matcher  *pattern.Matcher // archives with a pattern, by name
	all      []string         // archives without one: every event
	subjects map[string]string
}

// Snapshot is one consistent, compiled view of every resource.
type Snapshot struct {
	Generation int64
	buses      map[string]*busRoutes
	// replays routes replayed events: every enabled rule of a bus, with
	// the targets that lanes serve live as well.
	replays      map[string]*busRoutes
	archives     map[string]*busArchives
	lanes        map[string]*pattern.Matcher
	targets      map[string]*RouteTarget
	destinations map[string]wims.APIDestination
	connections  map[string]wims.Connection // secrets opened
	// discover holds the buses with a started schema discoverer.
	discover map[string]bool
	Rules    int
}

// Discovers reports whether a bus has a started schema discoverer.
func (s *Snapshot) Discovers(bus string) bool { return s.discover[bus] }

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
	// ensured remembers the archives whose storage this instance has
	// ensured, with their retention (+1, so 0 means not yet).
	ensured map[string]time.Duration
}

// NewCatalog returns a catalog over svc's store. Load it once before use.
func NewCatalog(svc *Service, poll time.Duration, log *slog.Logger) *Catalog {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Catalog{svc: svc, poll: poll, log: log, kick: make(chan struct{}, 1), ensured: map[string]time.Duration{}}
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
		replays: map[string]*busRoutes{}, archives: map[string]*busArchives{},
		targets: map[string]*RouteTarget{}, destinations: map[string]wims.APIDestination{},
		connections: map[string]wims.Connection{}, discover: map[string]bool{},
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
		p, err := c.svc.compile([]byte(r.EventPattern))
		if err != nil {
			c.log.Error("stored rule has an invalid pattern; skipped", "rule", r.Name, "bus", r.EventBusName, "err", err)
			continue
		}
		snap.Rules++
		rk := wims.RuleKey(r.EventBusName, r.Name)
		for _, t := range byRule[rk] {
			rt, err := routeTarget(r, t)
			if err != nil {
				c.log.Error("stored target is invalid; skipped", "rule", r.Name, "target", t.ID, "err", err)
				continue
			}
			snap.targets[rt.Key] = rt
			addRoute(snap.replays, r.EventBusName, rk, p, rt)
			if lane := laneOf(r.EventBusName, t); lane != "" {
				m := snap.lanes[lane]
				if m == nil {
					m = pattern.NewMatcher()
					snap.lanes[lane] = m
				}
				m.Add(r.Name, p)
				continue
			}
			addRoute(snap.buses, r.EventBusName, rk, p, rt)
		}
	}
	if err := c.buildArchives(ctx, snap); err != nil {
		return nil, err
	}
	discoverers, err := list(ctx, s, wims.KindDiscoverer, "", stampDiscoverer)
	if err != nil {
		return nil, err
	}
	for _, d := range discoverers {
		snap.discover[d.EventBus] = snap.discover[d.EventBus] || d.State == wims.DiscovererStarted
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

func addRoute(routes map[string]*busRoutes, bus, ruleKey string, p *pattern.Pattern, rt *RouteTarget) {
	br := routes[bus]
	if br == nil {
		br = &busRoutes{matcher: pattern.NewMatcher(), targets: map[string][]*RouteTarget{}}
		routes[bus] = br
	}
	br.matcher.Add(ruleKey, p)
	br.targets[ruleKey] = append(br.targets[ruleKey], rt)
}

// buildArchives compiles the archives, making sure each one's storage
// exists (it may have been lost with the bus's files; the archive then
// starts empty rather than stalling the fan-out).
func (c *Catalog) buildArchives(ctx context.Context, snap *Snapshot) error {
	st := c.svc.archives
	if st == nil {
		return nil
	}
	archives, err := list(ctx, c.svc, wims.KindArchive, "", stampArchive)
	if err != nil {
		return err
	}
	for _, a := range archives {
		if c.ensured[a.Name] != a.Retention()+1 {
			if err := st.EnsureArchive(ctx, a.Name, a.Retention()); err != nil {
				return fmt.Errorf("archive %s: %w", a.Name, err)
			}
			c.ensured[a.Name] = a.Retention() + 1
		}
		ba := snap.archives[a.EventBus]
		if ba == nil {
			ba = &busArchives{matcher: pattern.NewMatcher(), subjects: map[string]string{}}
			snap.archives[a.EventBus] = ba
		}
		ba.subjects[a.Name] = st.ArchiveSubject(a.Name)
		if a.EventPattern == "" {
			ba.all = append(ba.all, a.Name)
			continue
		}
		p, err := c.svc.compile([]byte(a.EventPattern))
		if err != nil {
			c.log.Error("stored archive has an invalid pattern; skipped", "archive", a.Name, "err", err)
			continue
		}
		ba.matcher.Add(a.Name, p)
	}
	return nil
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

// archivesFor appends to dst the archives of bus that keep event.
func (s *Snapshot) archivesFor(dst []string, bus string, event []byte) ([]string, error) {
	ba := s.archives[bus]
	if ba == nil {
		return dst, nil
	}
	dst = append(dst, ba.all...)
	return ba.matcher.AppendMatches(dst, event)
}

// replayTargets returns the targets a replayed event goes to: those of the
// enabled rules of bus that match it, only of the rules named by
// filterArns when there are any.
func (s *Snapshot) replayTargets(bus string, event []byte, filterArns []string) ([]*RouteTarget, error) {
	br := s.replays[bus]
	if br == nil {
		return nil, nil
	}
	names, err := br.matcher.Match(event)
	if err != nil {
		return nil, err
	}
	var out []*RouteTarget
	for _, rk := range names {
		for _, t := range br.targets[rk] {
			if len(filterArns) == 0 || slices.Contains(filterArns, t.RuleARN) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}
