package platform

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/schema"
)

// schemaDoc is a schema as stored: its head (latest version, count) and,
// for a discovered schema, the inferred shape the next event merges into.
// The content of each version is a resource of its own (versionName).
type schemaDoc struct {
	wims.Schema
	Shape *schema.Shape `json:"shape,omitempty"`
}

func stampSchemaDoc(d *schemaDoc, c, u time.Time) { d.CreatedAt, d.UpdatedAt = c, u }

func stampVersion(v *wims.SchemaVersion, c, _ time.Time) { v.CreatedAt = c }

// versionName names a version's resource; zero-padded so that versions
// list in order.
func versionName(registry, name string, version int) string {
	return fmt.Sprintf("%s/%010d", wims.SchemaKey(registry, name), version)
}

func parseVersion(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, wims.FieldError("SchemaVersion", "must be a version number such as 1, got %q", v)
	}
	return n, nil
}

func (s *Service) getSchema(ctx context.Context, registry, name string) (schemaDoc, error) {
	if _, err := s.DescribeRegistry(ctx, registry); err != nil {
		return schemaDoc{}, err
	}
	d, err := get(ctx, s, wims.KindSchema, wims.SchemaKey(registry, name), stampSchemaDoc)
	return d, notFound(err, "Schema %s does not exist in registry %s.", name, registry)
}

// CreateSchema creates a user schema with version 1.
func (s *Service) CreateSchema(ctx context.Context, sc wims.Schema) (wims.Schema, error) {
	if err := sc.Validate(); err != nil {
		return wims.Schema{}, err
	}
	if sc.Registry == wims.DiscoveredRegistry {
		return wims.Schema{}, wims.FieldError("RegistryName", "Schemas in %s are written by the discoverers; create the schema in a registry of your own.", sc.Registry)
	}
	if _, err := s.DescribeRegistry(ctx, sc.Registry); err != nil {
		return wims.Schema{}, err
	}
	if err := schema.CheckContent(sc.Type, []byte(sc.Content)); err != nil {
		return wims.Schema{}, wims.FieldError("Content", "%v", err)
	}
	sc.Source, sc.DetailType = "", ""
	return s.writeVersion(ctx, schemaDoc{Schema: sc}, sc.Content, wims.ResourceCreate)
}

// UpdateSchema replaces a schema's description and, when the content
// differs from the latest version's, adds a version.
func (s *Service) UpdateSchema(ctx context.Context, sc wims.Schema) (wims.Schema, error) {
	cur, err := s.getSchema(ctx, sc.Registry, sc.Name)
	if err != nil {
		return wims.Schema{}, err
	}
	if sc.Registry == wims.DiscoveredRegistry {
		return wims.Schema{}, wims.FieldError("RegistryName", "Schemas in %s are written by the discoverers.", sc.Registry)
	}
	latest, err := s.getVersion(ctx, cur, "")
	if err != nil {
		return wims.Schema{}, err
	}
	next := cur
	next.Description = sc.Description
	if sc.Type != "" {
		next.Type = sc.Type
	}
	content := latest.Content
	if sc.Content != "" {
		content = sc.Content
	}
	next.Content = content
	if err := next.Validate(); err != nil {
		return wims.Schema{}, err
	}
	next.Content = ""
	if content == latest.Content && next.Type == latest.Type {
		w, err := write(wims.ResourceUpdate, wims.KindSchema, wims.SchemaKey(sc.Registry, sc.Name), next)
		if err != nil {
			return wims.Schema{}, err
		}
		if _, err := s.store.ApplyResources(ctx, []wims.ResourceWrite{w}); err != nil {
			return wims.Schema{}, err
		}
		return s.DescribeSchema(ctx, sc.Registry, sc.Name, "")
	}
	if err := schema.CheckContent(next.Type, []byte(content)); err != nil {
		return wims.Schema{}, wims.FieldError("Content", "%v", err)
	}
	return s.writeVersion(ctx, next, content, wims.ResourceUpdate)
}

