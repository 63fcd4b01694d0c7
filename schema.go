package wims

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// The schema registry keeps the shape of the events on the buses: a
// discoverer on a bus infers an OpenAPI 3 schema per source and detail-type
// from the events it sees and adds a version whenever the shape changes;
// users keep their own schemas in registries of their own. A bus may
// validate what PutEvents puts on it against a registry (SchemaValidation).

// Resource kinds of the schema registry.
const (
	KindRegistry      ResourceKind = "schema_registries"
	KindSchema        ResourceKind = "schemas"
	KindSchemaVersion ResourceKind = "schema_versions"
	KindDiscoverer    ResourceKind = "schema_discoverers"
)

// DiscoveredRegistry is the registry discoverers write to. It always exists
// and cannot be deleted; CreateSchema in it is refused.
const DiscoveredRegistry = "discovered-schemas"

// Schema content types (AWS's Type).
const (
	SchemaTypeOpenAPI3         = "OpenApi3"
	SchemaTypeJSONSchemaDraft4 = "JSONSchemaDraft4"
)

// Discoverer states (AWS's DiscovererState).
const (
	DiscovererStarted = "STARTED"
	DiscovererStopped = "STOPPED"
)

// Schema validation modes of a bus.
const (
	// ValidateKnown rejects an entry whose source and detail-type have a
	// schema in the registry and that does not validate; others pass.
	ValidateKnown = "KNOWN"
	// ValidateStrict also rejects entries that have no schema.
	ValidateStrict = "STRICT"
)

// Schema registry limits, from AWS's service model and quotas.
const (
	MaxRegistryNameLength = 64
	MaxSchemaNameLength   = 385
	MaxSchemaContent      = 100000
	MaxRegistries         = 100
	// MaxSchemaVersions bounds the versions one schema keeps; the oldest
	// goes when a new one would exceed it (AWS keeps 100 per schema).
	MaxSchemaVersions = 100
)

var (
	registryNamePattern = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,64}$`)
	schemaNamePattern   = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,385}$`)
)

// Registry is a schema registry.
type Registry struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ARN is the registry's ARN.
func (r Registry) ARN() string { return RegistryARN(r.Name) }

// Validate checks the registry's fields.
func (r Registry) Validate() error {
	if !registryNamePattern.MatchString(r.Name) {
		return FieldError("RegistryName", "must be 1-%d letters, digits, '@', '.', '-' or '_'", MaxRegistryNameLength)
	}
	if len(r.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	return nil
}

// Schema is a schema in a registry with its latest version (or the version
// asked for).
type Schema struct {
	Registry    string `json:"registry"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Type        string `json:"type"`
	// Version is the version Content belongs to; LatestVersion the newest.
	Version       string `json:"version"`
	LatestVersion string `json:"latestVersion"`
	VersionCount  int    `json:"versionCount"`
	Content       string `json:"content,omitempty"`
	// Source and DetailType are those of the events a discovered schema
	// describes (empty for user schemas).
	Source           string    `json:"source,omitempty"`
	DetailType       string    `json:"detailType,omitempty"`
	VersionCreatedAt time.Time `json:"versionCreatedAt"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

// ARN is the schema's ARN.
func (s Schema) ARN() string { return SchemaARN(s.Registry, s.Name) }

// Validate checks the fields a user gives to CreateSchema or UpdateSchema.
func (s Schema) Validate() error {
	if !registryNamePattern.MatchString(s.Registry) {
		return FieldError("RegistryName", "must be 1-%d letters, digits, '@', '.', '-' or '_'", MaxRegistryNameLength)
	}
	if !schemaNamePattern.MatchString(s.Name) {
		return FieldError("SchemaName", "must be 1-%d letters, digits, '@', '.', '-' or '_'", MaxSchemaNameLength)
	}
	if s.Type != SchemaTypeOpenAPI3 && s.Type != SchemaTypeJSONSchemaDraft4 {
		return FieldError("Type", "must be %s or %s, got %q", SchemaTypeOpenAPI3, SchemaTypeJSONSchemaDraft4, s.Type)
	}
	if s.Content == "" || len(s.Content) > MaxSchemaContent {
		return FieldError("Content", "must be 1-%d characters", MaxSchemaContent)
	}
	if len(s.Description) > MaxDescriptionLength {
		return FieldError("Description", "must be at most %d characters", MaxDescriptionLength)
	}
	return nil
}

// SchemaVersion is one version of a schema.
type SchemaVersion struct {
	Registry  string    `json:"registry"`
	Schema    string    `json:"schema"`
	Version   string    `json:"version"`
	Type      string    `json:"type"`
	Content   string    `json:"content,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Discoverer infers the schemas of the events on a bus while STARTED.
type Discoverer struct {
	ID           string    `json:"id"`
	EventBus     string    `json:"eventBus"`
	State        string    `json:"state"`
	Description  string    `json:"description,omitempty"`
	CrossAccount bool      `json:"crossAccount"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// ARN is the discoverer's ARN.
func (d Discoverer) ARN() string {
	return ARNPrefix + "schemas:" + EventRegion + ":" + EventAccount + ":discoverer/" + d.ID
}

// DiscovererID is the id of the discoverer of a bus: one per bus, named
// after it as AWS names the console's ("events-event-bus-default"); '/' in a
// bus name would break the URL path, so it becomes '-'.
func DiscovererID(bus string) string { return "events-event-bus-" + strings.ReplaceAll(bus, "/", "-") }

// SchemaValidation makes a bus check what PutEvents puts on it against the
// schemas of a registry: the schema named after the entry's source and
// detail-type (DiscoveredSchemaName), its latest version.
type SchemaValidation struct {
	Registry string `json:"registry"`
	// Mode is ValidateKnown or ValidateStrict.
	Mode string `json:"mode"`
}

// Validate checks the validation's fields.
func (v SchemaValidation) Validate() error {
	if !registryNamePattern.MatchString(v.Registry) {
		return FieldError("SchemaValidation.Registry", "must name a registry")
	}
	if v.Mode != ValidateKnown && v.Mode != ValidateStrict {
		return FieldError("SchemaValidation.Mode", "must be %s or %s, got %q", ValidateKnown, ValidateStrict, v.Mode)
	}
	return nil
}

// DiscoveredSchemaName names the schema of events with source and
// detailType as AWS's discovery does: "source@DetailType" with everything
// but letters, digits, '.', '-' and '_' dropped ("wims.orders@OrderCreated"
// for "Order Created").
func DiscoveredSchemaName(source, detailType string) string {
	keep := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
				return r
			}
			return -1
		}, s)
	}
	name := keep(source) + "@" + keep(detailType)
	if len(name) > MaxSchemaNameLength {
		name = name[:MaxSchemaNameLength]
	}
	return name
}

