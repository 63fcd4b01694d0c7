package http

import (
	"encoding/json"
	"testing"
)

func TestRedactJSON(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`}, // nothing to redact: the same bytes
		{`{"customerId":"c1","n":1.50,"b":true,"z":null}`, `{"customerId":"REDACTED","n":1.50,"b":true,"z":null}`},
		{`{"x":[{"customer_id":{"deep":1}},{"CustomerID":7}]}`, `{"x":[{"customer_id":"REDACTED"},{"CustomerID":"REDACTED"}]}`},
		{`{"changedColumns":["customerId"],"customer":"kept"}`, `{"changedColumns":["customerId"],"customer":"kept"}`},
		{`{"s":"{\"customerId\":\"c1\"}"}`, `{"s":"{\"customerId\":\"REDACTED\"}"}`},
		{`{"s":"{not json customerId"}`, `{"s":"{not json customerId"}`},
		{`{"customer\u0049d":"c1","h":"<&>"}`, `{"customerId":"REDACTED","h":"<&>"}`},
		{`customerId=c1`, `"REDACTED"`},
	} {
		if got := string(redactJSON([]byte(tt.in))); got != tt.want {
			t.Errorf("redactJSON(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzRedactJSON: a JSON document stays valid JSON, and no member that names
// a customer keeps a value other than Redacted.
func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{`{"customerId":"c"}`, `[{"a":{"customer_id":[1,2]}}]`, `"x"`, `{"s":"[{\"customerId\":1}]"}`, `1e400`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return
		}
		out := redactJSON([]byte(in))
		if !json.Valid(out) {
			t.Fatalf("redactJSON(%s) = %s: not JSON", in, out)
		}
		var v any
		_ = json.Unmarshal(out, &v)
		var check func(any)
		check = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if isCustomerKey(k) && e != Redacted {
						t.Fatalf("redactJSON(%s) = %s: %s kept %v", in, out, k, e)
					}
					check(e)
				}
			case []any:
				for _, e := range x {
					check(e)
				}
			}
		}
		check(v)
	})
}
