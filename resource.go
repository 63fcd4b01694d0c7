package wims

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxResourceNameLength bounds a resource name in bytes. The longest real
// name, a target key (bus|rule|id), is 256+1+64+1+64 bytes; the slack keeps
// room for kinds added later without letting names grow unbounded in the
// primary key index.
const MaxResourceNameLength = 1024

// ResourceKey is the change key of a resource: its name, under the same
// field for every kind.
func ResourceKey(name string) map[string]string { return map[string]string{"name": name} }

// ValidateResourceWrites checks a batch for ApplyResources before any of it
// is written, so that both engines reject the same input the same way.
// Returns EINVALID for an empty batch and FieldError "op", "kind", "name" or
// "doc" for the first bad write.
func ValidateResourceWrites(writes []ResourceWrite) error {
	if len(writes) == 0 {
		return Errorf(EINVALID, "no resource writes")
	}
	for _, w := range writes {
		if err := w.validate(); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one write. Names and kinds must be valid UTF-8 without NUL
// because PostgreSQL text can hold neither; SQLite could, and checking here
// keeps the engines alike.
func (w ResourceWrite) validate() error {
	r := w.Resource
	switch w.Op {
	case ResourceCreate, ResourceUpdate, ResourceUpsert, ResourceDelete:
	default:
		return FieldError("op", "unknown resource operation %d", w.Op)
	}
	if err := ValidateResourceKey(r.Kind, r.Name); err != nil {
		return err
	}
	if w.Op == ResourceDelete {
		return nil // a delete names the resource; its document is the stored one
	}
	// The document is the change image, and images are JSON objects: rules
	// match their top-level fields and ChangedColumns lists them. utf8.Valid
	// because json.Valid accepts invalid UTF-8 inside strings, which
	// PostgreSQL text would refuse.
	trimmed := bytes.TrimLeft(r.Doc, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(r.Doc) || !utf8.Valid(r.Doc) {
		return FieldError("doc", "%s must be a JSON object", r)
	}
	return nil
}

// ValidateResourceKey checks a resource's kind and name: both non-empty,
// valid UTF-8 without NUL, and the name at most MaxResourceNameLength bytes.
// Returns FieldError "kind" or "name".
func ValidateResourceKey(kind ResourceKind, name string) error {
	if err := validResourceText(string(kind)); err != nil {
		return FieldError("kind", "%s", err.Message)
	}
	if err := validResourceText(name); err != nil {
		return FieldError("name", "%s", err.Message)
	}
	if len(name) > MaxResourceNameLength {
		return FieldError("name", "must be at most %d bytes", MaxResourceNameLength)
	}
	return nil
}

// validResourceText checks a kind or a name; see ValidateResourceKey.
func validResourceText(s string) *Error {
	switch {
	case s == "":
		return Errorf(EINVALID, "is required")
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return Errorf(EINVALID, "must not contain NUL")
	}
	return nil
}

// ResourcePlan is what one ResourceWrite does to the stored resource, worked
// out by PlanResourceWrite from the row as the transaction sees it. The
// engines only carry it out, so the rules of the operations live here once.
type ResourcePlan struct {
	// EventType is ChangeInsert (store New as a new row), ChangeUpdate
	// (replace the row with New) or ChangeRemove (delete the row).
	EventType string
	// Old is the stored resource before the write (zero for an insert), New
	// the resource after it (zero for a remove).
	Old, New Resource
}

// Result is what ApplyResources returns for the write: the resource as
// written, or for a delete as it was.
func (p ResourcePlan) Result() Resource {
	if p.EventType == ChangeRemove {
		return p.Old
	}
	return p.New
}

// PlanResourceWrite decides what w does given the stored resource old (found
// false: there is none), stamping the result with now: a create or an upsert
// of a new resource sets CreatedAt and UpdatedAt, an update or an upsert of
// an existing one keeps CreatedAt. Returns ECONFLICT for creating a resource
// that exists and ENOTFOUND for updating or deleting one that does not. w
// must have passed ValidateResourceWrites.
func PlanResourceWrite(w ResourceWrite, old Resource, found bool, now time.Time) (ResourcePlan, error) {
	switch {
	case w.Op == ResourceCreate && found:
		return ResourcePlan{}, Errorf(ECONFLICT, "%s already exists", w.Resource)
	case (w.Op == ResourceUpdate || w.Op == ResourceDelete) && !found:
		return ResourcePlan{}, Errorf(ENOTFOUND, "%s not found", w.Resource)
	case w.Op == ResourceDelete:
		return ResourcePlan{EventType: ChangeRemove, Old: old}, nil
	}
	// Copies, so the stored row and the result do not alias the caller's
	// slices. An empty secret is no secret (stored as NULL, read as nil).
	r := Resource{
		Kind: w.Resource.Kind, Name: w.Resource.Name,
		Doc: bytes.Clone(w.Resource.Doc), CreatedAt: now, UpdatedAt: now,
	}
	if len(w.Resource.Secret) > 0 {
		r.Secret = bytes.Clone(w.Resource.Secret)
	}
	if !found {
		return ResourcePlan{EventType: ChangeInsert, New: r}, nil
	}
	r.CreatedAt = old.CreatedAt
	return ResourcePlan{EventType: ChangeUpdate, Old: old, New: r}, nil
}

// Change builds the change record of the plan: table = the kind, key
// {"name"}, and the documents, byte for byte, as the images. The secrets are
// not part of it.
func (p ResourcePlan) Change(at time.Time, traceParent string) (Change, error) {
	r := p.Result()
	return NewDocChange(string(r.Kind), ResourceKey(r.Name), p.Old.Doc, p.New.Doc, at, traceParent)
}

// PrefixEnd returns the least string greater than every string that starts
// with prefix, for the range query name >= prefix AND name < end, which an
// index on name can serve (LIKE would need escaping and, in PostgreSQL, a
// pattern-ops index). ok is false when there is no such bound (prefix is
// empty or all U+10FFFF): then every name >= prefix matches. prefix must be
// valid UTF-8; end then is too, as PostgreSQL requires of text, because it
// increments the last code point (skipping surrogates) instead of appending
// an invalid byte such as 0xFF. UTF-8 byte order is code-point order, so the
// bound is right for byte-order (C) collations.
func PrefixEnd(prefix string) (end string, ok bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		switch {
		case r == utf8.MaxRune:
			continue // carry: nothing follows U+10FFFF, so bump the rune before
		case r == 0xD7FF:
			r = 0xE000 // skip the surrogates, which UTF-8 cannot encode
		default:
			r++
		}
		return prefix + string(r), true
	}
	return "", false
}

// ValidatePrefix checks a ListResources prefix. Names are valid UTF-8
// without NUL, and PostgreSQL could not even take a prefix that is not as a
// parameter, so it is refused rather than matched byte-wise (a lone lead
// byte such as "\xc3" would otherwise match the names starting with "é").
// Returns FieldError "prefix".
func ValidatePrefix(prefix string) error {
	if !utf8.ValidString(prefix) || strings.IndexByte(prefix, 0) >= 0 {
		return FieldError("prefix", "must be valid UTF-8 without NUL")
	}
	return nil
}
