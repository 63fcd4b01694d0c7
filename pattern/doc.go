// Package pattern implements Amazon EventBridge's event-pattern language:
// patterns are compiled once and matched against raw JSON event bytes, one
// at a time (Pattern) or many named rules at once (Matcher).
//
// # Semantics
//
// A pattern is a JSON object mirroring the event. Leaves are arrays of
// candidate values, OR'd; fields are AND'd; event fields the pattern does not
// name are ignored; key names are case-sensitive. The operators are exact
// values (strings, numbers, true, false, null), prefix and suffix (each also
// with equals-ignore-case), equals-ignore-case, wildcard, anything-but (a
// value, a list, or prefix/suffix/equals-ignore-case/wildcard forms),
// numeric, exists, cidr and $or. Where the AWS documentation and the
// reference implementation (aws/event-ruler) disagree, this package follows
// event-ruler, which is what AWS runs:
//
//   - Numbers are normalised: an exact 300 matches 300.0 and 3e2, in exact
//     values, anything-but and numeric alike (AWS-validated; the old user
//     guide says otherwise). Only literals that are exactly a double (the
//     shortest decimal of their float64, as the ruler's ComparableNumber
//     requires) have a numeric form. Any other number, in a pattern or an
//     event (12345678901234567890123, 0.1000000000000000000001, 1e-400, an
//     event's 1e400), is compared by its literal text only, as the ruler
//     does: no numeric range matches it and anything-but never excludes it.
//     numeric and anything-but operands must be exactly a double, and exact
//     values beyond the float64 range are rejected (the ruler keeps those as
//     text; here they are an error).
//   - Dotted keys are joined: {"a.b":[..]} is {"a":{"b":[..]}}, in patterns
//     and events.
//   - Duplicate keys in a pattern are resolved per flattened path: every
//     copy is validated, the last copy of a path wins (the ruler's default
//     rule overriding), and duplicate objects merge path by path. In an
//     event every occurrence is seen (the scanner streams, as the ruler's
//     parser does).
//   - Arrays: a field matches when any element matches; objects inside
//     arrays are "crushed" (arrays do not appear in paths). Matching is
//     array-consistent: the values that satisfy the fields of one pattern
//     (or of one $or branch) may not come from different elements of the
//     same array. An empty array has no values.
//   - exists:true holds when the path has at least one leaf value (null and
//     "" count; an object or an empty array does not). exists:false holds
//     when the path has no leaf value in the same array elements as the
//     values chosen for the other fields: each array element is its own
//     object, so {"a":{"b":[{"exists":false}],"c":["x"]}} matches
//     {"a":[{"c":"x"},{"b":1}]}. (The ruler checks absence only against the
//     fields it matched before the absent key in sorted order; this does not
//     depend on key order.) exists may share a leaf array with other
//     matchers, OR'd.
//   - anything-but matches null, booleans and values of the other type;
//     never a missing field; on an array it matches when some element is
//     not excluded.
//   - cidr takes masks 0-31 (IPv4) and 0-127 (IPv6) and rejects /32 and
//     /128 like the ruler's CIDR.java; host bits are masked. Event strings
//     are parsed as addresses, so uncompressed IPv6 matches. Strings that
//     are not addresses, and non-strings, never match.
//   - $or: an array of at least two objects, at any level, nestable. Inside
//     a $or branch, at any depth, the ruler's reserved names (the operators,
//     "=", "<", "<=", ">", ">=", and names kept for future operators such as
//     "regex") may not be field names, and "$or" must be an array. Outside
//     $or, a field literally named "$or" whose value is an object is an
//     ordinary field.
//
// Deviations: case-insensitive comparison uses Unicode simple case folding
// rune by rune (the equivalence of strings.EqualFold), so "straße" does not
// match "STRASSE" as it does in the ruler. Exact string matches do not treat
// IP addresses canonically (the ruler matches "2001:db8::1" against
// "2001:0db8:0:0:0:0:0:1" in exact matches; use cidr). The undocumented
// "exactly" operator is rejected. Wildcard complexity is capped by a simple,
// predictable rule, at most five '*' per pattern (the ruler measures
// automaton complexity; AWS rejects the six-star "*:*:*:*:*:event-bus/*").
//
// # Limits and errors
//
// Compile rejects sources over MaxPatternSize bytes and patterns whose $or
// arrays multiply to more than MaxOrCombinations, and reports every invalid
// pattern as an *Error whose Path is the dotted field path and whose Reason
// mirrors the AWS/ruler message. Events must be JSON objects no deeper than
// MaxEventDepth; anything else is an *EventError. Skipped parts of an event
// are checked structurally (strings, escapes, numbers, literals, nesting)
// but invalid UTF-8 is not rejected.
//
// # Performance design
//
// Events are never decoded into maps. A byte-level scanner (scan.go) walks
// the event once, following a trie of the field paths the rules use and
// skipping every other subtree with a validating skip; strings are scanned
// eight bytes at a time. Only values at used paths are materialised, with
// their array coordinates, into pooled scratch space, so a match allocates
// nothing in steady state.
//
// Work is shared across rules. Identical conditions are compiled once. Each
// rule (each $or branch) is anchored on its most selective indexable
// condition (exact string/number/literal, prefix, suffix, equals-ignore-case
// and its prefix/suffix forms, cidr, or a wildcard's literal prefix or
// suffix), chosen by how many rules share the key. A value's lookups in the
// per-path hash maps (prefixes and suffixes by length, cidrs by mask length)
// fire only the rules anchored there; those candidates, plus the rules with
// no indexable condition at all, are then verified with memoised condition
// evaluation and, when arrays are involved, an array-consistency search. The
// cost therefore follows the event and the number of candidate rules rather
// than the total rule count. Known weak spot: many wildcards sharing the
// same literal prefix and suffix (e.g. "arn:aws:x:*:order/O-1*") all become
// candidates for every value with that prefix.
//
// Matcher publishes immutable snapshots through an atomic pointer: Match
// takes no lock, Add and Remove copy on write, and the combined machine of
// a snapshot is built on first use.
package pattern
