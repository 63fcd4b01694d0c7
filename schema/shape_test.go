package schema

import (
	"encoding/json"
	"testing"
)

func TestInfer(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"null", `null`, `{"null":true}`},
		{"true", `true`, `{"types":["boolean"]}`},
		{"false", `false`, `{"types":["boolean"]}`},
		{"integer", `42`, `{"types":["integer"]}`},
		{"negative zero is an integer", `-0`, `{"types":["integer"]}`},
		{"fraction", `1.0`, `{"types":["number"]}`},
		{"exponent", `1e3`, `{"types":["number"]}`},
		{"upper exponent", `1E3`, `{"types":["number"]}`},
		{"huge integer", `123456789012345678901234567890`, `{"types":["integer"]}`},
		{"string", `"hello"`, `{"types":["string"]}`},
		{"date-time", `"2026-12-03T06:00:00Z"`, `{"types":["string"],"format":"date-time"}`},
		{"date-time fraction offset", `"2026-12-03T06:00:00.123456+01:30"`, `{"types":["string"],"format":"date-time"}`},
		{"date-time lower t z", `"2026-12-03t06:00:00z"`, `{"types":["string"],"format":"date-time"}`},
		{"date-time without zone", `"2026-12-03T06:00:00"`, `{"types":["string"]}`},
		{"date-time bad hour", `"2026-12-03T24:00:00Z"`, `{"types":["string"]}`},
		{"leap second is not claimed", `"2026-12-31T23:59:60Z"`, `{"types":["string"]}`},
		{"date", `"2026-12-03"`, `{"types":["string"],"format":"date"}`},
		{"leap day", `"2024-02-29"`, `{"types":["string"],"format":"date"}`},
		{"not a leap day", `"2026-02-29"`, `{"types":["string"]}`},
		{"bad month", `"2026-13-01"`, `{"types":["string"]}`},
		{"escaped date", `"\u0032026-12-03"`, `{"types":["string"],"format":"date"}`},
		{"empty array", `[]`, `{"types":["array"]}`},
		{"array of integers", `[1,2,3]`, `{"types":["array"],"items":{"types":["integer"]}}`},
		{"array integer and number", `[1,2.5]`, `{"types":["array"],"items":{"types":["number"]}}`},
		{"array mixed", `["a",1,null]`, `{"types":["array"],"items":{"types":["integer","string"],"null":true}}`},
		{"array of only null", `[null]`, `{"types":["array"],"items":{"null":true}}`},
		{"empty object", `{}`, `{"types":["object"]}`},
		{"object", `{"b":1,"a":"x"}`, `{"types":["object"],"properties":{"a":{"types":["string"]},"b":{"types":["integer"]}},"required":["a","b"]}`},
		{"nested", `{"a":{"b":[{"c":true}]}}`,
			`{"types":["object"],"properties":{"a":{"types":["object"],"properties":{"b":{"types":["array"],"items":{"types":["object"],"properties":{"c":{"types":["boolean"]}},"required":["c"]}}},"required":["b"]}},"required":["a"]}`},
		{"array of objects with differing keys", `[{"a":1,"b":2},{"a":"x"}]`,
			`{"types":["array"],"items":{"types":["object"],"properties":{"a":{"types":["integer","string"]},"b":{"types":["integer"]}},"required":["a"]}}`},
		{"null property stays required", `{"a":null}`, `{"types":["object"],"properties":{"a":{"null":true}},"required":["a"]}`},
		{"whitespace", " \t\r\n{ \"a\" : [ ] } \n", `{"types":["object"],"properties":{"a":{"types":["array"]}},"required":["a"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shapeJSON(mustInfer(t, tt.doc)); got != tt.want {
				t.Errorf("Infer(%s)\n got %s\nwant %s", tt.doc, got, tt.want)
			}
		})
	}
}

func TestInferInvalid(t *testing.T) {
	for _, doc := range []string{``, ` `, `{`, `{"a":}`, `[1,]`, `01`, `1 2`, `{} x`, `nul`, `"\x"`, `{"a" 1}`, `'a'`} {
		if s, err := Infer([]byte(doc)); err == nil {
			t.Errorf("Infer(%q) = %s, want error", doc, shapeJSON(s))
		}
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"optional field", `{"a":1,"b":2}`, `{"a":3}`,
			`{"types":["object"],"properties":{"a":{"types":["integer"]},"b":{"types":["integer"]}},"required":["a"]}`},
		{"integer and number", `{"n":1}`, `{"n":1.5}`,
			`{"types":["object"],"properties":{"n":{"types":["number"]}},"required":["n"]}`},
		{"number and integer", `1.5`, `1`, `{"types":["number"]}`},
		{"format dropped on mismatch", `"2026-12-03"`, `"2026-12-03T06:00:00Z"`, `{"types":["string"]}`},
		{"format dropped by plain string", `"2026-12-03"`, `"x"`, `{"types":["string"]}`},
		{"format kept when equal", `"2026-12-03"`, `"2027-01-01"`, `{"types":["string"],"format":"date"}`},
		{"format kept across non-string", `"2026-12-03"`, `7`, `{"types":["integer","string"],"format":"date"}`},
		{"format kept across null", `null`, `"2026-12-03"`, `{"types":["string"],"null":true,"format":"date"}`},
		{"null added", `{"a":"x"}`, `{"a":null}`,
			`{"types":["object"],"properties":{"a":{"types":["string"],"null":true}},"required":["a"]}`},
		{"object and null", `{"a":1}`, `null`,
			`{"types":["object"],"null":true,"properties":{"a":{"types":["integer"]}},"required":["a"]}`},
		{"required kept across non-object", `{"a":1}`, `"s"`,
			`{"types":["object","string"],"properties":{"a":{"types":["integer"]}},"required":["a"]}`},
		{"arrays of objects with differing keys", `[{"a":1}]`, `[{"b":"x"},{"a":2,"b":"y"}]`,
			`{"types":["array"],"items":{"types":["object"],"properties":{"a":{"types":["integer"]},"b":{"types":["string"]}}}}`},
		{"empty array adds nothing", `[1]`, `[]`, `{"types":["array"],"items":{"types":["integer"]}}`},
		{"empty and empty", `[]`, `[]`, `{"types":["array"]}`},
		{"empty object makes all optional", `{"a":1}`, `{}`,
			`{"types":["object"],"properties":{"a":{"types":["integer"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustInfer(t, tt.a), mustInfer(t, tt.b)
			aBefore, bBefore := shapeJSON(a), shapeJSON(b)
			for _, got := range []*Shape{Merge(a, b), Merge(b, a)} {
				if s := shapeJSON(got); s != tt.want {
					t.Errorf("Merge(%s, %s)\n got %s\nwant %s", tt.a, tt.b, s, tt.want)
				}
			}
			if shapeJSON(a) != aBefore || shapeJSON(b) != bBefore {
				t.Errorf("Merge modified its arguments")
			}
		})
	}
}

func TestMergeNil(t *testing.T) {
	b := mustInfer(t, `{"a":[1]}`)
	got := Merge(nil, b)
	if !Equal(got, b) {
		t.Fatalf("Merge(nil, b) = %s, want %s", shapeJSON(got), shapeJSON(b))
	}
	if got == b || got.Properties["a"] == b.Properties["a"] || got.Properties["a"].Items == b.Properties["a"].Items {
		t.Fatalf("Merge(nil, b) shares memory with b")
	}
	if got := Merge(b, nil); !Equal(got, b) || got == b {
		t.Fatalf("Merge(b, nil) = %s, want a copy of b", shapeJSON(got))
	}
	if got := Merge(nil, nil); got != nil {
		t.Fatalf("Merge(nil, nil) = %s, want nil", shapeJSON(got))
	}
}

func TestMergeDoesNotAlias(t *testing.T) {
	a := mustInfer(t, `{"a":{"x":1}}`)
	b := mustInfer(t, `{"b":{"y":1}}`)
	m := Merge(a, b)
	m.Properties["a"].Types = append(m.Properties["a"].Types, "string")
	m.Properties["b"].Properties["y"].Null = true
	if shapeJSON(a) != `{"types":["object"],"properties":{"a":{"types":["object"],"properties":{"x":{"types":["integer"]}},"required":["x"]}},"required":["a"]}` {
		t.Errorf("a changed: %s", shapeJSON(a))
	}
	if b.Properties["b"].Properties["y"].Null {
		t.Errorf("b changed: %s", shapeJSON(b))
	}
}

func TestEqual(t *testing.T) {
	obj := mustInfer(t, `{"a":1,"b":[{"c":"2026-12-03"}]}`)
	tests := []struct {
		name string
		a, b *Shape
		want bool
	}{
		{"nil nil", nil, nil, true},
		{"nil vs shape", nil, &Shape{}, false},
		{"same structure, other values", obj, mustInfer(t, `{"b":[{"c":"1999-01-01"}],"a":7}`), true},
		{"integer vs number", mustInfer(t, `1`), mustInfer(t, `1.5`), false},
		{"format differs", mustInfer(t, `"2026-12-03"`), mustInfer(t, `"x"`), false},
		{"null differs", mustInfer(t, `[null]`), mustInfer(t, `[1]`), false},
		{"required differs", Merge(obj, mustInfer(t, `{"a":1}`)), obj, false},
		{"extra property", obj, mustInfer(t, `{"a":1,"b":[{"c":"2026-12-03"}],"d":1}`), false},
		{"items nil vs set", mustInfer(t, `[]`), mustInfer(t, `[1]`), false},
		{"empty vs nil collections", &Shape{Types: []string{}, Properties: map[string]*Shape{}, Required: []string{}}, &Shape{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(%s, %s) = %v, want %v", shapeJSON(tt.a), shapeJSON(tt.b), got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal is not symmetric")
			}
		})
	}
}