// RegistryARN is a registry's ARN.
func RegistryARN(name string) string {
	return ARNPrefix + "schemas:" + EventRegion + ":" + EventAccount + ":registry/" + name
}

// SchemaARN is a schema's ARN.
func SchemaARN(registry, name string) string {
	return ARNPrefix + "schemas:" + EventRegion + ":" + EventAccount + ":schema/" + registry + "/" + name
}

// SchemaKey is a schema's resource name; its versions' names start with it
// and a '/'.
func SchemaKey(registry, name string) string { return registry + "/" + name }

// SchemaFilter selects schemas for ListSchemas and SearchSchemas.
type SchemaFilter struct {
	Registry   string
	NamePrefix string
	// Keywords, for SearchSchemas: a schema matches when its name contains
	// every keyword, case-insensitively.
	Keywords string
}

// SchemaRegistry is the schema registry (DESIGN §8, EventBridge Schemas).
// Errors: EINVALID with a field, ENOTFOUND, ECONFLICT (exists), ELIMIT.
type SchemaRegistry interface {
	CreateRegistry(ctx context.Context, r Registry) (Registry, error)
	UpdateRegistry(ctx context.Context, r Registry) (Registry, error)
	DescribeRegistry(ctx context.Context, name string) (Registry, error)
	// DeleteRegistry deletes a user registry and its schemas.
	DeleteRegistry(ctx context.Context, name string) error
	ListRegistries(ctx context.Context, namePrefix string) ([]Registry, error)

	// CreateSchema creates a schema with its version 1; content must be a
	// valid document of its type.
	CreateSchema(ctx context.Context, s Schema) (Schema, error)
	// UpdateSchema adds a version when the content changed (and replaces
	// the description).
	UpdateSchema(ctx context.Context, s Schema) (Schema, error)
	// DescribeSchema returns a version ("" for the latest) with its content.
	DescribeSchema(ctx context.Context, registry, name, version string) (Schema, error)
	DeleteSchema(ctx context.Context, registry, name string) error
	DeleteSchemaVersion(ctx context.Context, registry, name, version string) error
	// ListSchemas returns schemas without their content.
	ListSchemas(ctx context.Context, f SchemaFilter) ([]Schema, error)
	// ListSchemaVersions lists versions oldest first, without content.
	ListSchemaVersions(ctx context.Context, registry, name string) ([]SchemaVersion, error)
	// ExportSchema returns a version converted to typ (JSONSchemaDraft4).
	ExportSchema(ctx context.Context, registry, name, version, typ string) (SchemaVersion, error)

	CreateDiscoverer(ctx context.Context, d Discoverer) (Discoverer, error)
	UpdateDiscoverer(ctx context.Context, d Discoverer) (Discoverer, error)
	DescribeDiscoverer(ctx context.Context, id string) (Discoverer, error)
	DeleteDiscoverer(ctx context.Context, id string) error
	// ListDiscoverers filters by id prefix and by a prefix of the bus ARN.
	ListDiscoverers(ctx context.Context, idPrefix, sourceARNPrefix string) ([]Discoverer, error)
	// SetDiscovererState starts or stops a discoverer.
	SetDiscovererState(ctx context.Context, id, state string) (Discoverer, error)
}
