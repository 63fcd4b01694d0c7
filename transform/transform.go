package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wims/wims"
)

// Predefined variables of input templates ([UG] Predefined variables).
const (
	VarRuleARN       = "aws.events.rule-arn"
	VarRuleName      = "aws.events.rule-name"
	VarIngestionTime = "aws.events.event.ingestion-time"
	VarEvent         = "aws.events.event"
	VarEventJSON     = "aws.events.event.json"
)

var predefined = map[string]bool{
	VarRuleARN: true, VarRuleName: true, VarIngestionTime: true, VarEvent: true, VarEventJSON: true,
}

// RenderContext is what a template may need besides the event: the
// predefined variables that describe the rule and the delivery.
type RenderContext struct {
	RuleARN  string
	RuleName string
	// IngestionTime is when the bus accepted the event; zero means the
	// event's own "time".
	IngestionTime time.Time
}

type mode int

const (
	modeEvent mode = iota
	modeConstant
	modePath
	modeTemplate
)

// segment is a piece of a template: literal text, or a placeholder and
// whether it sits inside a JSON string (which decides how it is spliced).
type segment struct {
	text     string
	name     string
	inString bool
}

// Transformer renders one target's input. It is immutable and safe for
// concurrent use.
type Transformer struct {
	mode     mode
	constant []byte
	path     path
	segments []segment
	json     bool // a JSON template (else a text template)
	vars     map[string]path
}

// Compile checks t's Input, InputPath and InputTransformer and prepares
// them for Render. It returns an EINVALID *wims.Error whose field is
// "Input", "InputPath", "InputTransformer.InputPathsMap" or
// "InputTransformer.InputTemplate".
func Compile(t wims.Target) (*Transformer, error) {
	n := 0
	for _, set := range []bool{t.Input != "", t.InputPath != "", t.InputTransformer != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, wims.FieldError("Input", "only one of Input, InputPath and InputTransformer may be given")
	}
	switch {
	case t.Input != "":
		if !json.Valid([]byte(t.Input)) {
			return nil, wims.FieldError("Input", "must be valid JSON text")
		}
		return &Transformer{mode: modeConstant, constant: compact([]byte(t.Input))}, nil
	case t.InputPath != "":
		if len(t.InputPath) > wims.MaxInputPathLength {
			return nil, wims.FieldError("InputPath", "must be at most %d characters", wims.MaxInputPathLength)
		}
		p, err := parsePath(t.InputPath)
		if err != nil {
			return nil, wims.FieldError("InputPath", "%q: %v", t.InputPath, err)
		}
		return &Transformer{mode: modePath, path: p}, nil
	case t.InputTransformer != nil:
		return compileTemplate(*t.InputTransformer)
	}
	return &Transformer{mode: modeEvent}, nil
}

func compileTemplate(it wims.InputTransformer) (*Transformer, error) {
	const fMap, fTemplate = "InputTransformer.InputPathsMap", "InputTransformer.InputTemplate"
	if len(it.InputPathsMap) > wims.MaxInputPathsMapItems {
		return nil, wims.FieldError(fMap, "may have at most %d entries", wims.MaxInputPathsMapItems)
	}
	vars := make(map[string]path, len(it.InputPathsMap))
	// Sorted, so the same bad map always reports the same key.
	keys := make([]string, 0, len(it.InputPathsMap))
	for k := range it.InputPathsMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(strings.ToLower(k), "aws.") {
			return nil, wims.FieldError(fMap, "key %q: names starting with \"aws.\" are reserved", k)
		}
		if !validKey(k) {
			return nil, wims.FieldError(fMap, "key %q must be 1-256 letters, digits, '_' or '-'", k)
		}
		p, err := parsePath(it.InputPathsMap[k])
		if err != nil {
			return nil, wims.FieldError(fMap, "key %q: path %q: %v", k, it.InputPathsMap[k], err)
		}
		vars[k] = p
	}
	if it.InputTemplate == "" || len(it.InputTemplate) > wims.MaxInputLength {
		return nil, wims.FieldError(fTemplate, "must be 1-%d characters", wims.MaxInputLength)
	}
	segs := parseTemplate(it.InputTemplate)
	var dummy strings.Builder
	for _, s := range segs {
		switch {
		case s.name == "":
			dummy.WriteString(s.text)
		case !s.inString:
			dummy.WriteString("null")
		}
		if s.name != "" && !predefined[s.name] {
			if _, ok := vars[s.name]; !ok {
				return nil, wims.FieldError(fTemplate, "placeholder <%s> is neither an InputPathsMap key nor a predefined variable", s.name)
			}
		}
	}
	isJSON := json.Valid([]byte(dummy.String()))
	if trimmed := strings.TrimSpace(it.InputTemplate); !isJSON && trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[') {
		return nil, wims.FieldError(fTemplate, "looks like JSON but is not valid JSON once its placeholders are filled in (a placeholder cannot be an object key)")
	}
	return &Transformer{mode: modeTemplate, segments: segs, json: isJSON, vars: vars}, nil
}

