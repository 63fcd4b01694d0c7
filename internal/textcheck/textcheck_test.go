package textcheck

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNULInJSON(t *testing.T) {
	for doc, want := range map[string]string{
		`{"sku":"a\u0000b"}`:                         "sku",
		`{"lines":[{"sku":"ok"},{"sku":"x\u0000"}]}`: "lines[1].sku",
		`{"a":{"b":[1,"\u0000"]}}`:                   "a.b[1]",
		`{"k\u0000":1}`:                              "k\x00",
		`{"a":[[1],[2,{"c":"\u0000"}]]}`:             "a[1][1].c",
		`{"a":"x","b":{"c":1},"d":"\u0000"}`:         "d",
	} {
		got, found := NULInJSON([]byte(doc))
		if !found || got != want {
			t.Errorf("NULInJSON(%s) = %q %v, want %q", doc, got, found, want)
		}
	}
	for _, doc := range []string{`{"a":"\\u0000"}`, `{"a":"ok"}`, `{"a":`, `[]`} {
		if path, found := NULInJSON([]byte(doc)); found {
			t.Errorf("NULInJSON(%s) found one at %q", doc, path)
		}
	}
	if Valid("a\x00") || Valid("\xff") || !Valid("ünïcode") {
		t.Error("Valid is wrong")
	}
}

// FuzzNULInJSON: NULInJSON finds a NUL exactly when decoding the document
// yields a string (or member name) holding one, and never panics.
func FuzzNULInJSON(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, `{"a":["x",{"b":"\u0000"}]}`, `{"\u0000":1}`, `{"a":"\\u0000"}`, `{}`, `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		_, found := NULInJSON([]byte(doc))
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		if has := hasNUL(v); has != found {
			t.Fatalf("NULInJSON(%q) = %v, decoded value has a NUL: %v", doc, found, has)
		}
	})
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}
