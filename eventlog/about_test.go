package eventlog

import (
	"encoding/json"
	"errors"
	"testing"
)

// aboutByDecoding is aboutOf written with encoding/json, the reference
// the fuzz test holds aboutOf to: exact keys (maps, not a struct, whose
// field matching ignores case), the last of a repeated key, and "" for
// a value that is not a string.
func aboutByDecoding(event []byte) (about, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(event, &top); err != nil {
		return about{}, err
	}
	if top == nil {
		return about{}, errors.New("null is not an event")
	}
	str := func(raw json.RawMessage) string {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	obj := func(raw json.RawMessage) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(raw, &m)
		return m
	}
	detail := obj(top["detail"])
	change := obj(detail["data"])
	key, newImage, oldImage := obj(change["key"]), obj(change["NewImage"]), obj(change["OldImage"])
	return about{
		id: str(top["id"]), source: str(top["source"]), detailType: str(top["detail-type"]),
		order: firstOf(str(detail["orderId"]), str(key["orderId"]), str(newImage["orderId"]), str(oldImage["orderId"])),
		sku:   firstOf(str(detail["sku"]), str(key["sku"]), str(newImage["sku"]), str(oldImage["sku"])),
	}, nil
}

// FuzzAboutOf: for every JSON object, aboutOf reads what decoding reads.
func FuzzAboutOf(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","source":"wims.cdc","detail-type":"cdcEvent","detail":{"meta":{},"data":{"table":"orders","key":{"orderId":"o-1"},"NewImage":{"orderId":"o-1","sku":"S"},"OldImage":{"sku":"T"}}}}`,
		`{"id":"2","source":"wims.orders","detail-type":"OrderReserved","detail":{"orderId":"o-2","sku":"S","lines":[{"sku":"X"}]}}`,
		`{"source":"shop","detail":{"orderId":7,"sku":null,"data":"x"}}`,
		`{"source":"a","source":"b","Source":"c","detail":{"sku":"\u00fc\"x","sku":"y"}}`,
		`{"detail":{"data":{"key":{"sku":"k"},"NewImage":[1],"OldImage":{"orderId":"\xff"}}}}`,
		`  { "id" : "sp" , "detail" : { "orderId" : "o" } }  `,
		`not json`, `[]`, `{}`, `{"detail":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		want, werr := aboutByDecoding(event)
		got, err := aboutOf(event)
		if werr != nil {
			return // not a JSON object: aboutOf may refuse it or read what it can
		}
		if err != nil {
			t.Fatalf("aboutOf(%q): %v; decoding reads it", event, err)
		}
		if got != want {
			t.Fatalf("aboutOf(%q) = %+v, decoding reads %+v", event, got, want)
		}
	})
}

// orderChangeEvent is a change event as the relay publishes one: an
// order's update with both images.
func orderChangeEvent(b *testing.B) []byte {
	b.Helper()
	img := func(status string) json.RawMessage {
		raw, _ := json.Marshal(map[string]any{"orderId": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "customerId": "enc:v1:Zm9vYmFy", "sku": "MACGUFFIN-LX",
			"quantity": 3, "status": status, "createdAt": "2026-12-08T01:02:03.456789Z", "updatedAt": "2026-12-08T01:02:03.556789Z",
			"lines": []map[string]any{{"sku": "MACGUFFIN-LX", "quantity": 3}}, "history": []map[string]any{{"status": "PENDING", "at": "2026-12-08T01:02:03.456789Z"}}})
		return raw
	}
	ev, err := json.Marshal(map[string]any{"version": "0", "id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", "detail-type": "cdcEvent", "source": "wims.cdc",
		"account": "000000000000", "time": "2026-12-08T01:02:03Z", "region": "local", "resources": []string{},
		"detail": map[string]any{"meta": map[string]any{"idempotencyId": "x", "origin": "sqlite", "seq": 42},
			"data": map[string]any{"table": "orders", "eventType": "UPDATE", "key": map[string]string{"orderId": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
				"changedColumns": []string{"history", "status", "updatedAt"}, "NewImage": img("RESERVED"), "OldImage": img("PENDING")}}})
	if err != nil {
		b.Fatal(err)
	}
	return ev
}

func benchmarkAbout(b *testing.B, read func([]byte) (about, error)) {
	ev := orderChangeEvent(b)
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	for b.Loop() {
		if a, err := read(ev); err != nil || a.sku != "MACGUFFIN-LX" {
			b.Fatal(a, err)
		}
	}
}

// BenchmarkAboutOf against BenchmarkAboutByDecoding: what walking the
// members saves over decoding, per event the relay logs.
func BenchmarkAboutOf(b *testing.B)         { benchmarkAbout(b, aboutOf) }
func BenchmarkAboutByDecoding(b *testing.B) { benchmarkAbout(b, aboutByDecoding) }
