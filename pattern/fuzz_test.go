package pattern

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func addSeeds(f *testing.F, two bool) {
	for _, tc := range matchCases {
		if two {
			f.Add(tc.pattern, tc.event)
		} else {
			f.Add(tc.pattern)
		}
	}
	for _, tc := range errCases {
		if two {
			f.Add(tc.pattern, `{"a":"x"}`)
		} else {
			f.Add(tc.pattern)
		}
	}
}

// FuzzCompile: Compile never panics, is deterministic, and only ever fails
// with *Error.
func FuzzCompile(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, src string) {
		p1, err1 := Compile([]byte(src))
		p2, err2 := Compile([]byte(src))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("nondeterministic: %v vs %v", err1, err2)
		}
		if err1 != nil {
			var pe *Error
			if !errors.As(err1, &pe) || err1.Error() != err2.Error() {
				t.Fatalf("bad error %T %v / %v", err1, err1, err2)
			}
			return
		}
		if p1.String() != src || p2.String() != src {
			t.Fatal("String() differs from source")
		}
	})
}

// skipRef reports inputs where the reference evaluator is not comparable:
// invalid UTF-8 (encoding/json rewrites it) and events deeper than our cap.
func skipRef(pattern, event string, err error) bool {
	if !utf8.ValidString(pattern) || !utf8.ValidString(event) {
		return true
	}
	var ee *EventError
	return errors.As(err, &ee) && strings.Contains(ee.Reason, "nesting")
}

// FuzzMatch: Match never panics, is deterministic, and agrees with the
// reference evaluator.
func FuzzMatch(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := Compile([]byte(pattern))
		if err != nil {
			return
		}
		got, err := p.Match([]byte(event))
		got2, err2 := p.Match([]byte(event))
		if got != got2 || (err == nil) != (err2 == nil) {
			t.Fatal("nondeterministic Match")
		}
		if skipRef(pattern, event, err) {
			return
		}
		want, valid := refEval([]byte(pattern), []byte(event))
		if valid != (err == nil) {
			t.Fatalf("validity: fast err=%v, reference valid=%v\npattern %s\nevent %s", err, valid, pattern, event)
		}
		if got != want {
			t.Fatalf("Match = %v, reference = %v\npattern %s\nevent %s", got, want, pattern, event)
		}
	})
}

// FuzzMatcherAgrees: a Matcher holding several patterns reports exactly the
// patterns whose own Match is true.
func FuzzMatcherAgrees(f *testing.F) {
	for i, tc := range matchCases {
		o := matchCases[(i*7+3)%len(matchCases)]
		f.Add(tc.pattern, o.pattern, ruleLowStock, tc.event)
	}
	f.Fuzz(func(t *testing.T, p1, p2, p3, event string) {
		m := NewMatcher()
		var want []string
		var evErr error
		for i, src := range []string{p1, p2, p3, p1} {
			p, err := Compile([]byte(src))
			if err != nil {
				continue
			}
			name := string(rune('a' + i))
			m.Add(name, p)
			ok, err := p.Match([]byte(event))
			evErr = err
			if ok {
				want = append(want, name)
			}
		}
		got, err := m.Match([]byte(event))
		if (err == nil) != (evErr == nil) && len(m.Names()) > 0 {
			t.Fatalf("error mismatch: %v vs %v", err, evErr)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Matcher = %v, individual = %v\nevent %s", got, want, event)
		}
	})
}
