package eventbridge

import (
	"context"
	"net/http"
	"time"

	"github.com/wims/wims"
)

// Schemas shapes, member names as the service model spells them. Its
// timestamps are ISO 8601 strings (timestampFormat iso8601).

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type registryShape struct {
	Description  string `json:"Description,omitempty"`
	RegistryArn  string `json:"RegistryArn"`
	RegistryName string `json:"RegistryName"`
}

func fromRegistry(r wims.Registry) registryShape {
	return registryShape{Description: r.Description, RegistryArn: r.ARN(), RegistryName: r.Name}
}

type schemaShape struct {
	Content            string `json:"Content,omitempty"`
	Description        string `json:"Description,omitempty"`
	LastModified       string `json:"LastModified,omitempty"`
	SchemaArn          string `json:"SchemaArn"`
	SchemaName         string `json:"SchemaName"`
	SchemaVersion      string `json:"SchemaVersion,omitempty"`
	Type               string `json:"Type,omitempty"`
	VersionCreatedDate string `json:"VersionCreatedDate,omitempty"`
}

func fromSchema(s wims.Schema) schemaShape {
	return schemaShape{
		Content: s.Content, Description: s.Description, LastModified: iso(s.UpdatedAt), SchemaArn: s.ARN(),
		SchemaName: s.Name, SchemaVersion: s.Version, Type: s.Type, VersionCreatedDate: iso(s.VersionCreatedAt),
	}
}

type schemaSummaryShape struct {
	LastModified string `json:"LastModified,omitempty"`
	SchemaArn    string `json:"SchemaArn"`
	SchemaName   string `json:"SchemaName"`
	VersionCount int    `json:"VersionCount"`
}

type discovererShape struct {
	Description   string `json:"Description,omitempty"`
	DiscovererArn string `json:"DiscovererArn"`
	DiscovererId  string `json:"DiscovererId"`
	SourceArn     string `json:"SourceArn"`
	State         string `json:"State"`
	CrossAccount  bool   `json:"CrossAccount"`
}

func fromDiscoverer(d wims.Discoverer) discovererShape {
	return discovererShape{Description: d.Description, DiscovererArn: d.ARN(), DiscovererId: d.ID,
		SourceArn: wims.BusARN(d.EventBus), State: d.State, CrossAccount: d.CrossAccount}
}

func (h *SchemasHandler) listRegistries(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	q, err := schemasQuery(r, "limit", "nextToken", "registryNamePrefix", "scope")
	if err != nil {
		return 0, nil, err
	}
	regs, err := h.opt.Registry.ListRegistries(ctx, q["registryNamePrefix"])
	if err != nil {
		return 0, nil, err
	}
	// Scope LOCAL is the account's registries, AWS the ones AWS provides
	// (aws.events), which wims has none of.
	if q["scope"] == "AWS" {
		regs = nil
	}
	page, next, err := schemasPage(q, regs, func(r wims.Registry) string { return r.Name })
	if err != nil {
		return 0, nil, err
	}
	out := make([]registryShape, len(page))
	for i, r := range page {
		out[i] = fromRegistry(r)
	}
	return 200, struct {
		NextToken  string          `json:"NextToken,omitempty"`
		Registries []registryShape `json:"Registries"`
	}{next, out}, nil
}

type registryIn struct {
	Description string `json:"Description"`
}

func (h *SchemasHandler) createRegistry(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	in, err := schemasBody[registryIn](body)
	if err != nil {
		return 0, nil, err
	}
	reg, err := h.opt.Registry.CreateRegistry(ctx, wims.Registry{Name: r.PathValue("registryName"), Description: in.Description})
	if err != nil {
		return 0, nil, err
	}
	return 201, fromRegistry(reg), nil
}

func (h *SchemasHandler) describeRegistry(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	reg, err := h.opt.Registry.DescribeRegistry(ctx, r.PathValue("registryName"))
	if err != nil {
		return 0, nil, err
	}
	return 200, fromRegistry(reg), nil
}

func (h *SchemasHandler) updateRegistry(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	in, err := schemasBody[registryIn](body)
	if err != nil {
		return 0, nil, err
	}
	reg, err := h.opt.Registry.UpdateRegistry(ctx, wims.Registry{Name: r.PathValue("registryName"), Description: in.Description})
	if err != nil {
		return 0, nil, err
	}
	return 200, fromRegistry(reg), nil
}

func (h *SchemasHandler) deleteRegistry(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	return 204, nil, h.opt.Registry.DeleteRegistry(ctx, r.PathValue("registryName"))
}

func (h *SchemasHandler) listSchemas(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	q, err := schemasQuery(r, "limit", "nextToken", "schemaNamePrefix")
	if err != nil {
		return 0, nil, err
	}
	return h.schemaList(ctx, q, wims.SchemaFilter{Registry: r.PathValue("registryName"), NamePrefix: q["schemaNamePrefix"]})
}

