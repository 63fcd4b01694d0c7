package http

import (
	"net/http"

	"github.com/wims/wims"
)

// The schema registry (DESIGN §8): the same wims.SchemaRegistry the
// Schemas wire API drives, in this API's JSON.

type registryView struct {
	wims.Registry
	ARN string `json:"arn"`
}

func viewRegistry(r wims.Registry) registryView { return registryView{r, r.ARN()} }

type schemaView struct {
	wims.Schema
	ARN string `json:"arn"`
}

func viewSchema(s wims.Schema) schemaView { return schemaView{s, s.ARN()} }

type discovererView struct {
	wims.Discoverer
	ARN string `json:"arn"`
}

func viewDiscoverer(d wims.Discoverer) discovererView { return discovererView{d, d.ARN()} }

// registerSchemaRoutes adds the schema registry's routes.
func (s *Server) registerSchemaRoutes() {
	s.handleSchemas("GET /registries", s.handleListRegistries)
	s.handleSchemas("POST /registries", s.handleCreateRegistry)
	s.handleSchemas("GET /registries/{registry}", s.handleGetRegistry)
	s.handleSchemas("PUT /registries/{registry}", s.handleUpdateRegistry)
	s.handleSchemas("DELETE /registries/{registry}", s.handleDeleteRegistry)
	s.handleSchemas("GET /registries/{registry}/schemas", s.handleListSchemas)
	s.handleSchemas("POST /registries/{registry}/schemas", s.handleCreateSchema)
	s.handleSchemas("GET /registries/{registry}/schemas/{name}", s.handleGetSchema)
	s.handleSchemas("PUT /registries/{registry}/schemas/{name}", s.handleUpdateSchema)
	s.handleSchemas("DELETE /registries/{registry}/schemas/{name}", s.handleDeleteSchema)
	s.handleSchemas("GET /registries/{registry}/schemas/{name}/versions", s.handleListSchemaVersions)
	s.handleSchemas("DELETE /registries/{registry}/schemas/{name}/versions/{version}", s.handleDeleteSchemaVersion)
	s.handleSchemas("GET /registries/{registry}/schemas/{name}/export", s.handleExportSchema)
	s.handleSchemas("GET /discoverers", s.handleListDiscoverers)
	s.handleSchemas("POST /discoverers", s.handleCreateDiscoverer)
	s.handleSchemas("GET /discoverers/{id}", s.handleGetDiscoverer)
	s.handleSchemas("DELETE /discoverers/{id}", s.handleDeleteDiscoverer)
	s.handleSchemas("POST /discoverers/{id}/start", s.discovererStateHandler(wims.DiscovererStarted))
	s.handleSchemas("POST /discoverers/{id}/stop", s.discovererStateHandler(wims.DiscovererStopped))
}

// handleSchemas registers a schema registry route: 503 without a registry.
func (s *Server) handleSchemas(pattern string, h apiHandler) {
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request) error {
		if s.schemas == nil {
			return wims.Errorf(wims.EUNAVAILABLE, "the schema registry is not available in this configuration")
		}
		return restError(h(w, r))
	})
}

type registryRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) handleListRegistries(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	regs, err := s.schemas.ListRegistries(r.Context(), prefix)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Registries []registryView `json:"registries"`
	}{viewAll(regs, viewRegistry)})
}

func (s *Server) handleCreateRegistry(w http.ResponseWriter, r *http.Request) error {
	var req registryRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	reg, err := s.schemas.CreateRegistry(r.Context(), wims.Registry{Name: req.Name, Description: req.Description})
	if err != nil {
		return renamedField(err, "RegistryName", "name")
	}
	w.Header().Set("Location", location("registries", reg.Name))
	return s.writeJSON(w, r, http.StatusCreated, viewRegistry(reg))
}

func (s *Server) handleGetRegistry(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.schemas.DescribeRegistry(r.Context(), r.PathValue("registry"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewRegistry(reg))
}

func (s *Server) handleUpdateRegistry(w http.ResponseWriter, r *http.Request) error {
	var req registryRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	reg, err := s.schemas.UpdateRegistry(r.Context(), wims.Registry{Name: r.PathValue("registry"), Description: req.Description})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewRegistry(reg))
}

func (s *Server) handleDeleteRegistry(w http.ResponseWriter, r *http.Request) error {
	if err := s.schemas.DeleteRegistry(r.Context(), r.PathValue("registry")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleListSchemas(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	list, err := s.schemas.ListSchemas(r.Context(), wims.SchemaFilter{
		Registry: r.PathValue("registry"), NamePrefix: prefix, Keywords: r.URL.Query().Get("keywords"),
	})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Schemas []schemaView `json:"schemas"`
	}{viewAll(list, viewSchema)})
}

