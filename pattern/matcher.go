package pattern

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Matcher holds many named patterns and reports which of them an event
// matches. Match and AppendMatches take no lock: they read an immutable
// snapshot through an atomic pointer. Add and Remove copy the rule set,
// publish a new snapshot and serialise among themselves with a mutex. The
// combined machine for a snapshot is built on first use, so adding many
// rules in a row costs one build, not one per rule.
type Matcher struct {
	mu   sync.Mutex
	snap atomic.Pointer[snapshot]
}

type snapshot struct {
	rules map[string]*Pattern
	once  sync.Once
	m     *machine
}

func (s *snapshot) machine() *machine {
	s.once.Do(func() {
		rs := make([]namedConjs, 0, len(s.rules))
		for name, p := range s.rules {
			rs = append(rs, namedConjs{name: name, conjs: p.conjs})
		}
		s.m = newMachine(rs)
	})
	return s.m
}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher {
	m := &Matcher{}
	m.snap.Store(&snapshot{rules: map[string]*Pattern{}})
	return m
}

func (m *Matcher) update(f func(map[string]*Pattern)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	rules := make(map[string]*Pattern, len(old.rules)+1)
	for k, v := range old.rules {
		rules[k] = v
	}
	f(rules)
	m.snap.Store(&snapshot{rules: rules})
}

// Add installs p under name, replacing any rule with the same name.
func (m *Matcher) Add(name string, p *Pattern) {
	m.update(func(r map[string]*Pattern) { r[name] = p })
}

// AddPattern compiles src and adds it under name. On error the Matcher is
// unchanged.
func (m *Matcher) AddPattern(name string, src []byte) error {
	p, err := Compile(src)
	if err != nil {
		return err
	}
	m.Add(name, p)
	return nil
}

// Remove deletes the rule called name, if any.
func (m *Matcher) Remove(name string) {
	m.update(func(r map[string]*Pattern) { delete(r, name) })
}

// Names returns the names of all rules, sorted.
func (m *Matcher) Names() []string {
	rules := m.snap.Load().rules
	names := make([]string, 0, len(rules))
	for k := range rules {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Match returns the names of all rules the event matches, sorted and
// without duplicates (nil when none match). It returns an *EventError when
// the event is not a well-formed JSON object.
func (m *Matcher) Match(event []byte) ([]string, error) {
	return m.AppendMatches(nil, event)
}

// AppendMatches is Match appending to dst, for hot paths that reuse a
// buffer: with a reused dst it does not allocate in steady state.
func (m *Matcher) AppendMatches(dst []string, event []byte) ([]string, error) {
	return m.snap.Load().machine().appendMatches(dst, event)
}