func (h *SchemasHandler) schemaList(ctx context.Context, q map[string]string, f wims.SchemaFilter) (int, any, error) {
	all, err := h.opt.Registry.ListSchemas(ctx, f)
	if err != nil {
		return 0, nil, err
	}
	page, next, err := schemasPage(q, all, func(s wims.Schema) string { return s.Name })
	if err != nil {
		return 0, nil, err
	}
	out := make([]schemaSummaryShape, len(page))
	for i, s := range page {
		out[i] = schemaSummaryShape{LastModified: iso(s.UpdatedAt), SchemaArn: s.ARN(), SchemaName: s.Name, VersionCount: s.VersionCount}
	}
	return 200, struct {
		NextToken string               `json:"NextToken,omitempty"`
		Schemas   []schemaSummaryShape `json:"Schemas"`
	}{next, out}, nil
}

type searchVersionShape struct {
	CreatedDate   string `json:"CreatedDate,omitempty"`
	SchemaVersion string `json:"SchemaVersion"`
	Type          string `json:"Type"`
}

type searchSummaryShape struct {
	RegistryName   string               `json:"RegistryName"`
	SchemaArn      string               `json:"SchemaArn"`
	SchemaName     string               `json:"SchemaName"`
	SchemaVersions []searchVersionShape `json:"SchemaVersions"`
}

func (h *SchemasHandler) searchSchemas(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	q, err := schemasQuery(r, "limit", "nextToken", "keywords")
	if err != nil {
		return 0, nil, err
	}
	if q["keywords"] == "" {
		return 0, nil, badRequest("keywords is required")
	}
	reg := r.PathValue("registryName")
	all, err := h.opt.Registry.ListSchemas(ctx, wims.SchemaFilter{Registry: reg, Keywords: q["keywords"]})
	if err != nil {
		return 0, nil, err
	}
	page, next, err := schemasPage(q, all, func(s wims.Schema) string { return s.Name })
	if err != nil {
		return 0, nil, err
	}
	out := make([]searchSummaryShape, len(page))
	for i, s := range page {
		versions, err := h.opt.Registry.ListSchemaVersions(ctx, reg, s.Name)
		if err != nil {
			return 0, nil, err
		}
		vs := make([]searchVersionShape, len(versions))
		for j, v := range versions {
			vs[j] = searchVersionShape{CreatedDate: iso(v.CreatedAt), SchemaVersion: v.Version, Type: v.Type}
		}
		out[i] = searchSummaryShape{RegistryName: reg, SchemaArn: s.ARN(), SchemaName: s.Name, SchemaVersions: vs}
	}
	return 200, struct {
		NextToken string               `json:"NextToken,omitempty"`
		Schemas   []searchSummaryShape `json:"Schemas"`
	}{next, out}, nil
}

type schemaIn struct {
	Content     string `json:"Content"`
	Description string `json:"Description"`
	Type        string `json:"Type"`
}

func (h *SchemasHandler) createSchema(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	in, err := schemasBody[schemaIn](body)
	if err != nil {
		return 0, nil, err
	}
	s, err := h.opt.Registry.CreateSchema(ctx, wims.Schema{
		Registry: r.PathValue("registryName"), Name: r.PathValue("schemaName"), Description: in.Description,
		Type: in.Type, Content: in.Content,
	})
	if err != nil {
		return 0, nil, err
	}
	s.Content = ""
	return 201, fromSchema(s), nil
}

func (h *SchemasHandler) updateSchema(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	in, err := schemasBody[schemaIn](body)
	if err != nil {
		return 0, nil, err
	}
	s, err := h.opt.Registry.UpdateSchema(ctx, wims.Schema{
		Registry: r.PathValue("registryName"), Name: r.PathValue("schemaName"), Description: in.Description,
		Type: in.Type, Content: in.Content,
	})
	if err != nil {
		return 0, nil, err
	}
	s.Content = ""
	return 200, fromSchema(s), nil
}

func (h *SchemasHandler) describeSchema(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	q, err := schemasQuery(r, "schemaVersion")
	if err != nil {
		return 0, nil, err
	}
	s, err := h.opt.Registry.DescribeSchema(ctx, r.PathValue("registryName"), r.PathValue("schemaName"), q["schemaVersion"])
	if err != nil {
		return 0, nil, err
	}
	return 200, fromSchema(s), nil
}

func (h *SchemasHandler) deleteSchema(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	return 204, nil, h.opt.Registry.DeleteSchema(ctx, r.PathValue("registryName"), r.PathValue("schemaName"))
}

func (h *SchemasHandler) deleteSchemaVersion(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	return 204, nil, h.opt.Registry.DeleteSchemaVersion(ctx, r.PathValue("registryName"), r.PathValue("schemaName"), r.PathValue("schemaVersion"))
}

