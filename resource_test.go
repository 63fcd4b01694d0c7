package wims_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wims/wims"
)

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct {
		prefix, end string
		ok          bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"bus|", "bus}", true},
		{"a%", "a&", true},
		{"a\x7f", "a\u0080", true},
		{"é", "ê", true},
		{"\ud7ff", "\ue000", true}, // the surrogates are skipped
		{"a\U0010ffff", "b", true}, // carry
		{"\U0010ffff\U0010ffff", "", false},
	} {
		end, ok := wims.PrefixEnd(c.prefix)
		if end != c.end || ok != c.ok {
			t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", c.prefix, end, ok, c.end, c.ok)
		}
		if ok && !utf8.ValidString(end) {
			t.Errorf("PrefixEnd(%q) = %q: not valid UTF-8", c.prefix, end)
		}
	}
}

// FuzzPrefixEnd checks the bound's defining property: a string starts with
// the prefix exactly when it is in [prefix, end).
func FuzzPrefixEnd(f *testing.F) {
	f.Add("a", "ab")
	f.Add("\ud7ff", "\ue000")
	f.Add("a\U0010ffff", "a\U0010ffffz")
	f.Fuzz(func(t *testing.T, prefix, s string) {
		if !utf8.ValidString(prefix) || !utf8.ValidString(s) {
			return
		}
		end, ok := wims.PrefixEnd(prefix)
		in := s >= prefix && (!ok || s < end)
		if in != strings.HasPrefix(s, prefix) {
			t.Fatalf("PrefixEnd(%q) = %q, %v: %q in range %v, has prefix %v", prefix, end, ok, s, in, !in)
		}
	})
}

// memRows is a wims.ResourceRows on a map, recording its changes.
type memRows struct {
	rows    map[string]wims.Resource
	changes []wims.Change
}

func (m *memRows) Get(kind wims.ResourceKind, name string) (wims.Resource, bool, error) {
	r, ok := m.rows[string(kind)+"/"+name]
	return r, ok, nil
}

func (m *memRows) Insert(r wims.Resource) error { m.rows[string(r.Kind)+"/"+r.Name] = r; return nil }
func (m *memRows) Update(r wims.Resource) error { m.rows[string(r.Kind)+"/"+r.Name] = r; return nil }
func (m *memRows) Record(c wims.Change) error   { m.changes = append(m.changes, c); return nil }

func (m *memRows) Delete(kind wims.ResourceKind, name string) error {
	delete(m.rows, string(kind)+"/"+name)
	return nil
}

func TestApplyResourceWrites(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	stored := wims.Resource{Kind: wims.KindRule, Name: "r", Doc: json.RawMessage(`{"v":1}`), Secret: []byte("s"), CreatedAt: t0, UpdatedAt: t0}
	write := func(op wims.ResourceOp) wims.ResourceWrite {
		return wims.ResourceWrite{Op: op, Resource: wims.Resource{Kind: wims.KindRule, Name: "r", Doc: json.RawMessage(`{"v":2}`)}}
	}
	for _, c := range []struct {
		name      string
		op        wims.ResourceOp
		found     bool
		eventType string
		code      string
	}{
		{"CreateNew", wims.ResourceCreate, false, wims.ChangeInsert, ""},
		{"CreateExisting", wims.ResourceCreate, true, "", wims.ECONFLICT},
		{"UpdateExisting", wims.ResourceUpdate, true, wims.ChangeUpdate, ""},
		{"UpdateMissing", wims.ResourceUpdate, false, "", wims.ENOTFOUND},
		{"UpsertNew", wims.ResourceUpsert, false, wims.ChangeInsert, ""},
		{"UpsertExisting", wims.ResourceUpsert, true, wims.ChangeUpdate, ""},
		{"DeleteExisting", wims.ResourceDelete, true, wims.ChangeRemove, ""},
		{"DeleteMissing", wims.ResourceDelete, false, "", wims.ENOTFOUND},
	} {
		m := &memRows{rows: map[string]wims.Resource{}}
		if c.found {
			m.rows["rules/r"] = stored
		}
		out, err := wims.ApplyResourceWrites(m, []wims.ResourceWrite{write(c.op)}, t1, "")
		if wims.ErrorCode(err) != c.code {
			t.Fatalf("%s: %v, want code %q", c.name, err, c.code)
		}
		if err != nil {
			if out != nil || len(m.changes) != 0 {
				t.Fatalf("%s: failed with results %v and changes %v", c.name, out, m.changes)
			}
			continue
		}
		r := out[0]
		switch c.eventType {
		case wims.ChangeInsert:
			if r.CreatedAt != t1 || r.UpdatedAt != t1 || string(r.Doc) != `{"v":2}` || r.Secret != nil {
				t.Fatalf("%s: result %+v", c.name, r)
			}
		case wims.ChangeUpdate:
			if r.CreatedAt != t0 || r.UpdatedAt != t1 || string(r.Doc) != `{"v":2}` || r.Secret != nil {
				t.Fatalf("%s: result %+v, want CreatedAt kept and the secret replaced by none", c.name, r)
			}
		case wims.ChangeRemove:
			if string(r.Doc) != `{"v":1}` || string(r.Secret) != "s" {
				t.Fatalf("%s: result %+v, want the resource as it was", c.name, r)
			}
			if _, ok := m.rows["rules/r"]; ok {
				t.Fatalf("%s: not deleted", c.name)
			}
		}
		if c.eventType != wims.ChangeRemove {
			if got := m.rows["rules/r"]; !reflect.DeepEqual(got, r) {
				t.Fatalf("%s: stored %+v, returned %+v", c.name, got, r)
			}
		}
		if len(m.changes) != 1 {
			t.Fatalf("%s: %d changes, want 1", c.name, len(m.changes))
		}
		ch := m.changes[0]
		if ch.EventType != c.eventType || ch.Table != "rules" || string(ch.Key) != `{"name":"r"}` || ch.Time != t1 {
			t.Fatalf("%s: change %+v", c.name, ch)
		}
	}
}

func TestNewDocChange(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := json.RawMessage(`{"a": {"x":1}, "b":1, "c":"<&>"}`)
	cur := json.RawMessage(`{ "c" : "<&>", "a":{"x": 1},"d":true}`)
	c, err := wims.NewDocChange("rules", wims.ResourceKey("r"), old, cur, at, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(c.OldImage) != string(old) || string(c.NewImage) != string(cur) {
		t.Fatalf("images %s, %s; want the documents byte for byte", c.OldImage, c.NewImage)
	}
	// Whitespace and key order are not changes; a value that differs, or a
	// field on one side only, is.
	if want := []string{"b", "d"}; !slices.Equal(c.ChangedColumns, want) {
		t.Fatalf("changedColumns %v, want %v", c.ChangedColumns, want)
	}
	if _, err := wims.NewDocChange("rules", wims.ResourceKey("r"), nil, nil, at, ""); err == nil {
		t.Fatal("a change without images was built")
	}
}
