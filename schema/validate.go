package schema

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// resourceURL names the compiled document. It never leaves the compiler;
// any scheme other than file:// keeps relative refs away from the disk.
const resourceURL = "mem:///schema.json"

var printer = message.NewPrinter(language.English)

// Validator checks events against one registered schema. It is safe for
// concurrent use, so a registry can compile once and share it.
type Validator struct {
	schema *jsonschema.Schema
}

// CheckContent reports whether content is acceptable as a schema of type
// typ, so CreateSchema and UpdateSchema can reject a bad document up front
// with a message the user can act on instead of failing later validation.
func CheckContent(typ string, content []byte) error {
	_, err := Compile(typ, content)
	return err
}

// Compile prepares content, a schema of type typ, for validating events.
// OpenAPI 3 documents are validated through their Draft 4 export, so both
// types share one validator and ExportSchema shows exactly what is enforced.
// The compiler never loads anything: a schema must be self-contained, or a
// registered schema could make the registry read files or reach the network.
func Compile(typ string, content []byte) (*Validator, error) {
	doc, err := decodeObject(content)
	if err != nil {
		return nil, err
	}
	var (
		draft4 []byte
		// locate turns a location in the compiled draft 4 document into
		// one in content, for error messages.
		locate = pointer
	)
	switch typ {
	case TypeOpenAPI3:
		version, _ := doc["openapi"].(string)
		if !strings.HasPrefix(version, "3.") {
			return nil, errors.New(`OpenApi3 content needs an "openapi" field with a 3.x version`)
		}
		components, _ := doc["components"].(map[string]any)
		if schemas, _ := components["schemas"].(map[string]any); len(schemas) == 0 {
			return nil, errors.New("OpenApi3 content needs components.schemas")
		}
		var root string
		if draft4, root, err = toDraft4(content); err != nil {
			return nil, err
		}
		locate = func(tokens []string) string { return pointer(openAPILocation(tokens, root)) }
	case TypeJSONSchemaDraft4:
		// The compiler would honour any other draft named here, so a
		// document of this type could silently get different semantics.
		if s, ok := doc["$schema"]; ok && !isDraft4URL(s) {
			return nil, fmt.Errorf("JSONSchemaDraft4 content declares $schema %v; want %q or none", s, draft4URL)
		}
		draft4 = content
	default:
		return nil, fmt.Errorf("unknown schema type %q: want %q or %q", typ, TypeOpenAPI3, TypeJSONSchemaDraft4)
	}

	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(draft4))
	if err != nil {
		return nil, fmt.Errorf("content is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(noLoader{})
	if err := c.AddResource(resourceURL, parsed); err != nil {
		return nil, fmt.Errorf("schema is invalid: %s", oneLine(err.Error()))
	}
	sch, err := c.Compile(resourceURL)
	if err != nil {
		return nil, compileError(err, typ, locate)
	}
	return &Validator{schema: sch}, nil
}

// Validate returns nil when doc conforms to the schema. Otherwise the error
// names one failing location and the reason on one line, e.g.
// "at /detail/quantity: got string, want integer", because it ends up in API
// responses and logs where a multi-line error tree is unreadable.
func (v *Validator) Validate(doc []byte) error {
	if v == nil || v.schema == nil {
		return errors.New("schema: Validator was not made by Compile")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("event is not valid JSON: %v", err)
	}
	err = v.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return errors.New(describe(ve, pointer))
	}
	return errors.New(oneLine(err.Error()))
}