func (h *SchemasHandler) listSchemaVersions(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	q, err := schemasQuery(r, "limit", "nextToken")
	if err != nil {
		return 0, nil, err
	}
	reg, name := r.PathValue("registryName"), r.PathValue("schemaName")
	versions, err := h.opt.Registry.ListSchemaVersions(ctx, reg, name)
	if err != nil {
		return 0, nil, err
	}
	// Tokens compare as strings: zero-pad so versions page in order.
	page, next, err := schemasPage(q, versions, func(v wims.SchemaVersion) string { return padVersion(v.Version) })
	if err != nil {
		return 0, nil, err
	}
	type versionShape struct {
		SchemaArn     string `json:"SchemaArn"`
		SchemaName    string `json:"SchemaName"`
		SchemaVersion string `json:"SchemaVersion"`
		Type          string `json:"Type"`
	}
	out := make([]versionShape, len(page))
	for i, v := range page {
		out[i] = versionShape{wims.SchemaARN(reg, name), name, v.Version, v.Type}
	}
	return 200, struct {
		NextToken      string         `json:"NextToken,omitempty"`
		SchemaVersions []versionShape `json:"SchemaVersions"`
	}{next, out}, nil
}

func padVersion(v string) string {
	const width = 10
	for len(v) < width {
		v = "0" + v
	}
	return v
}

func (h *SchemasHandler) exportSchema(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	q, err := schemasQuery(r, "schemaVersion", "type")
	if err != nil {
		return 0, nil, err
	}
	if q["type"] == "" {
		return 0, nil, badRequest("type is required (JSONSchemaDraft4)")
	}
	reg, name := r.PathValue("registryName"), r.PathValue("schemaName")
	v, err := h.opt.Registry.ExportSchema(ctx, reg, name, q["schemaVersion"], q["type"])
	if err != nil {
		return 0, nil, err
	}
	return 200, struct {
		Content       string `json:"Content"`
		SchemaArn     string `json:"SchemaArn"`
		SchemaName    string `json:"SchemaName"`
		SchemaVersion string `json:"SchemaVersion"`
		Type          string `json:"Type"`
	}{v.Content, wims.SchemaARN(reg, name), name, v.Version, v.Type}, nil
}

func (h *SchemasHandler) listDiscoverers(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	q, err := schemasQuery(r, "limit", "nextToken", "discovererIdPrefix", "sourceArnPrefix")
	if err != nil {
		return 0, nil, err
	}
	all, err := h.opt.Registry.ListDiscoverers(ctx, q["discovererIdPrefix"], q["sourceArnPrefix"])
	if err != nil {
		return 0, nil, err
	}
	page, next, err := schemasPage(q, all, func(d wims.Discoverer) string { return d.ID })
	if err != nil {
		return 0, nil, err
	}
	out := make([]discovererShape, len(page))
	for i, d := range page {
		out[i] = fromDiscoverer(d)
	}
	return 200, struct {
		Discoverers []discovererShape `json:"Discoverers"`
		NextToken   string            `json:"NextToken,omitempty"`
	}{out, next}, nil
}

type discovererIn struct {
	Description  string `json:"Description"`
	SourceArn    string `json:"SourceArn"`
	CrossAccount bool   `json:"CrossAccount"`
}

func (h *SchemasHandler) createDiscoverer(ctx context.Context, _ *http.Request, body []byte) (int, any, error) {
	in, err := schemasBody[discovererIn](body)
	if err != nil {
		return 0, nil, err
	}
	if in.SourceArn == "" {
		return 0, nil, badRequest("SourceArn is required: the ARN of an event bus")
	}
	bus, ok := wims.BusNameFromBusARN(in.SourceArn)
	if !ok {
		return 0, nil, badRequest("SourceArn must be an event bus ARN (%s), got %q", wims.BusARN("NAME"), in.SourceArn)
	}
	d, err := h.opt.Registry.CreateDiscoverer(ctx, wims.Discoverer{EventBus: bus, Description: in.Description, CrossAccount: in.CrossAccount})
	if err != nil {
		return 0, nil, err
	}
	return 201, fromDiscoverer(d), nil
}

func (h *SchemasHandler) describeDiscoverer(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	d, err := h.opt.Registry.DescribeDiscoverer(ctx, r.PathValue("discovererId"))
	if err != nil {
		return 0, nil, err
	}
	return 200, fromDiscoverer(d), nil
}

func (h *SchemasHandler) updateDiscoverer(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	in, err := schemasBody[discovererIn](body)
	if err != nil {
		return 0, nil, err
	}
	d, err := h.opt.Registry.UpdateDiscoverer(ctx, wims.Discoverer{ID: r.PathValue("discovererId"), Description: in.Description, CrossAccount: in.CrossAccount})
	if err != nil {
		return 0, nil, err
	}
	return 200, fromDiscoverer(d), nil
}

func (h *SchemasHandler) deleteDiscoverer(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
	return 204, nil, h.opt.Registry.DeleteDiscoverer(ctx, r.PathValue("discovererId"))
}

func (h *SchemasHandler) discovererState(state string) schemasCall {
	return func(ctx context.Context, r *http.Request, _ []byte) (int, any, error) {
		d, err := h.opt.Registry.SetDiscovererState(ctx, r.PathValue("discovererId"), state)
		if err != nil {
			return 0, nil, err
		}
		return 200, struct {
			DiscovererId string `json:"DiscovererId"`
			State        string `json:"State"`
		}{d.ID, d.State}, nil
	}
}
