package rules

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/wims/wims/pattern"
)

// Set is a compiled, validated list of rules, indexed by target.
type Set struct {
	rules    []Rule
	targets  []Target
	matchers map[string]*pattern.Matcher
}

// Compile validates rules (unique names, valid patterns, at least one valid
// target each) and builds one matcher per target.
func Compile(rules []Rule) (*Set, error) {
	s := &Set{matchers: map[string]*pattern.Matcher{}}
	seen := map[string]bool{}
	for i, r := range rules {
		if !namePattern.MatchString(r.Name) {
			return nil, fmt.Errorf("rules[%d]: name %q must be 1-64 letters, digits, '.', '_' or '-'", i, r.Name)
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("rules[%d]: duplicate rule name %q", i, r.Name)
		}
		seen[r.Name] = true
		p, err := pattern.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("rule %s: pattern: %w", r.Name, err)
		}
		if len(r.Targets) == 0 {
			return nil, fmt.Errorf("rule %s: at least one target is required", r.Name)
		}
		for _, t := range r.Targets {
			if err := t.validate(); err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.Name, err)
			}
		}
		s.rules = append(s.rules, r)
		if r.Disabled {
			continue
		}
		for _, t := range r.Targets {
			m, ok := s.matchers[t.ID()]
			if !ok {
				m = pattern.NewMatcher()
				s.matchers[t.ID()] = m
				s.targets = append(s.targets, t)
			}
			m.Add(r.Name, p)
		}
	}
	slices.SortFunc(s.targets, func(a, b Target) int { return cmp.Compare(a.ID(), b.ID()) })
	return s, nil
}

// Rules returns the rules, in order, including disabled ones.
func (s *Set) Rules() []Rule { return slices.Clone(s.rules) }

// Targets returns every target that some enabled rule names, by ID.
func (s *Set) Targets() []Target { return slices.Clone(s.targets) }

// Matcher returns the matcher of every enabled rule naming target id, or nil.
func (s *Set) Matcher(id string) *pattern.Matcher { return s.matchers[id] }
