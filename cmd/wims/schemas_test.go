package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/schemas"
	"github.com/aws/aws-sdk-go-v2/service/schemas/types"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// TestSchemaDiscovery: on both stores, the default bus's discoverer (on by
// default) finds the schemas of wims' own order events, and of events put
// on the bus; a changed shape makes a new version, the same shape none.
func TestSchemaDiscovery(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			_, payURL := fastPayments(t, paymentsmock.Options{})
			a := startTestApp(t, func(c *Config) {
				c.PaymentsURL = payURL
				if store == "postgres" {
					c.Store = pgtest.URL(t)
				}
			})
			ctx := context.Background()
			a.putItem("SCH", 10, 1)
			o := a.placeOrder("schema-customer", 1, "SCH")
			waitStatus(t, a, o.ID, wims.OrderPaid)
			// A paid order's events: Order Reserved and Payment Succeeded.
			for _, name := range []string{wims.SourceOrders + "@OrderReserved", wims.SourcePayments + "@PaymentSucceeded"} {
				eventually(t, 20*time.Second, func() error {
					s, err := a.platform.DescribeSchema(ctx, wims.DiscoveredRegistry, name, "")
					if err != nil {
						return err
					}
					if !strings.Contains(s.Content, `"orderId"`) || !strings.Contains(s.Content, `"x-amazon-events-source": "`) {
						return fmt.Errorf("schema %s does not describe an order event:\n%s", s.Name, s.Content)
					}
					return nil
				})
			}

			put := func(detail string) {
				res, err := a.platform.PutEvents(ctx, []wims.PutEventsEntry{{Source: "shop", DetailType: "Sale", Detail: detail}})
				mustNil(t, err)
				if res[0].ErrorCode != "" {
					t.Fatalf("put: %+v", res)
				}
			}
			version := func(want string) {
				eventually(t, 20*time.Second, func() error {
					s, err := a.platform.DescribeSchema(ctx, wims.DiscoveredRegistry, "shop@Sale", "")
					if err != nil || s.LatestVersion != want {
						return fmt.Errorf("shop@Sale: %+v %v, want version %s", s.LatestVersion, err, want)
					}
					return nil
				})
			}
			put(`{"sku":"A","amount":3}`)
			version("1")
			put(`{"sku":"B","amount":4}`)
			put(`{"sku":"C","amount":5,"note":"gift"}`)
			version("2")
			vs, err := a.platform.ListSchemaVersions(ctx, wims.DiscoveredRegistry, "shop@Sale")
			mustNil(t, err)
			if len(vs) != 2 {
				t.Fatalf("versions = %+v (the same shape must add none)", vs)
			}
		})
	}
}

func schemasClient(a *testApp, creds aws.CredentialsProvider) *schemas.Client {
	return schemas.New(schemas.Options{Region: "local", BaseEndpoint: aws.String(a.url), Credentials: creds, RetryMaxAttempts: 1})
}

const draft4Order = `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"detail":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}}}`