// compileError turns a compiler failure into one line that points into the
// document the user wrote.
func compileError(err error, typ string, locate func([]string) string) error {
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			if typ == TypeOpenAPI3 {
				return fmt.Errorf("OpenApi3 content has an invalid schema: %s", describe(ve, locate))
			}
			return fmt.Errorf("content is not a valid JSON Schema draft 4: %s", describe(ve, locate))
		}
	}
	// Relative refs resolve against the made-up resource URL; show them as
	// the user wrote them.
	msg := strings.ReplaceAll(err.Error(), resourceURL, "")
	msg = strings.ReplaceAll(msg, strings.TrimSuffix(resourceURL, "schema.json"), "")
	if typ == TypeOpenAPI3 {
		msg = strings.ReplaceAll(msg, definitionsRef, componentPrefix)
	}
	var lue *jsonschema.LoadURLError
	if errors.As(err, &lue) {
		ref := strings.TrimPrefix(lue.URL, strings.TrimSuffix(resourceURL, "schema.json"))
		return fmt.Errorf("schema references %s; schemas must be self-contained", ref)
	}
	return fmt.Errorf("schema does not compile: %s", oneLine(msg))
}

// openAPILocation maps a location in the draft 4 export back to the OpenAPI
// document it came from. It is exact for keywords that conversion keeps in
// place, which covers the mistakes a user can make in them.
func openAPILocation(tokens []string, root string) []string {
	out := []string{"components", "schemas"}
	if len(tokens) >= 2 && tokens[0] == "definitions" {
		return append(out, tokens[1:]...)
	}
	return append(append(out, root), tokens...)
}

// describe reduces a validation error tree to one line. The validator walks
// object properties in map order, so "first" is chosen deterministically:
// the deepest failing location (the most specific complaint, and under an
// anyOf the branch that got furthest), preferring a failed constraint over a
// type mismatch there (that branch at least had the right type), ties
// broken by location and message. Type mismatches at that location from
// alternative branches are combined, so a nullable integer given a string
// reports "want integer or null".
func describe(ve *jsonschema.ValidationError, locate func([]string) string) string {
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)
	if len(leaves) == 0 {
		return oneLine(ve.Error())
	}
	isType := func(e *jsonschema.ValidationError) bool {
		_, ok := e.ErrorKind.(*kind.Type)
		return ok
	}
	slices.SortStableFunc(leaves, func(a, b *jsonschema.ValidationError) int {
		if d := len(b.InstanceLocation) - len(a.InstanceLocation); d != 0 {
			return d
		}
		if ta, tb := isType(a), isType(b); ta != tb {
			if ta {
				return 1
			}
			return -1
		}
		if c := slices.Compare(a.InstanceLocation, b.InstanceLocation); c != 0 {
			return c
		}
		return strings.Compare(a.ErrorKind.LocalizedString(printer), b.ErrorKind.LocalizedString(printer))
	})
	first := leaves[0]
	msg := first.ErrorKind.LocalizedString(printer)
	if t, ok := first.ErrorKind.(*kind.Type); ok {
		want := slices.Clone(t.Want)
		for _, l := range leaves[1:] {
			lt, ok := l.ErrorKind.(*kind.Type)
			if !ok || lt.Got != t.Got || !slices.Equal(l.InstanceLocation, first.InstanceLocation) {
				continue
			}
			want = append(want, lt.Want...)
		}
		slices.Sort(want)
		want = slices.Compact(want)
		msg = (&kind.Type{Got: t.Got, Want: want}).LocalizedString(printer)
	}
	return "at " + locate(first.InstanceLocation) + ": " + strings.ReplaceAll(msg, "\n", " ")
}

func collectLeaves(ve *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	if len(ve.Causes) == 0 {
		if ve.ErrorKind != nil {
			*out = append(*out, ve)
		}
		return
	}
	for _, c := range ve.Causes {
		collectLeaves(c, out)
	}
}

// pointer renders an instance location as an RFC 6901 JSON pointer.
func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return "(root)"
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// oneLine folds a possibly multi-line message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// isDraft4URL accepts the spellings of the draft 4 meta-schema URL that the
// compiler recognises.
func isDraft4URL(v any) bool {
	s, _ := v.(string)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	return strings.TrimSuffix(s, "#") == "json-schema.org/draft-04/schema"
}

// noLoader refuses every load, so $ref can only point inside the schema.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("loading %s is not allowed", url)
}
