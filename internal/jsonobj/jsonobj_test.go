package jsonobj

import (
	"bytes"
	"encoding/json"
	"testing"
)

// decoded is what encoding/json makes of an object's members: the last of
// each key, with its raw value.
func decoded(data []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	err := json.Unmarshal(data, &m)
	return m, err
}

func lastOf(ms []Member) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		out[m.Key] = m.Value
	}
	return out
}

// same fails t unless ms, read from data, are want's members.
func same(t *testing.T, data []byte, ms []Member, want map[string]json.RawMessage) {
	t.Helper()
	got := lastOf(ms)
	if len(got) != len(want) {
		t.Fatalf("%q: %d members, want %d", data, len(got), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Fatalf("%q: %q = %q, want %q", data, k, got[k], v)
		}
	}
}

func TestMembers(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":1,"b":"x"}`, `{"a" : [1, {"b":[]}] , "c":null}`,
		`{"a\u0062":"q\"uote","b":{"c":"}"}}`, `{"a":1,"a":2}`, `{"t":true,"f":false,"n":-1.5e3}`,
	} {
		ms, err := Members([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want, _ := decoded([]byte(in))
		same(t, []byte(in), ms, want)
	}
	for _, in := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}x`, `{"a":"x}`, `{a:1}`, `{"a":[1,]}`, `{"a":{"b"}}`} {
		if _, err := Members([]byte(in)); err == nil {
			t.Fatalf("%s: no error", in)
		}
	}
}

// On every valid object, Members agrees with encoding/json; on anything
// else it may refuse or not, but must not panic.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[true,{"c":"d\"e"}]}`, `{"a\u00e9":"\\"}`, `{"a":1,"a":{}}`, `[1]`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := Members(data)
		want, werr := decoded(data)
		if werr != nil || want == nil {
			return
		}
		if err != nil {
			t.Fatalf("%q: %v; encoding/json decodes it", data, err)
		}
		same(t, data, ms, want)
	})
}