// TestSchemasSDK drives the Schemas API through the real aws-sdk-go-v2
// client: registries, schemas and their versions, export, search,
// pagination, discoverers and AWS's typed errors; then signed requests
// with a read key (which may look and may not change).
func TestSchemasSDK(t *testing.T) {
	a := startTestApp(t, func(c *Config) {
		c.APIKeys = []string{"admin=admin-secret-0123456789", "ro=read-secret-0123456789:read"}
	})
	ctx := context.Background()
	c := schemasClient(a, credentials.NewStaticCredentialsProvider("admin", "admin-secret-0123456789", ""))

	reg, err := c.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("shop"), Description: aws.String("ours")})
	mustNil(t, err)
	if *reg.RegistryArn != wims.RegistryARN("shop") {
		t.Fatalf("RegistryArn = %s", *reg.RegistryArn)
	}
	_, err = c.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("shop")})
	var conflict *types.ConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("second CreateRegistry: %v", err)
	}
	for _, name := range []string{"shop@Order", "shop@Refund", "shop@Return"} {
		_, err := c.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String(name),
			Type: types.TypeJSONSchemaDraft4, Content: aws.String(draft4Order)})
		mustNil(t, err)
	}
	_, err = c.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("shop@Bad"),
		Type: types.TypeOpenApi3, Content: aws.String(`{"openapi":"3.0.0"}`)})
	var bad *types.BadRequestException
	if !errors.As(err, &bad) {
		t.Fatalf("CreateSchema with bad content: %v", err)
	}
	up, err := c.UpdateSchema(ctx, &schemas.UpdateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("shop@Order"),
		Content: aws.String(strings.Replace(draft4Order, `["sku"]`, `["sku","quantity"]`, 1))})
	mustNil(t, err)
	if *up.SchemaVersion != "2" {
		t.Fatalf("UpdateSchema version = %s", *up.SchemaVersion)
	}
	d, err := c.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("shop@Order"), SchemaVersion: aws.String("1")})
	mustNil(t, err)
	if *d.SchemaVersion != "1" || *d.Content != draft4Order || d.VersionCreatedDate == nil || *d.Type != "JSONSchemaDraft4" {
		t.Fatalf("DescribeSchema v1 = %+v", d)
	}
	_, err = c.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("shop@Nope")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeSchema of a missing schema: %v", err)
	}
	var names []string
	p := schemas.NewListSchemasPaginator(c, &schemas.ListSchemasInput{RegistryName: aws.String("shop"), Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		mustNil(t, err)
		for _, s := range page.Schemas {
			names = append(names, *s.SchemaName)
		}
	}
	if strings.Join(names, ",") != "shop@Order,shop@Refund,shop@Return" {
		t.Fatalf("paginated ListSchemas = %v", names)
	}
	vs, err := c.ListSchemaVersions(ctx, &schemas.ListSchemaVersionsInput{RegistryName: aws.String("shop"), SchemaName: aws.String("shop@Order")})
	mustNil(t, err)
	if len(vs.SchemaVersions) != 2 || *vs.SchemaVersions[1].SchemaVersion != "2" {
		t.Fatalf("ListSchemaVersions = %+v", vs.SchemaVersions)
	}
	found, err := c.SearchSchemas(ctx, &schemas.SearchSchemasInput{RegistryName: aws.String("shop"), Keywords: aws.String("re")})
	mustNil(t, err)
	if len(found.Schemas) != 2 || len(found.Schemas[0].SchemaVersions) != 1 {
		t.Fatalf("SearchSchemas = %+v", found.Schemas)
	}
	ex, err := c.ExportSchema(ctx, &schemas.ExportSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("shop@Order"), Type: aws.String("JSONSchemaDraft4")})
	mustNil(t, err)
	if !json.Valid([]byte(*ex.Content)) || *ex.SchemaVersion != "2" {
		t.Fatalf("ExportSchema = %+v", ex)
	}

	ds, err := c.ListDiscoverers(ctx, &schemas.ListDiscoverersInput{})
	mustNil(t, err)
	if len(ds.Discoverers) != 1 || *ds.Discoverers[0].SourceArn != wims.BusARN(wims.DefaultBus) || ds.Discoverers[0].State != types.DiscovererStateStarted {
		t.Fatalf("ListDiscoverers = %+v", ds.Discoverers)
	}
	id := ds.Discoverers[0].DiscovererId
	st, err := c.StopDiscoverer(ctx, &schemas.StopDiscovererInput{DiscovererId: id})
	mustNil(t, err)
	if st.State != types.DiscovererStateStopped {
		t.Fatalf("StopDiscoverer = %+v", st)
	}
	_, err = c.CreateDiscoverer(ctx, &schemas.CreateDiscovererInput{SourceArn: aws.String(wims.BusARN(wims.DefaultBus))})
	if !errors.As(err, &conflict) {
		t.Fatalf("second discoverer on a bus: %v", err)
	}

	ro := schemasClient(a, credentials.NewStaticCredentialsProvider("ro", "read-secret-0123456789", ""))
	if _, err := ro.ListRegistries(ctx, &schemas.ListRegistriesInput{}); err != nil {
		t.Fatalf("read key cannot list: %v", err)
	}
	_, err = ro.DeleteSchema(ctx, &schemas.DeleteSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("shop@Order")})
	var forbidden *types.ForbiddenException
	if !errors.As(err, &forbidden) {
		t.Fatalf("read key deleted a schema: %v", err)
	}
	wrong := schemasClient(a, credentials.NewStaticCredentialsProvider("admin", "wrong-secret-0123456789", ""))
	_, err = wrong.ListRegistries(ctx, &schemas.ListRegistriesInput{})
	var unauthorized *types.UnauthorizedException
	if !errors.As(err, &unauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	mustNil(t, func() error {
		_, err := c.DeleteRegistry(ctx, &schemas.DeleteRegistryInput{RegistryName: aws.String("shop")})
		return err
	}())
}