// writeVersion writes a schema's next version and its head in one write
// (op: ResourceCreate for the first version), dropping the oldest versions
// beyond MaxSchemaVersions. A concurrent writer makes it fail with
// ECONFLICT (the version exists) rather than lose either version.
func (s *Service) writeVersion(ctx context.Context, d schemaDoc, content string, op wims.ResourceOp) (wims.Schema, error) {
	n := 1
	if op != wims.ResourceCreate {
		last, err := strconv.Atoi(d.LatestVersion)
		if err != nil {
			return wims.Schema{}, fmt.Errorf("schema %s: stored latest version %q: %w", d.Name, d.LatestVersion, err)
		}
		n = last + 1
	}
	key := wims.SchemaKey(d.Registry, d.Name)
	now := s.now().UTC()
	d.LatestVersion, d.Version = strconv.Itoa(n), strconv.Itoa(n)
	d.VersionCreatedAt = now
	d.Content = ""
	writes := []wims.ResourceWrite{}
	if n > wims.MaxSchemaVersions {
		old, err := s.store.ListResources(ctx, wims.KindSchemaVersion, key+"/")
		if err != nil {
			return wims.Schema{}, err
		}
		for i := 0; i < len(old)-wims.MaxSchemaVersions+1; i++ {
			writes = append(writes, del(wims.KindSchemaVersion, old[i].Name))
		}
	}
	d.VersionCount = min(d.VersionCount+1, wims.MaxSchemaVersions)
	if op == wims.ResourceCreate {
		d.VersionCount = 1
	}
	head, err := write(op, wims.KindSchema, key, d)
	if err != nil {
		return wims.Schema{}, err
	}
	ver, err := write(wims.ResourceCreate, wims.KindSchemaVersion, versionName(d.Registry, d.Name, n),
		wims.SchemaVersion{Registry: d.Registry, Schema: d.Name, Version: d.Version, Type: d.Type, Content: content})
	if err != nil {
		return wims.Schema{}, err
	}
	out, err := s.store.ApplyResources(ctx, append(writes, head, ver))
	if err != nil {
		return wims.Schema{}, exists(notFound(err, "Schema %s does not exist in registry %s.", d.Name, d.Registry),
			"Schema %s already exists in registry %s.", d.Name, d.Registry)
	}
	got, err := decode(out[len(out)-2], stampSchemaDoc)
	if err != nil {
		return wims.Schema{}, err
	}
	got.Content = content
	return got.Schema, nil
}

// DescribeSchema returns a version of a schema ("" for the latest) with
// its content.
func (s *Service) DescribeSchema(ctx context.Context, registry, name, version string) (wims.Schema, error) {
	d, err := s.getSchema(ctx, registry, name)
	if err != nil {
		return wims.Schema{}, err
	}
	v, err := s.getVersion(ctx, d, version)
	if err != nil {
		return wims.Schema{}, err
	}
	out := d.Schema
	out.Version, out.Type, out.Content, out.VersionCreatedAt = v.Version, v.Type, v.Content, v.CreatedAt
	return out, nil
}

func (s *Service) getVersion(ctx context.Context, d schemaDoc, version string) (wims.SchemaVersion, error) {
	if version == "" {
		version = d.LatestVersion
	}
	n, err := parseVersion(version)
	if err != nil {
		return wims.SchemaVersion{}, err
	}
	v, err := get(ctx, s, wims.KindSchemaVersion, versionName(d.Registry, d.Name, n), stampVersion)
	return v, notFound(err, "Version %s of schema %s does not exist.", version, d.Name)
}

