package wims

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func eventFor(version, id, dt, source, region, res string, detail []byte, nano int64) Event {
	e := Event{Version: version, ID: id, DetailType: dt, Source: source, Account: EventAccount,
		Time: time.Unix(0, nano).UTC(), Region: region}
	if res != "" {
		e.Resources = []string{res, id}
	} else if nano%2 == 0 {
		e.Resources = []string{}
	}
	if len(detail) > 0 {
		e.Detail = detail
	}
	return e
}

// FuzzEventAppendJSON: AppendJSON writes what json.Marshal writes, for any
// strings and any detail json.Marshal produced.
func FuzzEventAppendJSON(f *testing.F) {
	f.Add("0", "0193f1c2-7d1e-7b3a", "cdcEvent", "wims.cdc", "local", "", []byte(`{"a":[1,"x"],"b":{"c":null}}`), int64(1733583600123456789))
	f.Add("0", "id<&>\"\\\n\u2028é", "Order Reserved", "wims.orders", "reg\x00", "arn:x", []byte(`"str"`), int64(-5))
	f.Add("", "", "", "", "", "\xff", []byte(nil), int64(0))
	f.Fuzz(func(t *testing.T, version, id, dt, source, region, res string, raw []byte, nano int64) {
		var detail []byte
		if len(raw) > 0 {
			var v any
			if json.Unmarshal(raw, &v) != nil {
				return
			}
			detail, _ = json.Marshal(v) // compact, as the relay's details are
		}
		e := eventFor(version, id, dt, source, region, res, detail, nano)
		want, werr := json.Marshal(e)
		got, gerr := e.AppendJSON(nil)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("errors differ: json.Marshal %v, AppendJSON %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\n%s\njson.Marshal:\n%s", got, want)
		}
	})
}

func BenchmarkEventEncode(b *testing.B) {
	detail := []byte(`{"meta":{"idempotencyId":"0193f1c2-7d1e-7b3a-9c1d-2f3e4a5b6c7d","origin":"wims-sqlite","seq":12345},"data":{"table":"orders","eventType":"UPDATE","key":{"orderId":"0193f1c2-7d1e-7b3a-9c1d-2f3e4a5b6c7d"},"changedColumns":["status","updatedAt","history"],"NewImage":{"orderId":"0193f1c2-7d1e-7b3a-9c1d-2f3e4a5b6c7d","customerId":"enc:v1:default:Zm9vYmFyYmF6cXV4:abcdefabcdefabcdef","sku":"MACGUFFIN-LX","quantity":3,"status":"RESERVED","createdAt":"2026-12-07T15:00:00.000Z","updatedAt":"2026-12-07T15:00:00.010Z","history":[{"status":"PENDING","at":"2026-12-07T15:00:00.000Z"},{"status":"RESERVED","at":"2026-12-07T15:00:00.010Z"}]},"OldImage":{"orderId":"0193f1c2-7d1e-7b3a-9c1d-2f3e4a5b6c7d","customerId":"enc:v1:default:Zm9vYmFyYmF6cXV4:abcdefabcdefabcdef","sku":"MACGUFFIN-LX","quantity":3,"status":"PENDING","createdAt":"2026-12-07T15:00:00.000Z","updatedAt":"2026-12-07T15:00:00.000Z","history":[{"status":"PENDING","at":"2026-12-07T15:00:00.000Z"}]}}}`)
	e := eventFor(EventVersion, "0193f1c2-7d1e-7b3a-9c1d-2f3e4a5b6c7d", CDCDetailType, CDCSource, EventRegion, "", detail, 1733583600123456789)
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.AppendJSON(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
