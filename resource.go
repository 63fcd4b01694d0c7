package wims

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	for i, w := range writes {
		if err := w.validate(); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
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

// ResourceRows are the row operations on an engine's resources table inside
// one write transaction. ApplyResourceWrites drives them, so the rules of
// the operations live here once and the engines hold only their SQL.
type ResourceRows interface {
	// Get reads a resource; found is false if there is none.
	Get(kind ResourceKind, name string) (r Resource, found bool, err error)
	// Insert stores a new resource, Update replaces an existing one's Doc,
	// Secret and UpdatedAt, and Delete removes one.
	Insert(r Resource) error
	Update(r Resource) error
	Delete(kind ResourceKind, name string) error
	// Record appends a change to the change log in the same transaction.
	Record(c Change) error
}

// ApplyResourceWrites carries out writes, which must have passed
// ValidateResourceWrites, in order through rows, and records one change per
// write (table = kind, key {"name"}, the documents byte for byte as images,
// never the secrets), stamped now. A create or an upsert of a new resource
// sets CreatedAt and UpdatedAt to now, an update or an upsert of an existing
// one keeps CreatedAt. It returns each resource as written, or for a delete
// as it was. Returns ECONFLICT for creating a resource that exists and
// ENOTFOUND for updating or deleting one that does not; the caller's
// transaction must then be rolled back, as earlier writes went through.
func ApplyResourceWrites(rows ResourceRows, writes []ResourceWrite, now time.Time, traceParent string) ([]Resource, error) {
	out := make([]Resource, 0, len(writes))
	for i, w := range writes {
		r, err := applyResourceWrite(rows, w, now, traceParent)
		if err != nil {
			return nil, fmt.Errorf("write %d (%s): %w", i, w.Resource, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// applyResourceWrite is one write of ApplyResourceWrites.
func applyResourceWrite(rows ResourceRows, w ResourceWrite, now time.Time, traceParent string) (Resource, error) {
	old, found, err := rows.Get(w.Resource.Kind, w.Resource.Name)
	if err != nil {
		return Resource{}, err
	}
	switch {
	case w.Op == ResourceCreate && found:
		return Resource{}, Errorf(ECONFLICT, "%s already exists", w.Resource)
	case (w.Op == ResourceUpdate || w.Op == ResourceDelete) && !found:
		return Resource{}, ResourceNotFound(w.Resource.Kind, w.Resource.Name)
	case w.Op == ResourceDelete:
		if err := rows.Delete(old.Kind, old.Name); err != nil {
			return Resource{}, err
		}
		return old, recordResourceChange(rows, old.Doc, nil, old, now, traceParent)
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
	if found {
		r.CreatedAt = old.CreatedAt
		err = rows.Update(r)
	} else {
		err = rows.Insert(r)
	}
	if err != nil {
		return Resource{}, err
	}
	var oldDoc json.RawMessage
	if found {
		oldDoc = old.Doc
	}
	return r, recordResourceChange(rows, oldDoc, r.Doc, r, now, traceParent)
}

// recordResourceChange records the change of resource r from oldDoc to
// newDoc (nil for none). Schemas and their versions are not recorded: the
// discoverer writes them because of events, and their change events would
// be events it discovers, each changing the shape of the next; they are
// also up to 100 KB of content that no rule needs.
func recordResourceChange(rows ResourceRows, oldDoc, newDoc json.RawMessage, r Resource, now time.Time, traceParent string) error {
	if r.Kind == KindSchema || r.Kind == KindSchemaVersion {
		return nil
	}
	c, err := NewDocChange(string(r.Kind), ResourceKey(r.Name), oldDoc, newDoc, now, traceParent)
	if err != nil {
		return fmt.Errorf("record %w", err)
	}
	return rows.Record(c)
}

// ResourceNotFound is the ENOTFOUND error about a resource.
func ResourceNotFound(kind ResourceKind, name string) error {
	return Errorf(ENOTFOUND, "%s not found", Resource{Kind: kind, Name: name})
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