func TestShapeJSONRoundTrip(t *testing.T) {
	s := Merge(mustInfer(t, orderEvent), mustInfer(t, `{"detail":{"extra":null,"lines":[]}}`))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Shape
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !Equal(s, &back) {
		t.Fatalf("shape changed through JSON:\n%s\n%s", b, shapeJSON(&back))
	}
}

// FuzzInfer checks that inference never panics and that what it infers is
// coherent with the rest of the package: merging is idempotent, the
// envelope renders to an OpenAPI document that reads back to the same shape,
// and the schema compiled from it accepts the event it was inferred from.
func FuzzInfer(f *testing.F) {
	for _, seed := range []string{
		orderEvent, `{}`, `[]`, `null`, `1`, `1.5`, `"2026-12-03"`, `{"a":[{"b":1},{"c":"x"},null]}`,
		`[[[]]]`, `{"a":{"a":{"a":{}}}}`, `[1,"x",true,null,{},[]]`, `{"":{"~/":{"x":1}}}`,
		`{"AWSEvent":{"x":1},"awsEvent":{"y":2},"Shipping":{"z":3},"shipping":{"z":"q"}}`,
		`{"t":"2026-12-03T06:00:00+01:00","d":["2026-12-03",null]}`, `{"a":1,"a":"x"}`, "\"\xff\"", `[{"a":1},"s",{"a":null}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := Infer(doc)
		if valid := json.Valid(doc); (err == nil) != valid {
			t.Fatalf("Infer error %v but json.Valid = %v", err, valid)
		}
		if err != nil {
			return
		}
		if m := Merge(s, s); !Equal(m, s) {
			t.Fatalf("Merge(s, s) != s:\n%s\n%s", shapeJSON(m), shapeJSON(s))
		}

		event := append(append([]byte(`{"source":"src","detail-type":"Type","detail":`), doc...), '}')
		env := mustInfer(t, string(event))
		out := mustOpenAPI(t, "src", "Type", env)
		if !json.Valid(out) {
			t.Fatalf("OpenAPI output is not JSON:\n%s", out)
		}
		back, err := ShapeOf(out)
		if err != nil {
			t.Fatalf("ShapeOf: %v\n%s", err, out)
		}
		if !Equal(back, env) {
			t.Fatalf("round trip changed the shape:\n got %s\nwant %s\n%s", shapeJSON(back), shapeJSON(env), out)
		}
		v, err := Compile(TypeOpenAPI3, out)
		if err != nil {
			t.Fatalf("Compile: %v\n%s", err, out)
		}
		if err := v.Validate(event); err != nil {
			t.Fatalf("event fails the schema inferred from it: %v\n%s", err, out)
		}
	})
}
