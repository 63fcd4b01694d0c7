package eventcrypt

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzMemberSpans: on any valid JSON object, memberSpans finds exactly the
// members encoding/json decodes, with their values byte for byte; on
// anything else it gives up or stays in bounds, never panicking.
func FuzzMemberSpans(f *testing.F) {
	f.Add([]byte(`{"customerId":"c-42","n":1}`), "customerId")
	f.Add([]byte(` { "a" : { "b" : [1, "x\"}" , {"c":null}] } , "a":true } `), "a")
	f.Add([]byte(`{"\u0061":1}`), "a")
	f.Add([]byte(`{}`), "x")
	f.Add([]byte(`[1,2]`), "x")
	f.Add([]byte(`{"a":`), "a")
	f.Fuzz(func(t *testing.T, doc []byte, name string) {
		spans, ok := memberSpans(doc, name)
		for _, sp := range spans {
			if sp.start < 0 || sp.end > len(doc) || sp.start > sp.end {
				t.Fatalf("span %v out of %d bytes", sp, len(doc))
			}
		}
		if !json.Valid(doc) {
			return
		}
		want, isObject := decodedValues(doc, name)
		if !isObject {
			if ok {
				t.Fatalf("memberSpans followed a non-object %q", doc)
			}
			return
		}
		if !ok {
			t.Fatalf("memberSpans gave up on the object %q", doc)
		}
		if len(spans) != len(want) {
			t.Fatalf("%d members %q in %q, want %d", len(spans), name, doc, len(want))
		}
		for i, sp := range spans {
			if !bytes.Equal(doc[sp.start:sp.end], want[i]) {
				t.Fatalf("member %d = %q, want %q", i, doc[sp.start:sp.end], want[i])
			}
		}
	})
}

// decodedValues is memberSpans done with encoding/json: the raw values of
// the top-level members named name, in order.
func decodedValues(doc []byte, name string) ([][]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out [][]byte
	for dec.More() {
		t, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if t == name {
			out = append(out, v)
		}
	}
	return out, true
}

func BenchmarkSealDetail(b *testing.B) {
	k, err := ParseKey("k1:" + string(bytes.Repeat([]byte("ab"), 32)))
	if err != nil {
		b.Fatal(err)
	}
	r, err := New([]Key{k}, nil)
	if err != nil {
		b.Fatal(err)
	}
	detail := []byte(`{"meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","origin":"wims"},` +
		`"data":{"table":"orders","eventType":"MODIFY","key":{"orderId":"01a23c10-3c9a-796b-b2fc-db42259e462b"},` +
		`"changedColumns":["status","updatedAt"],"NewImage":{"orderId":"01a23c10-3c9a-796b-b2fc-db42259e462b",` +
		`"customerId":"c-42","sku":"MACGUFFIN-LX","quantity":3,"status":"RESERVED","createdAt":"2026-12-03T13:20:26.778801Z",` +
		`"updatedAt":"2026-12-03T13:20:27.075238Z"},"OldImage":{"orderId":"01a23c10-3c9a-796b-b2fc-db42259e462b",` +
		`"customerId":"c-42","sku":"MACGUFFIN-LX","quantity":3,"status":"PENDING","createdAt":"2026-12-03T13:20:26.778801Z",` +
		`"updatedAt":"2026-12-03T13:20:26.778801Z"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.SealDetail(detail); err != nil {
			b.Fatal(err)
		}
	}
}
