package client

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/wims/wims"
)

// The schema registry (DESIGN §8).

// SchemaRequest creates (with Name) or updates a schema. Content is the
// schema document.
type SchemaRequest struct {
	Name        string `json:"name,omitempty"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
	Content     string `json:"content,omitempty"`
}

func registryPath(registry string) string { return "/registries/" + url.PathEscape(registry) }

func schemaPath(registry, name string) string {
	return registryPath(registry) + "/schemas/" + url.PathEscape(name)
}

// ListRegistries lists registries whose names start with prefix.
func (c *Client) ListRegistries(ctx context.Context, prefix string) ([]wims.Registry, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	var out struct {
		Registries []wims.Registry `json:"registries"`
	}
	_, err := c.do(ctx, "GET", withQuery("/registries", q), nil, nil, &out)
	return out.Registries, err
}

// CreateRegistry creates a registry.
func (c *Client) CreateRegistry(ctx context.Context, name, description string) (wims.Registry, error) {
	var r wims.Registry
	_, err := c.do(ctx, "POST", "/registries", map[string]string{"name": name, "description": description}, nil, &r)
	return r, err
}

// DeleteRegistry deletes a registry and its schemas.
func (c *Client) DeleteRegistry(ctx context.Context, name string) error {
	_, err := c.do(ctx, "DELETE", registryPath(name), nil, nil, nil)
	return err
}

// ListSchemas lists a registry's schemas; keywords (if any) must all occur
// in a schema's name.
func (c *Client) ListSchemas(ctx context.Context, registry, prefix, keywords string) ([]wims.Schema, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if keywords != "" {
		q.Set("keywords", keywords)
	}
	var out struct {
		Schemas []wims.Schema `json:"schemas"`
	}
	_, err := c.do(ctx, "GET", withQuery(registryPath(registry)+"/schemas", q), nil, nil, &out)
	return out.Schemas, err
}

// CreateSchema creates a schema with version 1.
func (c *Client) CreateSchema(ctx context.Context, registry string, req SchemaRequest) (wims.Schema, error) {
	var s wims.Schema
	_, err := c.do(ctx, "POST", registryPath(registry)+"/schemas", req, nil, &s)
	return s, err
}

// UpdateSchema replaces a schema's description; new content adds a version.
func (c *Client) UpdateSchema(ctx context.Context, registry, name string, req SchemaRequest) (wims.Schema, error) {
	var s wims.Schema
	_, err := c.do(ctx, "PUT", schemaPath(registry, name), req, nil, &s)
	return s, err
}

// GetSchema returns a version of a schema ("" for the latest) with its
// content.
func (c *Client) GetSchema(ctx context.Context, registry, name, version string) (wims.Schema, error) {
	q := url.Values{}
	if version != "" {
		q.Set("version", version)
	}
	var s wims.Schema
	_, err := c.do(ctx, "GET", withQuery(schemaPath(registry, name), q), nil, nil, &s)
	return s, err
}

// DeleteSchema deletes a schema and its versions.
func (c *Client) DeleteSchema(ctx context.Context, registry, name string) error {
	_, err := c.do(ctx, "DELETE", schemaPath(registry, name), nil, nil, nil)
	return err
}

// ListSchemaVersions lists a schema's versions, oldest first.
func (c *Client) ListSchemaVersions(ctx context.Context, registry, name string) ([]wims.SchemaVersion, error) {
	var out struct {
		Versions []wims.SchemaVersion `json:"versions"`
	}
	_, err := c.do(ctx, "GET", schemaPath(registry, name)+"/versions", nil, nil, &out)
	return out.Versions, err
}

// ExportSchema returns a version ("" for the latest) as a JSON Schema
// draft 4 document.
func (c *Client) ExportSchema(ctx context.Context, registry, name, version string) (json.RawMessage, error) {
	q := url.Values{"type": {wims.SchemaTypeJSONSchemaDraft4}}
	if version != "" {
		q.Set("version", version)
	}
	var doc json.RawMessage
	_, err := c.do(ctx, "GET", withQuery(schemaPath(registry, name)+"/export", q), nil, nil, &doc)
	return doc, err
}

// ListDiscoverers lists the schema discoverers.
func (c *Client) ListDiscoverers(ctx context.Context) ([]wims.Discoverer, error) {
	var out struct {
		Discoverers []wims.Discoverer `json:"discoverers"`
	}
	_, err := c.do(ctx, "GET", "/discoverers", nil, nil, &out)
	return out.Discoverers, err
}

// CreateDiscoverer starts discovering the schemas of a bus's events.
func (c *Client) CreateDiscoverer(ctx context.Context, bus, description string) (wims.Discoverer, error) {
	var d wims.Discoverer
	_, err := c.do(ctx, "POST", "/discoverers", map[string]string{"eventBus": bus, "description": description}, nil, &d)
	return d, err
}

// DeleteDiscoverer deletes a discoverer (its schemas stay).
func (c *Client) DeleteDiscoverer(ctx context.Context, id string) error {
	_, err := c.do(ctx, "DELETE", "/discoverers/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// SetDiscovererState starts (wims.DiscovererStarted) or stops a discoverer.
func (c *Client) SetDiscovererState(ctx context.Context, id, state string) (wims.Discoverer, error) {
	verb := "start"
	if state == wims.DiscovererStopped {
		verb = "stop"
	}
	var d wims.Discoverer
	_, err := c.do(ctx, "POST", "/discoverers/"+url.PathEscape(id)+"/"+verb, nil, nil, &d)
	return d, err
}

// UpdateEventBus replaces a bus's description and schema validation (nil:
// none).
func (c *Client) UpdateEventBus(ctx context.Context, name, description string, v *wims.SchemaValidation) (wims.EventBus, error) {
	var b wims.EventBus
	body := struct {
		Description      string                 `json:"description,omitempty"`
		SchemaValidation *wims.SchemaValidation `json:"schemaValidation,omitempty"`
	}{description, v}
	_, err := c.do(ctx, "PUT", "/buses/"+url.PathEscape(name), body, nil, &b)
	return b, err
}