// DeleteSchema deletes a schema and all its versions in one write.
func (s *Service) DeleteSchema(ctx context.Context, registry, name string) error {
	if _, err := s.getSchema(ctx, registry, name); err != nil {
		return err
	}
	key := wims.SchemaKey(registry, name)
	versions, err := s.store.ListResources(ctx, wims.KindSchemaVersion, key+"/")
	if err != nil {
		return err
	}
	writes := []wims.ResourceWrite{del(wims.KindSchema, key)}
	for _, v := range versions {
		writes = append(writes, del(wims.KindSchemaVersion, v.Name))
	}
	_, err = s.store.ApplyResources(ctx, writes)
	return notFound(err, "Schema %s does not exist in registry %s.", name, registry)
}

// DeleteSchemaVersion deletes one version. The latest stays (it is what
// DescribeSchema and validation use): delete the schema instead.
func (s *Service) DeleteSchemaVersion(ctx context.Context, registry, name, version string) error {
	d, err := s.getSchema(ctx, registry, name)
	if err != nil {
		return err
	}
	n, err := parseVersion(version)
	if err != nil {
		return err
	}
	if strconv.Itoa(n) == d.LatestVersion {
		return wims.FieldError("SchemaVersion", "Version %s is the latest of schema %s; delete the schema instead.", version, name)
	}
	d.VersionCount = max(d.VersionCount-1, 1)
	head, err := write(wims.ResourceUpdate, wims.KindSchema, wims.SchemaKey(registry, name), d)
	if err != nil {
		return err
	}
	_, err = s.store.ApplyResources(ctx, []wims.ResourceWrite{del(wims.KindSchemaVersion, versionName(registry, name, n)), head})
	return notFound(err, "Version %s of schema %s does not exist.", version, name)
}

// ListSchemas lists a registry's schemas by name, without content. With
// Keywords it is SearchSchemas: every keyword must occur in the name.
func (s *Service) ListSchemas(ctx context.Context, f wims.SchemaFilter) ([]wims.Schema, error) {
	if _, err := s.DescribeRegistry(ctx, f.Registry); err != nil {
		return nil, err
	}
	docs, err := list(ctx, s, wims.KindSchema, wims.SchemaKey(f.Registry, f.NamePrefix), stampSchemaDoc)
	if err != nil {
		return nil, err
	}
	words := strings.Fields(strings.ToLower(f.Keywords))
	out := make([]wims.Schema, 0, len(docs))
	for _, d := range docs {
		name := strings.ToLower(d.Name)
		matches := true
		for _, w := range words {
			matches = matches && strings.Contains(name, w)
		}
		if matches {
			out = append(out, d.Schema)
		}
	}
	return out, nil
}

// ListSchemaVersions lists a schema's versions oldest first, without
// content.
func (s *Service) ListSchemaVersions(ctx context.Context, registry, name string) ([]wims.SchemaVersion, error) {
	if _, err := s.getSchema(ctx, registry, name); err != nil {
		return nil, err
	}
	vs, err := list(ctx, s, wims.KindSchemaVersion, wims.SchemaKey(registry, name)+"/", stampVersion)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		vs[i].Content = ""
	}
	return vs, nil
}

// ExportSchema returns a version as JSON Schema draft 4, converted from
// OpenAPI 3 when it is one.
func (s *Service) ExportSchema(ctx context.Context, registry, name, version, typ string) (wims.SchemaVersion, error) {
	if typ != wims.SchemaTypeJSONSchemaDraft4 {
		return wims.SchemaVersion{}, wims.FieldError("Type", "must be %s, got %q", wims.SchemaTypeJSONSchemaDraft4, typ)
	}
	d, err := s.getSchema(ctx, registry, name)
	if err != nil {
		return wims.SchemaVersion{}, err
	}
	v, err := s.getVersion(ctx, d, version)
	if err != nil {
		return wims.SchemaVersion{}, err
	}
	if v.Type == wims.SchemaTypeOpenAPI3 {
		out, err := schema.ToJSONSchemaDraft4([]byte(v.Content))
		if err != nil {
			return wims.SchemaVersion{}, wims.FieldError("Type", "version %s cannot be converted: %v", v.Version, err)
		}
		v.Content = string(out)
	}
	v.Type = typ
	return v, nil
}
