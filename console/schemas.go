package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wims/wims"
)

func init() {
	pageNames = append(pageNames, "schemas", "schema-version")
}

// schemasPerPage is the length of a page of schemas.
const schemasPerPage = 50

// maxDiffLines bounds each side of a diff: the line diff costs the product
// of the two lengths, so longer versions are shown side by side instead.
const maxDiffLines = 2000

// schemasView is the schemas page: the registries, and one registry's
// schemas a page at a time.
type schemasView struct {
	Registries []wims.Registry
	Registry   string
	Schemas    []wims.Schema
	Pages      pageLinks
}

// handleSchemas lists the registries and the schemas of ?registry=
// (default: the discovered schemas).
func (h *Handler) handleSchemas(w http.ResponseWriter, r *http.Request, s *session) {
	if h.schemas == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The schema registry is not available in this configuration.")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	v := schemasView{Registry: q.Get("registry")}
	if v.Registry == "" {
		v.Registry = wims.DiscoveredRegistry
	}
	var err error
	if v.Registries, err = h.schemas.ListRegistries(ctx, ""); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	schemas, err := h.schemas.ListSchemas(ctx, wims.SchemaFilter{Registry: v.Registry})
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	p, _ := strconv.Atoi(q.Get("page"))
	from, to, links := pageOf(len(schemas), max(p, 0), schemasPerPage, func(p int) string {
		return "/ui/schemas?" + url.Values{"registry": {v.Registry}, "page": {strconv.Itoa(p)}}.Encode()
	})
	v.Schemas, v.Pages = schemas[from:to], links
	h.renderView(w, r, http.StatusOK, "schemas", view{Title: "Schemas", Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v})
}

// diffLine is one line of a diff: Op is "+" (added), "-" (removed) or " ".
type diffLine struct{ Op, Text string }

// schemaVersionView is the page of one version of a schema.
type schemaVersionView struct {
	Schema   wims.Schema
	Versions []wims.SchemaVersion
	Content  string
	// Previous is the version before, "" for the first; Diff its line diff
	// to this one, or, when too long to diff, PrevContent side by side.
	Previous    string
	Diff        []diffLine
	PrevContent string
	Added       int
	Removed     int
}

// handleSchemaVersion shows a version's content (the latest without
// ?version=), the schema's versions and what changed since the previous.
func (h *Handler) handleSchemaVersion(w http.ResponseWriter, r *http.Request, s *session) {
	if h.schemas == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The schema registry is not available in this configuration.")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	registry, name := q.Get("registry"), q.Get("name")
	if registry == "" || name == "" || len(registry) > maxPlatformName || len(name) > maxPlatformName {
		h.renderError(w, r, s, http.StatusNotFound, "No such schema.")
		return
	}
	sc, err := h.schemas.DescribeSchema(ctx, registry, name, q.Get("version"))
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v := schemaVersionView{Schema: sc, Content: prettyJSON(sc.Content)}
	if v.Versions, err = h.schemas.ListSchemaVersions(ctx, registry, name); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	for i, ver := range v.Versions {
		if ver.Version == sc.Version && i > 0 {
			v.Previous = v.Versions[i-1].Version
		}
	}
	if v.Previous != "" {
		prev, err := h.schemas.DescribeSchema(ctx, registry, name, v.Previous)
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		old, cur := strings.Split(prettyJSON(prev.Content), "\n"), strings.Split(v.Content, "\n")
		if len(old) <= maxDiffLines && len(cur) <= maxDiffLines {
			v.Diff = diffLines(old, cur)
			for _, d := range v.Diff {
				switch d.Op {
				case "+":
					v.Added++
				case "-":
					v.Removed++
				}
			}
		} else {
			v.PrevContent = prettyJSON(prev.Content)
		}
	}
	h.renderView(w, r, http.StatusOK, "schema-version", view{
		Title: "Schema " + sc.Name + " version " + sc.Version, Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
	})
}

// prettyJSON indents a JSON document, or returns it as it is.
func prettyJSON(s string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(s), "", "  ") == nil {
		return b.String()
	}
	return s
}

// diffLines is the line diff of a to b from their longest common
// subsequence: removed lines before added ones at each change.
func diffLines(a, b []string) []diffLine {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{" ", a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", a[i]})
			i++
		default:
			out = append(out, diffLine{"+", b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, diffLine{"-", a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, diffLine{"+", b[j]})
	}
	return out
}
