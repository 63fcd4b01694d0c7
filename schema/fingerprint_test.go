package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func fingerprint(t testing.TB, doc string) uint64 {
	t.Helper()
	h, ok := Fingerprint([]byte(doc))
	if !ok {
		t.Fatalf("Fingerprint(%s) not ok", doc)
	}
	return h
}

func TestFingerprintSameStructure(t *testing.T) {
	pairs := [][2]string{
		{orderEvent, strings.NewReplacer(`"SKU-1"`, `"SKU-\"2\""`, `19.99`, `0.5`, `"Berlin"`, `"K\u00f6ln"`, `2,`, `-7,`).Replace(orderEvent)},
		{`{"a":1,"b":true}`, ` { "a" : 99 , "b" : false } `},
		{`[1,2,3]`, `[4,5,6]`},
		{`"2026-12-03T06:00:00Z"`, `"1999-01-01T00:00:00.5+02:00"`},
		{`"2026-12-03"`, `"2026-12-0\u0033"`},
		{`1.5`, `2e10`},
		{`"x"`, `"a\"b\\c\/d\n"`},
	}
	for _, p := range pairs {
		if a, b := fingerprint(t, p[0]), fingerprint(t, p[1]); a != b {
			t.Errorf("fingerprints differ for same structure:\n%s\n%s", p[0], p[1])
		}
	}
}

func TestFingerprintDifferentStructure(t *testing.T) {
	docs := []string{
		`null`, `true`, `1`, `1.5`, `"x"`, `"2026-12-03"`, `"2026-12-03T06:00:00Z"`,
		`{}`, `[]`, `[[]]`, `[{}]`, `{"a":1}`, `{"a":1.0}`, `{"a":"1"}`, `{"b":1}`, `{"a":1,"b":1}`,
		`{"a":{}}`, `{"a":[]}`, `[1]`, `[1,1]`, `[null]`, `{"a\"":1}`, `{"a":{"b":1}}`, `{"a":{},"b":1}`,
		`[{"a":1},{"b":1}]`, `[{"a":1,"b":1}]`,
	}
	seen := map[uint64]string{}
	for _, d := range docs {
		h := fingerprint(t, d)
		if prev, dup := seen[h]; dup {
			t.Errorf("fingerprint collision between %s and %s", prev, d)
		}
		seen[h] = d
	}
}

// TestFingerprintStable pins the hash: fingerprints may be persisted, so a
// change here breaks stored state and must be deliberate.
func TestFingerprintStable(t *testing.T) {
	a, b := fingerprint(t, `{"a":[1,"x"]}`), fingerprint(t, `{"a":[1,"x"]}`)
	if a != b {
		t.Fatalf("fingerprint is not deterministic")
	}
	// FNV-1a 64 over: { "a" [ i s ] }
	h := uint64(fnvOffset)
	for _, c := range []byte(`{"a"[is]}`) {
		h = (h ^ uint64(c)) * fnvPrime
	}
	if a != h {
		t.Fatalf("Fingerprint = %#x, want %#x", a, h)
	}
}

func TestFingerprintInvalid(t *testing.T) {
	for _, doc := range []string{
		``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{1:2}`,
		`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `1 2`, `{} {}`, `tru`, `truex`, `nul`, `nulll`, `fals`,
		`"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", `"\`, `[1}`, `{"a":1]`, `{"a" 1}`, `{"a":1 "b":2}`,
		"\x00", `'a'`, `NaN`, `Infinity`, `[-]`, `{"a":-}`, `[1,2`,
	} {
		if h, ok := Fingerprint([]byte(doc)); ok {
			t.Errorf("Fingerprint(%q) = %#x, ok; want not ok", doc, h)
		}
		if json.Valid([]byte(doc)) {
			t.Errorf("test bug: %q is valid JSON", doc)
		}
	}
}

func TestFingerprintDepth(t *testing.T) {
	for _, tc := range []struct {
		depth int
		ok    bool
	}{{511, true}, {512, true}, {513, true}, {maxDepth, true}, {maxDepth + 1, false}} {
		for _, open := range []string{"[", `{"k":`} {
			close := "]"
			if open != "[" {
				close = "}"
			}
			doc := []byte(strings.Repeat(open, tc.depth) + "1" + strings.Repeat(close, tc.depth))
			if _, ok := Fingerprint(doc); ok != tc.ok || json.Valid(doc) != tc.ok {
				t.Errorf("depth %d %s: Fingerprint ok = %v, json.Valid = %v, want %v", tc.depth, open, ok, json.Valid(doc), tc.ok)
			}
		}
	}
	// Containers must be popped correctly after spilling past the inline stack.
	mixed := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	obj := `{"a":` + mixed + `,"b":1}`
	if _, ok := Fingerprint([]byte(obj)); !ok {
		t.Errorf("deep array inside object rejected")
	}
}

func TestFingerprintNoAllocs(t *testing.T) {
	doc := []byte(orderEvent)
	escaped := []byte(`{"t":"2026-12-03T06:00:00\u005a","s":"a\"b"}`)
	allocs := testing.AllocsPerRun(100, func() {
		Fingerprint(doc)
		Fingerprint(escaped)
	})
	if allocs != 0 {
		t.Fatalf("Fingerprint allocates %v times per run", allocs)
	}
}

// FuzzFingerprint checks the contract callers rely on: a fingerprint is only
// produced for valid JSON, and equal fingerprints mean equal inferred shapes.
func FuzzFingerprint(f *testing.F) {
	seeds := [][2]string{
		{orderEvent, orderEvent},
		{`{"a":1}`, `{"a":2}`},
		{`{"a":1}`, `{"a":1.5}`},
		{`"2026-12-03"`, `"2026-12-0\u0033"`},
		{`"2026-12-03T06:00:00Z"`, `"2026-12-03T06:00:00\u005A"`},
		{`"a\"b"`, `"ab"`},
		{`[1,"x",null,true,{}]`, `[2,"y",null,false,{}]`},
		{`{"a":1,"a":"x"}`, `{"a":1,"a":"y"}`},
		{"\"\xff\xfe\"", `"x"`},
		{` [ ] `, `[]`},
		{`[`, `]`},
		{`1e5`, `1E5`},
		{`-0`, `0`},
		{`"\ud83d\ude00"`, `"x"`},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ha, okA := Fingerprint(a)
		hb, okB := Fingerprint(b)
		if okA != json.Valid(a) {
			t.Fatalf("Fingerprint(%q) ok = %v, json.Valid = %v", a, okA, !okA)
		}
		if okB != json.Valid(b) {
			t.Fatalf("Fingerprint(%q) ok = %v, json.Valid = %v", b, okB, !okB)
		}
		if !okA || !okB {
			return
		}
		if again, _ := Fingerprint(a); again != ha {
			t.Fatalf("Fingerprint(%q) is not deterministic", a)
		}
		if ha != hb {
			return
		}
		sa, errA := Infer(a)
		sb, errB := Infer(b)
		if errA != nil || errB != nil {
			t.Fatalf("Infer failed on valid JSON: %v, %v", errA, errB)
		}
		if !Equal(sa, sb) {
			t.Fatalf("equal fingerprints, different shapes:\n%q -> %s\n%q -> %s", a, shapeJSON(sa), b, shapeJSON(sb))
		}
	})
}
