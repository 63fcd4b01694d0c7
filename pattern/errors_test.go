package pattern

import (
	"errors"
	"strings"
	"testing"
)

type errCase struct {
	name    string
	pattern string
	path    string
	reason  string // exact, or a prefix when it ends with "…"
}

// One case per invalid-pattern message documented in EVENTBRIDGE.md §3,
// plus the limits.
var errCases = []errCase{
	// Structure
	{"scalar leaf", `{"detail":{"quantity":5}}`, "detail.quantity", "must be an object or an array"},
	{"null leaf", `{"a":null}`, "a", "must be an object or an array"},
	{"empty array", `{"detail":{"a":[]}}`, "detail.a", "empty arrays are not allowed"},
	{"empty object", `{"detail":{}}`, "detail", "empty objects are not allowed"},
	{"empty pattern", `{}`, "", "empty objects are not allowed"},
	{"top-level array", `[{"a":["x"]}]`, "", "filter is not an object"},
	{"top-level string", `"x"`, "", "filter is not an object"},
	{"array in array", `{"a":[["x"]]}`, "a", "match value must be string, number, true, false, or null"},
	{"two keys in expression", `{"a":[{"prefix":"x","suffix":"y"}]}`, "a", "only one key allowed in match expression"},
	{"empty expression", `{"a":[{}]}`, "a", "match expression name not found"},
	{"operator case", `{"a":[{"NUMERIC":[">",1]}]}`, "a", "unrecognized match type NUMERIC"},
	{"exactly is not supported", `{"a":[{"exactly":"x"}]}`, "a", "unrecognized match type exactly"},
	{"malformed JSON", `{"a": this}`, "", "malformed JSON: unrecognized token 'this'…"},
	{"truncated JSON", `{"a":["x"]`, "", "malformed JSON: unexpected end-of-input…"},
	{"trailing JSON", `{"a":["x"]} x`, "", "malformed JSON: trailing data…"},
	{"too long", `{"a":["` + strings.Repeat("x", 2050) + `"]}`, "", "pattern is too long…"},

	// String operators
	{"prefix not string", `{"a":[{"prefix":5}]}`, "a", "prefix match pattern must be a string"},
	{"suffix not string", `{"a":[{"suffix":null}]}`, "a", "suffix match pattern must be a string"},
	{"ignore-case not string", `{"a":[{"equals-ignore-case":1}]}`, "a", "equals-ignore-case match pattern must be a string"},
	{"prefix ignore-case not string", `{"a":[{"prefix":{"equals-ignore-case":1}}]}`, "a", "equals-ignore-case match pattern must be a string"},
	{"wildcard not string", `{"a":[{"wildcard":["x"]}]}`, "a", "wildcard match pattern must be a string"},
	{"unsupported prefix pattern", `{"a":[{"prefix":{"wildcard":"x*"}}]}`, "a", "unsupported prefix pattern: wildcard"},
	{"unsupported suffix pattern", `{"a":[{"suffix":{"prefix":"x"}}]}`, "a", "unsupported suffix pattern: prefix"},
	{"consecutive wildcards", `{"a":[{"wildcard":"a**b"}]}`, "a", "wildcard: consecutive wildcard characters at pos 3"},
	{"invalid escape", `{"a":[{"wildcard":"a\\nb"}]}`, "a", "wildcard: invalid escape character at pos 2"},
	{"trailing backslash", `{"a":[{"wildcard":"ab\\"}]}`, "a", "wildcard: invalid escape character at pos 3"},
	{"too complex", `{"a":[{"wildcard":"*:*:*:*:*:event-bus/*"}]}`, "a", "wildcard: " + tooComplex},

	// anything-but
	{"anything-but null", `{"a":[{"anything-but":null}]}`, "a", "anything-but: value of anything-but must be an array or single string/number value"},
	{"anything-but bool", `{"a":[{"anything-but":true}]}`, "a", "anything-but: value of anything-but must be an array or single string/number value"},
	{"anything-but prefix ignore-case", `{"a":[{"anything-but":{"prefix":{"equals-ignore-case":"x"}}}]}`, "a", "anything-but: value of anything-but must be an array or single string/number value"},
	{"anything-but list null", `{"a":[{"anything-but":["x",null]}]}`, "a", "anything-but: inside anything but list, null is not supported"},
	{"anything-but list bool", `{"a":[{"anything-but":[true]}]}`, "a", "anything-but: inside anything but list, boolean is not supported"},
	{"anything-but list start", `{"a":[{"anything-but":[{"prefix":"x"}]}]}`, "a", "anything-but: inside anything but list, start is not supported"},
	{"anything-but mixed", `{"a":[{"anything-but":["x",1]}]}`, "a", "anything-but: inside anything but list, mixed type is not supported"},
	{"anything-but empty list", `{"a":[{"anything-but":[]}]}`, "a", "anything-but: inside anything but list, mixed type is not supported"},
	{"anything-but null prefix", `{"a":[{"anything-but":{"prefix":""}}]}`, "a", "anything-but: null prefix not allowed"},
	{"anything-but null suffix", `{"a":[{"anything-but":{"suffix":[""]}}]}`, "a", "anything-but: null suffix not allowed"},
	{"anything-but prefix not string", `{"a":[{"anything-but":{"prefix":5}}]}`, "a", "anything-but: prefix match pattern must be a string"},
	{"anything-but suffix not string", `{"a":[{"anything-but":{"suffix":true}}]}`, "a", "anything-but: suffix match pattern must be a string"},
	{"anything-but ignore-case list number", `{"a":[{"anything-but":{"equals-ignore-case":["x",1]}}]}`, "a", "anything-but: inside anything-but/equals-ignore-case list, number is not supported"},
	{"anything-but ignore-case list null", `{"a":[{"anything-but":{"equals-ignore-case":[null]}}]}`, "a", "anything-but: inside anything-but/equals-ignore-case list, null is not supported"},
	{"anything-but numeric", `{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "a", "anything-but: unsupported anything-but pattern: numeric"},
	{"anything-but bad wildcard", `{"a":[{"anything-but":{"wildcard":"a**"}}]}`, "a", "anything-but: wildcard: consecutive wildcard characters at pos 3"},

	// numeric
	{"numeric not array", `{"a":[{"numeric":5}]}`, "a", "numeric: value of numeric must be an array"},
	{"numeric bad range operator", `{"a":[{"numeric":[">",0,">",5]}]}`, "a", "numeric: bad numeric range operator: >"},
	{"numeric value not number", `{"a":[{"numeric":["<","10"]}]}`, "a", "numeric: value of < must be numeric"},
	{"numeric equals not number", `{"a":[{"numeric":["=",null]}]}`, "a", "numeric: value of equals must be numeric"},
	{"numeric too many elements", `{"a":[{"numeric":["<",10,">",0]}]}`, "a", "numeric: too many elements in numeric expression"},
	{"numeric too many terms", `{"a":[{"numeric":[">",0,"<",10,"<",20]}]}`, "a", "numeric: too many terms in numeric range expression"},
	{"numeric bottom >= top", `{"detail":{"quantity":[{"numeric":[">=",5,"<=",5]}]}}`, "detail.quantity", "numeric range: bottom must be less than top"},
	{"numeric bottom > top", `{"a":[{"numeric":[">",10,"<",0]}]}`, "a", "numeric range: bottom must be less than top"},
	{"numeric unrecognized operator", `{"a":[{"numeric":["!=",5]}]}`, "a", "numeric: unrecognized numeric range operator: !="},
	{"numeric missing value", `{"a":[{"numeric":[">"]}]}`, "a", "numeric: value of > must be numeric"},
	{"numeric invalid member", `{"a":[{"numeric":[">",0,"<"]}]}`, "a", "numeric: value of < must be numeric"},
	{"numeric empty", `{"a":[{"numeric":[]}]}`, "a", "numeric: invalid member in numeric match: ]"},
	{"numeric member not string", `{"a":[{"numeric":[5]}]}`, "a", "numeric: invalid member in numeric match: 5"},
	{"numeric not a double", `{"a":[{"numeric":["=",1.23456789012345678]}]}`, "a", "numeric: cannot compare number : 1.23456789012345678"},
	{"numeric out of range", `{"a":[{"numeric":[">",1e400]}]}`, "a", "numeric: cannot compare number : 1e400"},

	// exists, cidr
	{"exists not bool", `{"a":[{"exists":"true"}]}`, "a", "exists match pattern must be either true or false"},
	{"cidr not string", `{"a":[{"cidr":10}]}`, "a", "cidr match pattern must be a string"},
	{"cidr no slash", `{"a":[{"cidr":"10.0.0.1"}]}`, "a", "cidr: malformed CIDR, one '/' required"},
	{"cidr two slashes", `{"a":[{"cidr":"10.0.0.1/8/8"}]}`, "a", "cidr: malformed CIDR, one '/' required"},
	{"cidr mask not integer", `{"a":[{"cidr":"10.0.0.0/x"}]}`, "a", "cidr: malformed CIDR, mask bits must be an integer"},
	{"cidr nonstandard ip", `{"a":[{"cidr":"xx.11.xx/8"}]}`, "a", "cidr: nonstandard IP address: xx.11.xx"},
	{"cidr v4 /32", `{"a":[{"cidr":"10.0.0.1/32"}]}`, "a", "cidr: IPv4 mask bits must be < 32"},
	{"cidr v6 /128", `{"a":[{"cidr":"::1/128"}]}`, "a", "cidr: IPv6 mask bits must be < 128"},

	// $or
	{"$or one object", `{"$or":[{"a":["x"]}]}`, "", "$or: there must have at least 2 objects in $or relationship"},
	{"$or not objects", `{"detail":{"$or":["a","b"]}}`, "detail", "$or: only JSON object is allowed in array of $or relationship"},
	{"$or reserved name", `{"$or":[{"numeric":[">",1]},{"a":["x"]}]}`, "", "$or: numeric is ruler reserved field name which cannot be used inside $or"},
	{"$or too many combinations", `{"$or":[` + orBranches(11) + `],"b":{"$or":[` + orBranches(10) + `]},"c":{"$or":[` + orBranches(10) + `]}}`, "", "$or: too many combinations…"},
	{"$or bad branch", `{"$or":[{"a":[]},{"b":["y"]}]}`, "a", "empty arrays are not allowed"},
	// Reserved names are refused at any depth inside a $or branch: the
	// ruler's parseObjectInsideOrRelationship checks every key it meets,
	// recursing into nested objects and nested $or.
	{"$or reserved nested object", `{"$or":[{"a":{"prefix":["x"]}},{"b":["y"]}]}`, "a", "$or: prefix is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved deep", `{"$or":[{"a":{"b":{"c":{"anything-but":["x"]}}}},{"b":["y"]}]}`, "a.b.c", "$or: anything-but is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved nested $or", `{"$or":[{"$or":[{"x":["1"]},{"y":{"cidr":["1"]}}]},{"b":["y"]}]}`, "y", "$or: cidr is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved under field", `{"d":{"$or":[{"e":["1"]},{"f":{"wildcard":["x"]}}]}}`, "d.f", "$or: wildcard is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved second branch", `{"$or":[{"a":["1"]},{"equals-ignore-case":["x"]}]}`, "", "$or: equals-ignore-case is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved exists", `{"$or":[{"a":["1"]},{"b":{"exists":["x"]}}]}`, "b", "$or: exists is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved suffix", `{"$or":[{"a":["1"]},{"suffix":{"c":["x"]}}]}`, "", "$or: suffix is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved comparison sign", `{"$or":[{"a":["1"]},{"b":{">=":["x"]}}]}`, "b", "$or: >= is ruler reserved field name which cannot be used inside $or"},
	{"$or reserved future name", `{"$or":[{"a":["1"]},{"regex":["x"]}]}`, "", "$or: regex is ruler reserved field name which cannot be used inside $or"},
	// Inside a branch "$or" is always the keyword, so a non-array value fails.
	{"$or non-array inside $or", `{"$or":[{"a":{"$or":{"b":["1"]}}},{"c":["2"]}]}`, "a", "$or: it must be an array followed with $or"},
	// Every copy of a duplicate key is validated, even one a later copy overrides.
	{"duplicate invalid first copy", `{"a":[],"a":["x"]}`, "a", "empty arrays are not allowed"},
	{"duplicate invalid nested copy", `{"a":{"b":[{"prefix":5}]},"a":{"b":["x"]}}`, "a.b", "prefix match pattern must be a string"},
	{"duplicate invalid copy in $or", `{"$or":[{"a":["1"],"a":[{"numeric":["<"]}]},{"b":["2"]}]}`, "a", "numeric: value of < must be numeric"},
	{"duplicate reserved copy in $or", `{"$or":[{"a":["1"]},{"b":["2"],"numeric":["3"]}]}`, "", "$or: numeric is ruler reserved field name which cannot be used inside $or"},
	// Numbers that cannot be represented exactly: anything-but refuses them
	// (ComparableNumber.generate: "Cannot compare number"), single or listed.
	{"anything-but inexact number", `{"a":[{"anything-but":12345678901234567890123}]}`, "a", "anything-but: cannot compare number : 12345678901234567890123"},
	{"anything-but inexact in list", `{"a":[{"anything-but":[1,0.1000000000000000000001]}]}`, "a", "anything-but: cannot compare number : 0.1000000000000000000001"},
	{"anything-but out of range", `{"a":[{"anything-but":[1e400]}]}`, "a", "anything-but: cannot compare number : 1e400"},
	{"numeric inexact", `{"a":[{"numeric":["=",12345678901234567890123]}]}`, "a", "numeric: cannot compare number : 12345678901234567890123"},
	// An exact value beyond the float64 range is refused (the ruler would keep
	// it as text that only the same spelling matches).
	{"exact out of range", `{"a":[1,1e400]}`, "a", "number 1e400 is out of range: numbers must be within the float64 range (about ±1.8e308)"},
	{"exact negative out of range", `{"a":{"b":[-2e308]}}`, "a.b", "number -2e308 is out of range: numbers must be within the float64 range (about ±1.8e308)"},
}

func orBranches(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, `{"k`+string(rune('a'+i))+`":[1]}`)
	}
	return strings.Join(parts, ",")
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.pattern))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Compile(%s) = %v, want *Error", tc.pattern, err)
			}
			if pe.Path != tc.path {
				t.Errorf("Path = %q, want %q (reason %q)", pe.Path, tc.path, pe.Reason)
			}
			if p, ok := strings.CutSuffix(tc.reason, "…"); ok {
				if !strings.HasPrefix(pe.Reason, p) {
					t.Errorf("Reason = %q, want prefix %q", pe.Reason, p)
				}
			} else if pe.Reason != tc.reason {
				t.Errorf("Reason = %q, want %q", pe.Reason, tc.reason)
			}
			want := pe.Reason
			if pe.Path != "" {
				want = pe.Path + ": " + pe.Reason
			}
			if pe.Error() != want {
				t.Errorf("Error() = %q", pe.Error())
			}
		})
	}
}

// Patterns AWS accepts must compile.
func TestCompileAccepts(t *testing.T) {
	for _, src := range []string{
		`{"a":[{"cidr":"10.0.0.0/31"}]}`,
		`{"a":[{"cidr":"::/0"}]}`,
		`{"a":[{"wildcard":"*a*b*c*d*"}]}`,
		`{"a":[{"numeric":["=",301.8]}]}`,
		`{"a":[{"numeric":[">",-1e308,"<",1e308]}]}`,
		`{"a":[{"anything-but":{"wildcard":["a*","*b"]}}]}`,
		`{"a":[{"anything-but":{"equals-ignore-case":""}}]}`,
		`{"a":[{"prefix":""},{"suffix":""}]}`,
		`{"a":[1,"1",true,false,null]}`,
		`{"a":[{"exists":true},{"exists":false}]}`,
		`{"$or":[{"a":["1"]},{"b":["2"]}],"c":{"$or":[{"d":["1"]},{"e":["2"]}]}}`,
		`{"prefix":["x"],"numeric":{"exists":[5]}}`,      // operator names are fine as field names outside $or
		`{"a":{"$or":{"b":["x"]}}}`,                      // outside $or, a "$or" object is an ordinary field
		`{"a":[12345678901234567890123,1e-400]}`,         // inexact exact values are text matchers
		`{"a":[{"anything-but":[0.30000000000000004]}]}`, // exactly a double
		`{"a":["x"],"a":["y"]}`,                          // duplicates override per path
	} {
		if _, err := Compile([]byte(src)); err != nil {
			t.Errorf("Compile(%s): %v", src, err)
		}
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustCompile did not panic")
		}
	}()
	MustCompile(`{"a":5}`)
}

func TestEventErrors(t *testing.T) {
	p := MustCompile(`{"a":["x"]}`)
	deep := strings.Repeat(`{"a":`, 1001) + `1` + strings.Repeat(`}`, 1001)
	okDeep := strings.Repeat(`{"a":`, 999) + `"x"` + strings.Repeat(`}`, 999)
	for _, ev := range []string{``, `[]`, `"x"`, `5`, `{`, `{"a":}`, `{"a":"x"`, `{"a":"x"}x`,
		`{"a":"\q"}`, `{"b":tru}`, `{"b":01}`, `{"b":[1,]}`, "{\"a\":\"\x01\"}", deep,
		strings.Repeat("[", 2000)} {
		if _, err := p.Match([]byte(ev)); err == nil {
			t.Errorf("Match(%.40q) succeeded, want error", ev)
		} else {
			var ee *EventError
			if !errors.As(err, &ee) {
				t.Errorf("Match(%.40q) error %T, want *EventError", ev, err)
			}
		}
		if ValidateEvent([]byte(ev)) == nil {
			t.Errorf("ValidateEvent(%.40q) = nil", ev)
		}
	}
	if err := ValidateEvent([]byte(okDeep)); err != nil {
		t.Errorf("ValidateEvent(999 levels) = %v", err)
	}
	if err := ValidateEvent([]byte(`{"a":[1,{"b":null}],"c":"\u00e9"}`)); err != nil {
		t.Errorf("ValidateEvent = %v", err)
	}
}