// schemaRequest is the body of POST /registries/{registry}/schemas and
// PUT …/schemas/{name} (which takes no name). Content may be the document
// itself or a string holding it.
type schemaRequest struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Content     jsonText `json:"content"`
}

func (s *Server) handleCreateSchema(w http.ResponseWriter, r *http.Request) error {
	var req schemaRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	sc, err := s.schemas.CreateSchema(r.Context(), wims.Schema{
		Registry: r.PathValue("registry"), Name: req.Name, Type: req.Type, Description: req.Description, Content: string(req.Content),
	})
	if err != nil {
		return renamedField(err, "SchemaName", "name")
	}
	w.Header().Set("Location", location("registries", sc.Registry, "schemas", sc.Name))
	return s.writeJSON(w, r, http.StatusCreated, viewSchema(sc))
}

func (s *Server) handleGetSchema(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.schemas.DescribeSchema(r.Context(), r.PathValue("registry"), r.PathValue("name"), r.URL.Query().Get("version"))
	if err != nil {
		return renamedField(err, "SchemaVersion", "version")
	}
	return s.writeJSON(w, r, http.StatusOK, viewSchema(sc))
}

func (s *Server) handleUpdateSchema(w http.ResponseWriter, r *http.Request) error {
	var req schemaRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	sc, err := s.schemas.UpdateSchema(r.Context(), wims.Schema{
		Registry: r.PathValue("registry"), Name: r.PathValue("name"), Type: req.Type, Description: req.Description, Content: string(req.Content),
	})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewSchema(sc))
}

func (s *Server) handleDeleteSchema(w http.ResponseWriter, r *http.Request) error {
	if err := s.schemas.DeleteSchema(r.Context(), r.PathValue("registry"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleListSchemaVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.schemas.ListSchemaVersions(r.Context(), r.PathValue("registry"), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Versions []wims.SchemaVersion `json:"versions"`
	}{vs})
}

func (s *Server) handleDeleteSchemaVersion(w http.ResponseWriter, r *http.Request) error {
	err := s.schemas.DeleteSchemaVersion(r.Context(), r.PathValue("registry"), r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return renamedField(err, "SchemaVersion", "version")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleExportSchema answers the exported document itself, so that
// `curl …/export > schema.json` gives a file a validator takes.
func (s *Server) handleExportSchema(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	typ := q.Get("type")
	if typ == "" {
		typ = wims.SchemaTypeJSONSchemaDraft4
	}
	v, err := s.schemas.ExportSchema(r.Context(), r.PathValue("registry"), r.PathValue("name"), q.Get("version"), typ)
	if err != nil {
		return renamedField(renamedField(err, "SchemaVersion", "version"), "Type", "type")
	}
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Wims-Schema-Version", v.Version)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(v.Content))
	return nil
}

func (s *Server) handleListDiscoverers(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	ds, err := s.schemas.ListDiscoverers(r.Context(), prefix, "")
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Discoverers []discovererView `json:"discoverers"`
	}{viewAll(ds, viewDiscoverer)})
}

func (s *Server) handleCreateDiscoverer(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		EventBus    string `json:"eventBus"`
		Description string `json:"description"`
	}
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	d, err := s.schemas.CreateDiscoverer(r.Context(), wims.Discoverer{EventBus: req.EventBus, Description: req.Description})
	if err != nil {
		return err
	}
	w.Header().Set("Location", location("discoverers", d.ID))
	return s.writeJSON(w, r, http.StatusCreated, viewDiscoverer(d))
}

func (s *Server) handleGetDiscoverer(w http.ResponseWriter, r *http.Request) error {
	d, err := s.schemas.DescribeDiscoverer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewDiscoverer(d))
}

func (s *Server) handleDeleteDiscoverer(w http.ResponseWriter, r *http.Request) error {
	if err := s.schemas.DeleteDiscoverer(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) discovererStateHandler(state string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := s.schemas.SetDiscovererState(r.Context(), r.PathValue("id"), state)
		if err != nil {
			return err
		}
		return s.writeJSON(w, r, http.StatusOK, viewDiscoverer(d))
	}
}

// renamedField names a field this API calls otherwise than the registry.
func renamedField(err error, from, to string) error {
	if wims.ErrorField(err) == from {
		return renamed(err, to)
	}
	return err
}
