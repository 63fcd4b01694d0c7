package wims_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wims/wims"
)

func TestChangeEventShape(t *testing.T) {
	c := wims.Change{
		Seq: 7, EventID: "e-7", Table: wims.TableInventory, EventType: wims.ChangeUpdate,
		Key:            json.RawMessage(`{"sku":"A"}`),
		ChangedColumns: []string{"quantity"},
		NewImage:       json.RawMessage(`{"sku":"A","quantity":5}`),
		OldImage:       json.RawMessage(`{"sku":"A","quantity":9}`),
		Time:           time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		TraceParent:    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	}
	ev, err := wims.ChangeEvent(c, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} {
		if _, ok := got[k]; !ok {
			t.Errorf("envelope lacks %q", k)
		}
	}
	if got["id"] != "e-7" || got["detail-type"] != "cdcEvent" || got["time"] != "2026-01-02T03:04:05Z" {
		t.Errorf("envelope = %v", got)
	}
	d := got["detail"].(map[string]any)
	data := d["data"].(map[string]any)
	meta := d["meta"].(map[string]any)
	if data["table"] != "inventory" || data["eventType"] != "UPDATE" ||
		data["NewImage"].(map[string]any)["quantity"] != 5.0 || data["OldImage"].(map[string]any)["quantity"] != 9.0 {
		t.Errorf("data = %v", data)
	}
	if meta["idempotencyId"] != "e-7" || meta["origin"] != "sqlite" || meta["traceparent"] != c.TraceParent {
		t.Errorf("meta = %v", meta)
	}
}
