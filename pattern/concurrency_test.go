package pattern

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestMatcherBasics(t *testing.T) {
	m := NewMatcher()
	if err := m.AddPattern("orders", []byte(ruleOrdersInsert)); err != nil {
		t.Fatal(err)
	}
	if err := m.AddPattern("low", []byte(ruleLowStock)); err != nil {
		t.Fatal(err)
	}
	if err := m.AddPattern("bad", []byte(`{"a":1}`)); err == nil {
		t.Fatal("AddPattern accepted an invalid pattern")
	}
	m.Add("any", MustCompile(`{"detail":{"data":{"table":[{"exists":true}]}}}`))
	if got := m.Names(); !slices.Equal(got, []string{"any", "low", "orders"}) {
		t.Fatalf("Names = %v", got)
	}
	ev := []byte(`{"detail":{"data":{"table":"orders","eventType":"INSERT"}}}`)
	got, err := m.Match(ev)
	if err != nil || !slices.Equal(got, []string{"any", "orders"}) {
		t.Fatalf("Match = %v, %v", got, err)
	}
	// Replacing a rule by name.
	m.Add("orders", MustCompile(`{"detail":{"data":{"eventType":["REMOVE"]}}}`))
	got, _ = m.Match(ev)
	if !slices.Equal(got, []string{"any"}) {
		t.Fatalf("after replace: %v", got)
	}
	m.Remove("any")
	m.Remove("nope")
	got, _ = m.Match(ev)
	if len(got) != 0 {
		t.Fatalf("after remove: %v", got)
	}
	if _, err := m.Match([]byte(`[1]`)); err == nil {
		t.Fatal("non-object event accepted")
	}
	// $or branches matching together report the rule once.
	m.Add("or", MustCompile(`{"$or":[{"a":["x"]},{"b":["y"]}]}`))
	got, _ = m.Match([]byte(`{"a":"x","b":"y"}`))
	if !slices.Equal(got, []string{"or"}) {
		t.Fatalf("$or dedupe: %v", got)
	}
}

func TestMatcherConcurrent(t *testing.T) {
	m := NewMatcher()
	m.Add("fixed", MustCompile(ruleOrdersInsert))
	ev := []byte(`{"detail":{"data":{"table":"orders","eventType":"INSERT","n":5}}}`)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []string
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				buf, err = m.AppendMatches(buf[:0], ev)
				if err != nil || !slices.Contains(buf, "fixed") {
					t.Errorf("concurrent match: %v %v", buf, err)
					return
				}
			}
		}()
	}
	for i := 0; i < 300; i++ {
		name := fmt.Sprintf("r%d", i%17)
		if i%3 == 2 {
			m.Remove(name)
		} else {
			m.Add(name, MustCompile(fmt.Sprintf(`{"detail":{"data":{"n":[{"numeric":[">",%d]}]}}}`, i%10)))
		}
	}
	close(stop)
	wg.Wait()
}

func TestAppendMatchesNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool is randomised under -race")
	}
	m := NewMatcher()
	for i, tc := range matchCases {
		m.Add(fmt.Sprintf("r%03d", i), MustCompile(tc.pattern))
	}
	ev := []byte(`{"detail":{"data":{"table":"orders","eventType":"INSERT","NewImage":{"quantity":5}}},"a":["x","y"],"ip":"10.0.0.1","region":"us-east-1"}`)
	buf := make([]string, 0, 64)
	buf, _ = m.AppendMatches(buf[:0], ev)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = m.AppendMatches(buf[:0], ev)
	})
	if allocs != 0 {
		t.Errorf("AppendMatches allocates %.1f times per run", allocs)
	}
	if len(buf) == 0 {
		t.Error("expected some matches")
	}
	// Inexact and out-of-range numbers take the slow classification path, and
	// exists:false in arrays takes the consistency search; neither may allocate.
	for _, ev := range [][]byte{
		[]byte(`{"a":[12345678901234567890123,0.1000000000000000000001,1e400,-1e-400,0.30000000000000004]}`),
		[]byte(`{"a":[{"c":"x"},{"b":1,"c":"y"}],"lines":[{"sku":"A","tags":[{"v":1}]},{"sku":"B","tags":[{"k":1}]}]}`),
	} {
		buf, _ = m.AppendMatches(buf[:0], ev)
		if allocs := testing.AllocsPerRun(100, func() { buf, _ = m.AppendMatches(buf[:0], ev) }); allocs != 0 {
			t.Errorf("AppendMatches(%s) allocates %.1f times per run", ev, allocs)
		}
		if len(buf) == 0 {
			t.Errorf("AppendMatches(%s): expected some matches", ev)
		}
	}
}