// validKey is the service model's pattern for InputPathsMap keys.
func validKey(k string) bool {
	if len(k) == 0 || len(k) > 256 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseTemplate splits a template into literals and placeholders, tracking
// JSON string state so each placeholder knows whether it is inside quotes.
func parseTemplate(t string) []segment {
	var segs []segment
	inStr, esc := false, false
	lit := 0
	for i := 0; i < len(t); {
		c := t[i]
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case c == '<':
			j := i + 1
			for j < len(t) && placeholderChar(t[j]) {
				j++
			}
			if j > i+1 && j < len(t) && t[j] == '>' {
				if lit < i {
					segs = append(segs, segment{text: t[lit:i]})
				}
				segs = append(segs, segment{name: t[i+1 : j], inString: inStr})
				i = j + 1
				lit = i
				continue
			}
		}
		i++
	}
	if lit < len(t) {
		segs = append(segs, segment{text: t[lit:]})
	}
	return segs
}

func placeholderChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// ErrInvalidEvent is returned by Render for an event that is not valid
// JSON; no path can be evaluated on it.
var ErrInvalidEvent = errors.New("transform: event is not valid JSON")

// Render returns what the target receives for event. It fails only for an
// event that is not valid JSON (ErrInvalidEvent) when a path must be
// evaluated, and, defensively, if a JSON template renders invalid JSON.
func (t *Transformer) Render(event []byte, rc RenderContext) ([]byte, error) {
	switch t.mode {
	case modeEvent:
		return event, nil
	case modeConstant:
		return t.constant, nil
	}
	if !json.Valid(event) {
		return nil, ErrInvalidEvent
	}
	if t.mode == modePath {
		v, ok := selectPath(event, t.path)
		if !ok {
			return []byte("null"), nil
		}
		return v, nil
	}
	var b bytes.Buffer
	for _, s := range t.segments {
		if s.name == "" {
			b.WriteString(s.text)
			continue
		}
		v, ok := t.value(s.name, event, rc)
		switch {
		case !t.json:
			if ok {
				b.Write(asText(v))
			}
		case !s.inString:
			if !ok {
				v = []byte("null")
			}
			b.Write(v)
		case ok:
			b.Write(inString(v))
		}
	}
	if !t.json {
		return b.Bytes(), nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b.Bytes()); err != nil {
		return nil, fmt.Errorf("transform: template rendered invalid JSON: %w", err)
	}
	return out.Bytes(), nil
}

// value returns the compact JSON of a variable and whether it exists.
func (t *Transformer) value(name string, event []byte, rc RenderContext) ([]byte, bool) {
	switch name {
	case VarRuleARN:
		return quote(rc.RuleARN), true
	case VarRuleName:
		return quote(rc.RuleName), true
	case VarIngestionTime:
		if !rc.IngestionTime.IsZero() {
			return quote(rc.IngestionTime.UTC().Format(time.RFC3339)), true
		}
		if v, ok := member(event, "time"); ok {
			return compact(v), true
		}
		return nil, false
	case VarEventJSON:
		return compact(event), true
	case VarEvent:
		ms, ok := members(event)
		if !ok {
			return nil, false
		}
		var b bytes.Buffer
		b.WriteByte('{')
		n := 0
		for _, m := range ms {
			if m.key == "detail" {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			k := m.key
			if k == "detail-type" {
				k = "detailType"
			}
			b.Write(quote(k))
			b.WriteByte(':')
			b.Write(compact(m.value))
		}
		b.WriteByte('}')
		return b.Bytes(), true
	}
	p, ok := t.vars[name]
	if !ok {
		return nil, false
	}
	return selectPath(event, p)
}

// inString turns compact JSON into text that is valid inside a JSON
// string: a string loses its quotes but keeps its escapes, scalars are
// their JSON text, objects and arrays are escaped as string content.
func inString(v []byte) []byte {
	switch v[0] {
	case '"':
		return v[1 : len(v)-1]
	case '{', '[':
		q := quote(string(v))
		return q[1 : len(q)-1]
	}
	return v
}

// asText is a value's plain text, for text templates: a string decoded,
// anything else its JSON.
func asText(v []byte) []byte {
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return []byte(s)
		}
	}
	return v
}

// quote is s as a JSON string. HTML escaping is off: targets get '<' as
// '<', as EventBridge sends it.
func quote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Select evaluates a JSONPath on event, for the callers that resolve
// dynamic values from the original event (such as path, header and query
// parameters that reference it). It returns the compact JSON of the match
// and whether there was one, or an EINVALID error for a path it cannot
// evaluate and ErrInvalidEvent for an event that is not JSON.
func Select(event []byte, jsonPath string) ([]byte, bool, error) {
	p, err := parsePath(jsonPath)
	if err != nil {
		return nil, false, wims.FieldError("Path", "%q: %v", jsonPath, err)
	}
	if !json.Valid(event) {
		return nil, false, ErrInvalidEvent
	}
	v, ok := selectPath(event, p)
	return v, ok, nil
}
