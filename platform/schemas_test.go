package platform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/platform"
)

// discoveryRig is the platform with a running discovery that the test
// feeds through the fan-out.
type discoveryRig struct {
	*archiveRig
	disc *platform.Discovery
}

func newDiscoveryRig(t *testing.T) *discoveryRig {
	t.Helper()
	r := newArchiveRig(t)
	disc := platform.NewDiscovery(r.svc, nil)
	r.fan.Discovery = disc
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = disc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	mustNil(t, r.svc.EnsureDefaultDiscoverer(context.Background()))
	return &discoveryRig{r, disc}
}

// send routes an event with source and detail through the fan-out.
func (r *discoveryRig) send(t *testing.T, source, detailType, detail string) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.cat.Load(ctx); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprint(time.Now().UnixNano())
	data := fmt.Appendf(nil, `{"version":"0","id":%q,"detail-type":%q,"source":%q,"account":"000000000000","time":"2026-12-03T06:00:00Z","region":"local","resources":[],"detail":%s}`,
		id, detailType, source, detail)
	mustNil(t, r.fan.Handle(ctx, &wims.Message{Subject: r.bus.Subject("events", "bus", "default"), ID: id, Header: map[string]string{}, Data: data}))
}

// waitVersion polls until the discovered schema has version want.
func (r *discoveryRig) waitVersion(t *testing.T, name, want string) wims.Schema {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := r.svc.DescribeSchema(context.Background(), wims.DiscoveredRegistry, name, "")
		if err == nil && s.LatestVersion == want {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("schema %s: want version %s; got %+v, %v", name, want, s, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// detailSchema returns the detail component of a discovered document.
func detailSchema(t *testing.T, content string) map[string]any {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	mustNil(t, json.Unmarshal([]byte(content), &doc))
	ref, _ := doc.Components.Schemas["AWSEvent"]["properties"].(map[string]any)["detail"].(map[string]any)["$ref"].(string)
	d := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	if d == nil {
		t.Fatalf("no detail component in %s", content)
	}
	return d
}

// TestDiscoveryVersionsOnlyOnShapeChange: the first event makes version 1;
// events of the same shape (other values) add nothing; a new field makes
// version 2, in which the field is optional since version 1's events lack
// it; the old version stays readable.
func TestDiscoveryVersionsOnlyOnShapeChange(t *testing.T) {
	ctx := context.Background()
	r := newDiscoveryRig(t)
	const name = "shop.orders@OrderPlaced"
	r.send(t, "shop.orders", "Order Placed", `{"orderId":"o-1","quantity":2,"placedAt":"2026-12-03T06:00:00Z"}`)
	v1 := r.waitVersion(t, name, "1")
	if v1.Type != wims.SchemaTypeOpenAPI3 || v1.Source != "shop.orders" || v1.DetailType != "Order Placed" {
		t.Fatalf("v1 = %+v", v1)
	}
	d1 := detailSchema(t, v1.Content)
	if fmt.Sprint(d1["required"]) != "[orderId placedAt quantity]" {
		t.Fatalf("v1 required = %v", d1["required"])
	}
	props := d1["properties"].(map[string]any)
	if props["quantity"].(map[string]any)["type"] != "integer" || props["placedAt"].(map[string]any)["format"] != "date-time" {
		t.Fatalf("v1 properties = %v", props)
	}
	for i := range 20 {
		r.send(t, "shop.orders", "Order Placed", fmt.Sprintf(`{"orderId":"o-%d","quantity":%d,"placedAt":"2026-12-03T06:00:%02dZ"}`, i, i, i))
	}
	// A marker event of another schema, sent after them, shows the queue
	// has drained past them.
	r.send(t, "shop.marker", "Marker", `{}`)
	r.waitVersion(t, "shop.marker@Marker", "1")
	if s, _ := r.svc.DescribeSchema(ctx, wims.DiscoveredRegistry, name, ""); s.LatestVersion != "1" {
		t.Fatalf("same shape made version %s", s.LatestVersion)
	}

	r.send(t, "shop.orders", "Order Placed", `{"orderId":"o-9","quantity":1,"placedAt":"2026-12-03T06:00:00Z","coupon":{"code":"X","percent":10.5}}`)
	v2 := r.waitVersion(t, name, "2")
	d2 := detailSchema(t, v2.Content)
	if fmt.Sprint(d2["required"]) != "[orderId placedAt quantity]" {
		t.Fatalf("v2 required = %v (coupon must be optional)", d2["required"])
	}
	if _, ok := d2["properties"].(map[string]any)["coupon"]; !ok {
		t.Fatalf("v2 has no coupon: %v", d2)
	}
	if v2.VersionCount != 2 {
		t.Fatalf("version count = %d", v2.VersionCount)
	}
	old, err := r.svc.DescribeSchema(ctx, wims.DiscoveredRegistry, name, "1")
	mustNil(t, err)
	if old.Content != v1.Content || old.Version != "1" || old.LatestVersion != "2" {
		t.Fatalf("version 1 now = %+v", old)
	}
	vs, err := r.svc.ListSchemaVersions(ctx, wims.DiscoveredRegistry, name)
	mustNil(t, err)
	if len(vs) != 2 || vs[0].Version != "1" || vs[1].Version != "2" {
		t.Fatalf("versions = %+v", vs)
	}
	exp, err := r.svc.ExportSchema(ctx, wims.DiscoveredRegistry, name, "", wims.SchemaTypeJSONSchemaDraft4)
	mustNil(t, err)
	if !strings.Contains(exp.Content, "draft-04") || !strings.Contains(exp.Content, "#/definitions/") {
		t.Fatalf("export = %s", exp.Content)
	}
	found, err := r.svc.ListSchemas(ctx, wims.SchemaFilter{Registry: wims.DiscoveredRegistry, Keywords: "ORDERS placed"})
	mustNil(t, err)
	if len(found) != 1 || found[0].Name != name {
		t.Fatalf("search = %+v", found)
	}

	// A stopped discoverer learns nothing.
	_, err = r.svc.SetDiscovererState(ctx, wims.DiscovererID(wims.DefaultBus), wims.DiscovererStopped)
	mustNil(t, err)
	r.send(t, "shop.stopped", "Ignored", `{"a":1}`)
	mustNil(t, r.svc.EnsureDefaultDiscoverer(ctx)) // keeps the stopped one
	_, err = r.svc.SetDiscovererState(ctx, wims.DiscovererID(wims.DefaultBus), wims.DiscovererStarted)
	mustNil(t, err)
	r.send(t, "shop.marker", "Marker2", `{}`)
	r.waitVersion(t, "shop.marker@Marker2", "1")
	if _, err := r.svc.DescribeSchema(ctx, wims.DiscoveredRegistry, "shop.stopped@Ignored", ""); wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("a stopped discoverer wrote a schema: %v", err)
	}
}

const orderSchema = `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["detail"],
"properties":{"detail":{"type":"object","required":["sku","quantity"],"properties":{"sku":{"type":"string"},"quantity":{"type":"integer","minimum":1}}}}}`

// TestUserSchemasAndValidation: a user registry and schema with versions;
// bad content is refused and changes nothing; a bus validating against
// the registry refuses entries that do not validate, each with its reason,
// and stores the others.
func TestUserSchemasAndValidation(t *testing.T) {
	ctx := context.Background()
	r := newArchiveRig(t)
	svc := r.svc
	_, err := svc.CreateRegistry(ctx, wims.Registry{Name: "shop", Description: "our events"})
	mustNil(t, err)
	if _, err := svc.CreateRegistry(ctx, wims.Registry{Name: "shop"}); wims.ErrorCode(err) != wims.ECONFLICT {
		t.Fatalf("duplicate registry: %v", err)
	}
	regs, err := svc.ListRegistries(ctx, "")
	mustNil(t, err)
	if len(regs) != 2 || regs[0].Name != wims.DiscoveredRegistry || regs[1].Name != "shop" {
		t.Fatalf("registries = %+v", regs)
	}
	for _, bad := range []wims.Schema{
		{Registry: "shop", Name: "shop@Order", Type: wims.SchemaTypeJSONSchemaDraft4, Content: `{"type":`},
		{Registry: "shop", Name: "shop@Order", Type: wims.SchemaTypeOpenAPI3, Content: `{"openapi":"3.0.0"}`},
		{Registry: "shop", Name: "shop@Order", Type: "Avro", Content: `{}`},
		{Registry: "shop", Name: "bad name", Type: wims.SchemaTypeJSONSchemaDraft4, Content: orderSchema},
		{Registry: "nope", Name: "shop@Order", Type: wims.SchemaTypeJSONSchemaDraft4, Content: orderSchema},
		{Registry: wims.DiscoveredRegistry, Name: "shop@Order", Type: wims.SchemaTypeJSONSchemaDraft4, Content: orderSchema},
	} {
		if _, err := svc.CreateSchema(ctx, bad); err == nil {
			t.Fatalf("CreateSchema(%+v) succeeded", bad)
		}
	}
	if list, _ := svc.ListSchemas(ctx, wims.SchemaFilter{Registry: "shop"}); len(list) != 0 {
		t.Fatalf("refused schemas were stored: %+v", list)
	}
	s, err := svc.CreateSchema(ctx, wims.Schema{Registry: "shop", Name: "shop@Order", Type: wims.SchemaTypeJSONSchemaDraft4, Content: orderSchema})
	mustNil(t, err)
	if s.Version != "1" || s.VersionCount != 1 {
		t.Fatalf("created = %+v", s)
	}

	_, err = svc.UpdateEventBus(ctx, wims.EventBus{Name: wims.DefaultBus, SchemaValidation: &wims.SchemaValidation{Registry: "shop", Mode: wims.ValidateKnown}})
	mustNil(t, err)
	res, err := svc.PutEvents(ctx, []wims.PutEventsEntry{
		{Source: "shop", DetailType: "Order", Detail: `{"sku":"A","quantity":2}`},
		{Source: "shop", DetailType: "Order", Detail: `{"sku":"A","quantity":"two"}`},
		{Source: "shop", DetailType: "Order", Detail: `{"quantity":1}`},
		{Source: "shop", DetailType: "Unknown", Detail: `{"x":1}`},
	})
	mustNil(t, err)
	if res[0].ErrorCode != "" || res[3].ErrorCode != "" {
		t.Fatalf("valid or unknown entries refused: %+v", res)
	}
	for _, i := range []int{1, 2} {
		if res[i].ErrorCode != "InvalidArgument" || !strings.Contains(res[i].ErrorMessage, "shop@Order") {
			t.Fatalf("entry %d: %+v", i, res[i])
		}
	}
	if !strings.Contains(res[1].ErrorMessage, "quantity") || !strings.Contains(res[2].ErrorMessage, "sku") {
		t.Fatalf("reasons do not name the field: %q / %q", res[1].ErrorMessage, res[2].ErrorMessage)
	}

	// A new version is what validation uses from then on.
	relaxed := strings.Replace(orderSchema, `"required":["sku","quantity"]`, `"required":["quantity"]`, 1)
	s, err = svc.UpdateSchema(ctx, wims.Schema{Registry: "shop", Name: "shop@Order", Content: relaxed})
	mustNil(t, err)
	if s.LatestVersion != "2" || s.VersionCount != 2 {
		t.Fatalf("updated = %+v", s)
	}
	res, err = svc.PutEvents(ctx, []wims.PutEventsEntry{{Source: "shop", DetailType: "Order", Detail: `{"quantity":1}`}})
	mustNil(t, err)
	if res[0].ErrorCode != "" {
		t.Fatalf("version 2 not used: %+v", res)
	}

	_, err = svc.UpdateEventBus(ctx, wims.EventBus{Name: wims.DefaultBus, SchemaValidation: &wims.SchemaValidation{Registry: "shop", Mode: wims.ValidateStrict}})
	mustNil(t, err)
	res, err = svc.PutEvents(ctx, []wims.PutEventsEntry{{Source: "shop", DetailType: "Unknown", Detail: `{"x":1}`}})
	mustNil(t, err)
	if res[0].ErrorCode != "InvalidArgument" || !strings.Contains(res[0].ErrorMessage, "no schema") {
		t.Fatalf("strict mode let an unknown entry in: %+v", res)
	}
	if err := svc.DeleteRegistry(ctx, "shop"); wims.ErrorCode(err) != wims.ECONFLICT {
		t.Fatalf("deleting a registry a bus validates against: %v", err)
	}
	_, err = svc.UpdateEventBus(ctx, wims.EventBus{Name: wims.DefaultBus})
	mustNil(t, err)
	if err := svc.DeleteSchemaVersion(ctx, "shop", "shop@Order", "2"); err == nil {
		t.Fatal("deleted the latest version")
	}
	mustNil(t, svc.DeleteSchemaVersion(ctx, "shop", "shop@Order", "1"))
	mustNil(t, svc.DeleteRegistry(ctx, "shop"))
	if _, err := svc.DescribeSchema(ctx, "shop", "shop@Order", ""); wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("schema outlived its registry: %v", err)
	}
}