// TestAWSCLISchemas: `aws schemas …` against wims: discovered schemas of
// events put with `aws events put-events`, describe, versions, export,
// search, and a user registry and schema.
func TestAWSCLISchemas(t *testing.T) {
	bin := awsCLI(t)
	a := startTestApp(t, nil)
	_, env := cliHome(t)
	env = append(env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")
	events := cli{t: t, bin: bin, url: a.url, env: env}
	sc := cli{t: t, bin: bin, url: a.url, env: env, service: "schemas"}

	events.must(nil, "put-events", "--entries", `[{"Source":"shop","DetailType":"Item Sold","Detail":"{\"sku\":\"A\",\"at\":\"2026-12-03T06:00:00Z\"}"}]`)
	eventually(t, 20*time.Second, func() error {
		var out struct{ Schemas []struct{ SchemaName string } }
		if _, err := sc.run(&out, "list-schemas", "--registry-name", wims.DiscoveredRegistry, "--schema-name-prefix", "shop@"); err != nil {
			return err
		}
		if len(out.Schemas) != 1 || out.Schemas[0].SchemaName != "shop@ItemSold" {
			return fmt.Errorf("list-schemas = %+v", out)
		}
		return nil
	})
	var d struct{ Content, SchemaVersion, Type string }
	sc.must(&d, "describe-schema", "--registry-name", wims.DiscoveredRegistry, "--schema-name", "shop@ItemSold")
	if d.SchemaVersion != "1" || d.Type != "OpenApi3" || !strings.Contains(d.Content, `"format": "date-time"`) {
		t.Fatalf("describe-schema = %+v", d)
	}
	var ex struct{ Content string }
	sc.must(&ex, "export-schema", "--registry-name", wims.DiscoveredRegistry, "--schema-name", "shop@ItemSold", "--type", "JSONSchemaDraft4")
	if !strings.Contains(ex.Content, "draft-04") {
		t.Fatalf("export-schema = %s", ex.Content)
	}
	var found struct{ Schemas []struct{ SchemaName string } }
	sc.must(&found, "search-schemas", "--registry-name", wims.DiscoveredRegistry, "--keywords", "sold")
	if len(found.Schemas) != 1 {
		t.Fatalf("search-schemas = %+v", found)
	}
	var ds struct {
		Discoverers []struct{ DiscovererId, State string }
	}
	sc.must(&ds, "list-discoverers")
	if len(ds.Discoverers) != 1 || ds.Discoverers[0].State != "STARTED" {
		t.Fatalf("list-discoverers = %+v", ds)
	}

	sc.must(nil, "create-registry", "--registry-name", "shop")
	file := filepath.Join(t.TempDir(), "order.json")
	mustNil(t, os.WriteFile(file, []byte(draft4Order), 0o600))
	var created struct{ SchemaVersion string }
	sc.must(&created, "create-schema", "--registry-name", "shop", "--schema-name", "shop@Order", "--type", "JSONSchemaDraft4", "--content", "file://"+file)
	if created.SchemaVersion != "1" {
		t.Fatalf("create-schema = %+v", created)
	}
	var vs struct {
		SchemaVersions []struct{ SchemaVersion string }
	}
	sc.must(&vs, "list-schema-versions", "--registry-name", "shop", "--schema-name", "shop@Order")
	if len(vs.SchemaVersions) != 1 {
		t.Fatalf("list-schema-versions = %+v", vs)
	}
	if stderr, err := sc.run(nil, "describe-schema", "--registry-name", "shop", "--schema-name", "shop@Nope"); err == nil || !strings.Contains(stderr, "NotFoundException") {
		t.Fatalf("describe-schema of a missing schema: %v %s", err, stderr)
	}
	sc.must(nil, "delete-schema", "--registry-name", "shop", "--schema-name", "shop@Order")
	sc.must(nil, "delete-registry", "--registry-name", "shop")
}

// TestSchemaCommands: wims registries|schemas|discoverers and bus
// validation through the CLI; PutEvents then refuses what does not
// validate, with the reason.
func TestSchemaCommands(t *testing.T) {
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{"admin-key"} })
	t.Setenv("WIMS_URL", a.url)
	t.Setenv("WIMS_API_KEY", "admin-key")
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := runClient(t, args...)
		if code != want {
			t.Fatalf("wims %s: exit %d, want %d: %s %s", strings.Join(args, " "), code, want, out, errs)
		}
		return out + errs
	}
	if out := run(0, "discoverers", "list"); !strings.Contains(out, wims.DiscovererID(wims.DefaultBus)) || !strings.Contains(out, "STARTED") {
		t.Fatalf("discoverers list: %s", out)
	}
	run(0, "registries", "create", "shop", "--description", "our events")
	file := filepath.Join(t.TempDir(), "order.json")
	mustNil(t, os.WriteFile(file, []byte(draft4Order), 0o600))
	run(0, "schemas", "create", "shop@Order", "--registry", "shop", "--content", "@"+file)
	if out := run(0, "schemas", "get", "shop@Order", "--registry", "shop"); !strings.Contains(out, "version 1 of 1") || !strings.Contains(out, `"sku"`) {
		t.Fatalf("schemas get: %s", out)
	}
	if out := run(1, "schemas", "create", "shop@Bad", "--registry", "shop", "--content", `{"type":`); !strings.Contains(out, "content") {
		t.Fatalf("bad content: %s", out)
	}
	run(0, "buses", "update", "default", "--validate", "shop")
	code, out, errs := runClient(t, "events", "put", "--source", "shop", "--detail-type", "Order", "--detail", `{"quantity":1}`)
	if !strings.Contains(out+errs, "shop@Order") || !strings.Contains(out+errs, "sku") {
		t.Fatalf("events put of an invalid entry: exit %d: %s %s", code, out, errs)
	}
	run(0, "buses", "update", "default")
	mustNil(t, func() error {
		_, err := a.platform.PutEvents(context.Background(), []wims.PutEventsEntry{{Source: "shop", DetailType: "Order", Detail: `{"quantity":1}`}})
		return err
	}())
	eventually(t, 20*time.Second, func() error {
		if out := run(0, "schemas", "list"); !strings.Contains(out, "shop@Order") {
			return fmt.Errorf("discovered schemas: %s", out)
		}
		return nil
	})
	if out := run(0, "schemas", "export", "shop@Order"); !strings.Contains(out, "draft-04") {
		t.Fatalf("schemas export: %s", out)
	}
	_ = wimshttp.Fingerprint
}
