package pattern

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Limits enforced by Compile.
const (
	// MaxPatternSize is the largest accepted pattern source in bytes (the
	// EventBridge quota is 2048 characters; we count bytes).
	MaxPatternSize = 2048
	// MaxOrCombinations caps the product of the sizes of all $or arrays.
	MaxOrCombinations = 1000
)

// field is one AND-ed condition of a compiled pattern: the value at path must
// satisfy one of alts, or (when existsFalse) the path must have no leaf value.
type field struct {
	path        string
	alts        []matcher
	existsFalse bool
	key         string // canonical form: path + sorted matcher keys
}

// conj is one alternative of a pattern after $or expansion: all fields must
// hold, with array-consistent values.
type conj []field

// reserved names may not be field names anywhere inside a $or branch, at any
// depth: event-ruler's JsonRuleCompiler checks every key it meets while
// parsing a branch (parseObjectInsideOrRelationship recurses into nested
// objects and nested $or) against RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP,
// which holds the operators, the numeric comparison signs and the names it
// keeps for future operators. "$or" itself is handled separately (isOr).
var reserved = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"html": true, "=": true, "<": true, "<=": true, ">": true, ">=": true, "regex": true,
	"not-wildcard": true, "not-equals-ignore-case": true, "date-after": true,
	"date-on-or-after": true, "date-before": true, "date-on-or-before": true,
	"in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true,
}

func errAt(path, reason string) *Error { return &Error{Path: path, Reason: reason} }

// joinPath appends key to a dotted path. root distinguishes the top level
// from a parent whose key is "" (so {"":{"":[..]}} is the path ".").
func joinPath(prefix, key string, root bool) string {
	if root {
		return key
	}
	return prefix + "." + key
}

// compilePattern validates src completely and expands it into conjunctions.
func compilePattern(src []byte) ([]conj, *Error) {
	if len(src) > MaxPatternSize {
		return nil, errAt("", "pattern is too long: "+strconv.Itoa(len(src))+" bytes, the limit is "+strconv.Itoa(MaxPatternSize))
	}
	root, err := parsePatternJSON(src)
	if err != nil {
		return nil, err
	}
	if root.kind != jObj {
		return nil, errAt("", "filter is not an object")
	}
	if n := orProduct(root); n > MaxOrCombinations {
		return nil, errAt("", "$or: too many combinations, the product of the sizes of all $or arrays must be at most "+strconv.Itoa(MaxOrCombinations))
	}
	conjs, err := compileObject(root, "", true, false)
	if err != nil {
		return nil, err
	}
	for _, c := range conjs {
		for i := range c {
			f := &c[i]
			keys := make([]string, 0, len(f.alts))
			for j := range f.alts {
				keys = append(keys, f.alts[j].key)
			}
			slices.Sort(keys)
			keys = slices.Compact(keys)
			f.key = f.path + "\x00\x02" + strings.Join(keys, "\x00\x03")
			if f.existsFalse {
				f.key += "\x00\x04!"
			}
		}
	}
	return conjs, nil
}

// isOr reports whether key/value is a $or relationship rather than a field
// that happens to be called "$or".
func isOr(k string, v *jnode) bool { return k == "$or" && v.kind == jArr }

// orProduct multiplies the sizes of all $or arrays, saturating above the cap.
func orProduct(n *jnode) int {
	p := 1
	for i, k := range n.keys {
		v := n.vals[i]
		switch {
		case isOr(k, v):
			p *= max(len(v.arr), 1)
			for _, b := range v.arr {
				if b.kind == jObj {
					p *= orProduct(b)
				}
				if p > MaxOrCombinations {
					return MaxOrCombinations + 1
				}
			}
		case v.kind == jObj:
			p *= orProduct(v)
		}
		if p > MaxOrCombinations {
			return MaxOrCombinations + 1
		}
	}
	return p
}

// set adds f to c, replacing a field with the same flattened path. A later
// copy of a path overrides an earlier one because event-ruler's compiler
// writes each leaf into a map keyed by the flattened path (rule.put), with
// rule overriding on by default (GenericMachine.Builder ruleOverriding=true,
// aws/event-ruler#22). Callers add fields in document order.
func (c conj) set(f field) conj {
	for i := range c {
		if c[i].path == f.path {
			c[i] = f
			return c
		}
	}
	return append(c, f)
}

// product returns every conjunction of a with every conjunction of b; b comes
// later in the document, so its paths override a's.
func product(a, b []conj) []conj {
	out := make([]conj, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			c := make(conj, 0, len(x)+len(y))
			c = append(c, x...)
			for _, f := range y {
				c = c.set(f)
			}
			out = append(out, c)
		}
	}
	return out
}

// compileObject expands one pattern object. inOr is set anywhere below a $or
// branch, where reserved names are refused. Every copy of a duplicate key is
// compiled, so an invalid copy is an error even when a later copy overrides
// it (the ruler parses, and so validates, each copy as it streams past).
func compileObject(n *jnode, prefix string, root, inOr bool) ([]conj, *Error) {
	if len(n.keys) == 0 {
		return nil, errAt(prefix, "empty objects are not allowed")
	}
	out := []conj{{}}
	for i, k := range n.keys {
		v := n.vals[i]
		if inOr && k == "$or" && v.kind != jArr {
			// Inside a branch the ruler takes "$or" as the keyword whatever
			// follows it, and its legacy fallback compiler rejects the
			// enclosing $or array too, so there is no reading as a field.
			return nil, errAt(prefix, "$or: it must be an array followed with $or")
		}
		if inOr && reserved[k] {
			return nil, errAt(prefix, "$or: "+k+" is ruler reserved field name which cannot be used inside $or")
		}
		if isOr(k, v) {
			if len(v.arr) < 2 {
				return nil, errAt(prefix, "$or: there must have at least 2 objects in $or relationship")
			}
			var union []conj
			for _, b := range v.arr {
				if b.kind != jObj {
					return nil, errAt(prefix, "$or: only JSON object is allowed in array of $or relationship")
				}
				sub, err := compileObject(b, prefix, root, true)
				if err != nil {
					return nil, err
				}
				union = append(union, sub...)
			}
			out = product(out, union)
			continue
		}
		path := joinPath(prefix, k, root)
		switch v.kind {
		case jObj:
			sub, err := compileObject(v, path, false, inOr)
			if err != nil {
				return nil, err
			}
			out = product(out, sub)
		case jArr:
			f, err := compileLeaf(v, path)
			if err != nil {
				return nil, err
			}
			for j := range out {
				out[j] = out[j].set(f)
			}
		default:
			return nil, errAt(path, "must be an object or an array")
		}
	}
	return out, nil
}

func compileLeaf(arr *jnode, path string) (field, *Error) {
	f := field{path: path}
	if len(arr.arr) == 0 {
		return f, errAt(path, "empty arrays are not allowed")
	}
	for _, v := range arr.arr {
		var m matcher
		switch v.kind {
		case jStr:
			m = matcher{kind: mExactStr, s: v.s}
		case jNum:
			var err *Error
			if m, err = compileExactNumber(v.s, path); err != nil {
				return f, err
			}
		case jBool:
			m = matcher{kind: mFalse}
			if v.b {
				m.kind = mTrue
			}
		case jNull:
			m = matcher{kind: mNull}
		case jArr:
			return f, errAt(path, "match value must be string, number, true, false, or null")
		case jObj:
			var err *Error
			var existsFalse bool
			m, existsFalse, err = compileExpr(v, path)
			if err != nil {
				return f, err
			}
			if existsFalse {
				f.existsFalse = true
				continue
			}
		}
		m.describe()
		f.alts = append(f.alts, m)
	}
	return f, nil
}

// compileExactNumber compiles a number in a leaf array. event-ruler adds a
// numeric-equality matcher only when the literal is exactly a double
// (JsonRuleCompiler.writeRules swallows ComparableNumber's refusal) and
// always an exact match on the literal text; an event number that is not
// exactly a double is likewise only ever compared as text (ByteMachine falls
// back to the string transition). So 300 matches 300.0, while
// 12345678901234567890123 matches only that spelling. A literal beyond the
// float64 range is refused here, unlike the ruler, which keeps it as text:
// it is almost certainly a mistake, and saying so beats a silent never-match.
func compileExactNumber(lit, path string) (matcher, *Error) {
	f, ok, overflow := exactDouble(lit)
	switch {
	case ok:
		return matcher{kind: mExactNum, f: f}, nil
	case overflow:
		return matcher{}, errAt(path, "number "+lit+" is out of range: numbers must be within the float64 range (about ±1.8e308)")
	}
	return matcher{kind: mExactNumText, s: lit}, nil
}

// abNumber compiles one anything-but number. The ruler encodes each with
// ComparableNumber.generate, which refuses literals that are not exactly a
// double, and reports its message.
func abNumber(lit, path string) (float64, *Error) {
	f, ok, _ := exactDouble(lit)
	if !ok {
		return 0, errAt(path, "anything-but: cannot compare number : "+lit)
	}
	return f, nil
}

// singleKey checks a match-expression object has exactly one key.
func singleKey(o *jnode, path string) (string, *jnode, *Error) {
	switch len(o.keys) {
	case 0:
		return "", nil, errAt(path, "match expression name not found")
	case 1:
		return o.keys[0], o.vals[0], nil
	}
	return "", nil, errAt(path, "only one key allowed in match expression")
}

func compileExpr(o *jnode, path string) (matcher, bool, *Error) {
	k, v, err := singleKey(o, path)
	if err != nil {
		return matcher{}, false, err
	}
	switch k {
	case "prefix", "suffix":
		plain, fold := mPrefix, mPrefixFold
		if k == "suffix" {
			plain, fold = mSuffix, mSuffixFold
		}
		switch v.kind {
		case jStr:
			return matcher{kind: plain, s: v.s}, false, nil
		case jObj:
			k2, v2, err := singleKey(v, path)
			if err != nil {
				return matcher{}, false, err
			}
			if k2 != "equals-ignore-case" {
				return matcher{}, false, errAt(path, "unsupported "+k+" pattern: "+k2)
			}
			if v2.kind != jStr {
				return matcher{}, false, errAt(path, "equals-ignore-case match pattern must be a string")
			}
			return matcher{kind: fold, s: foldString(v2.s)}, false, nil
		}
		return matcher{}, false, errAt(path, k+" match pattern must be a string")
	case "equals-ignore-case":
		if v.kind != jStr {
			return matcher{}, false, errAt(path, "equals-ignore-case match pattern must be a string")
		}
		return matcher{kind: mEqFold, s: foldString(v.s)}, false, nil
	case "wildcard":
		if v.kind != jStr {
			return matcher{}, false, errAt(path, "wildcard match pattern must be a string")
		}
		w, reason := parseWildcard(v.s)
		if reason != "" {
			return matcher{}, false, errAt(path, reason)
		}
		if lit, ok := w.literal(); ok {
			return matcher{kind: mExactStr, s: lit}, false, nil
		}
		return matcher{kind: mWildcard, w: w}, false, nil
	case "anything-but":
		ab, err := compileAnythingBut(v, path)
		if err != nil {
			return matcher{}, false, err
		}
		return matcher{kind: mAnythingBut, ab: ab}, false, nil
	case "numeric":
		return compileNumeric(v, path)
	case "exists":
		if v.kind != jBool {
			return matcher{}, false, errAt(path, "exists match pattern must be either true or false")
		}
		return matcher{kind: mExists}, !v.b, nil
	case "cidr":
		if v.kind != jStr {
			return matcher{}, false, errAt(path, "cidr match pattern must be a string")
		}
		p, reason := parseCIDR(v.s)
		if reason != "" {
			return matcher{}, false, errAt(path, reason)
		}
		return matcher{kind: mCIDR, cidr: p}, false, nil
	}
	return matcher{}, false, errAt(path, "unrecognized match type "+k)
}

const abValueErr = "anything-but: value of anything-but must be an array or single string/number value"

func compileAnythingBut(v *jnode, path string) (*anythingBut, *Error) {
	switch v.kind {
	case jStr:
		return &anythingBut{kind: abStrings, strs: []string{v.s}}, nil
	case jNum:
		f, err := abNumber(v.s, path)
		if err != nil {
			return nil, err
		}
		return &anythingBut{kind: abNumbers, nums: []float64{f}}, nil
	case jArr:
		ab := &anythingBut{}
		if len(v.arr) == 0 {
			return nil, errAt(path, "anything-but: inside anything but list, mixed type is not supported")
		}
		for i, e := range v.arr {
			switch e.kind {
			case jNull:
				return nil, errAt(path, "anything-but: inside anything but list, null is not supported")
			case jBool:
				return nil, errAt(path, "anything-but: inside anything but list, boolean is not supported")
			case jObj, jArr:
				return nil, errAt(path, "anything-but: inside anything but list, start is not supported")
			}
			if i > 0 && e.kind != v.arr[0].kind {
				return nil, errAt(path, "anything-but: inside anything but list, mixed type is not supported")
			}
			if e.kind == jStr {
				ab.kind = abStrings
				ab.strs = append(ab.strs, e.s)
			} else {
				f, err := abNumber(e.s, path)
				if err != nil {
					return nil, err
				}
				ab.kind = abNumbers
				ab.nums = append(ab.nums, f)
			}
		}
		return ab, nil
	case jObj:
		k, val, err := singleKey(v, path)
		if err != nil {
			return nil, err
		}
		ab := &anythingBut{}
		switch k {
		case "prefix":
			ab.kind = abPrefix
		case "suffix":
			ab.kind = abSuffix
		case "equals-ignore-case":
			ab.kind = abFold
		case "wildcard":
			ab.kind = abWildcard
		default:
			return nil, errAt(path, "anything-but: unsupported anything-but pattern: "+k)
		}
		var items []*jnode
		switch val.kind {
		case jStr:
			items = []*jnode{val}
		case jArr:
			if len(val.arr) == 0 {
				return nil, errAt(path, "anything-but: empty arrays are not allowed")
			}
			for _, e := range val.arr {
				if e.kind != jStr {
					what := e.kind.String()
					if e.kind == jObj || e.kind == jArr {
						what = "start"
					}
					return nil, errAt(path, "anything-but: inside anything-but/"+k+" list, "+what+" is not supported")
				}
			}
			items = val.arr
		case jObj:
			return nil, errAt(path, abValueErr)
		default:
			return nil, errAt(path, "anything-but: "+k+" match pattern must be a string")
		}
		for _, e := range items {
			switch ab.kind {
			case abPrefix, abSuffix:
				if e.s == "" {
					return nil, errAt(path, "anything-but: null "+k+" not allowed")
				}
				ab.strs = append(ab.strs, e.s)
			case abFold:
				ab.strs = append(ab.strs, foldString(e.s))
			case abWildcard:
				w, reason := parseWildcard(e.s)
				if reason != "" {
					return nil, errAt(path, "anything-but: "+reason)
				}
				ab.wcs = append(ab.wcs, w)
			}
		}
		return ab, nil
	}
	return nil, errAt(path, abValueErr)
}

func numericOp(s string) bool {
	switch s {
	case "=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func compileNumeric(v *jnode, path string) (matcher, bool, *Error) {
	if v.kind != jArr {
		return matcher{}, false, errAt(path, "numeric: value of numeric must be an array")
	}
	a := v.arr
	m := matcher{kind: mNumeric, lo: -inf, hi: inf, loInc: true, hiInc: true}
	member := func(i int) *Error {
		if i >= len(a) {
			return errAt(path, "numeric: invalid member in numeric match: ]")
		}
		if a[i].kind != jStr {
			t := a[i].s
			switch a[i].kind {
			case jObj:
				t = "{"
			case jArr:
				t = "["
			case jNull:
				t = "null"
			case jBool:
				t = strconv.FormatBool(a[i].b)
			}
			return errAt(path, "numeric: invalid member in numeric match: "+t)
		}
		if !numericOp(a[i].s) {
			return errAt(path, "numeric: unrecognized numeric range operator: "+a[i].s)
		}
		return nil
	}
	value := func(i int) (float64, *Error) {
		op := a[i-1].s
		name := op
		if op == "=" {
			name = "equals"
		}
		if i >= len(a) || a[i].kind != jNum {
			return 0, errAt(path, "numeric: value of "+name+" must be numeric")
		}
		f, ok, _ := exactDouble(a[i].s)
		if !ok {
			return 0, errAt(path, "numeric: cannot compare number : "+a[i].s)
		}
		return f, nil
	}
	if err := member(0); err != nil {
		return m, false, err
	}
	op := a[0].s
	f, err := value(1)
	if err != nil {
		return m, false, err
	}
	switch op {
	case "=":
		m.lo, m.hi = f, f
	case "<", "<=":
		m.hi, m.hiInc = f, op == "<="
	case ">", ">=":
		m.lo, m.loInc = f, op == ">="
	}
	if len(a) == 2 {
		m.describe()
		return m, false, nil
	}
	if op != ">" && op != ">=" {
		return m, false, errAt(path, "numeric: too many elements in numeric expression")
	}
	if err := member(2); err != nil {
		return m, false, err
	}
	op2 := a[2].s
	if op2 != "<" && op2 != "<=" {
		return m, false, errAt(path, "numeric: bad numeric range operator: "+op2)
	}
	f2, err := value(3)
	if err != nil {
		return m, false, err
	}
	if len(a) > 4 {
		return m, false, errAt(path, "numeric: too many terms in numeric range expression")
	}
	m.hi, m.hiInc = f2, op2 == "<="
	if !(m.lo < m.hi) {
		return m, false, errAt(path, "numeric range: bottom must be less than top")
	}
	if math.IsNaN(m.lo) || math.IsNaN(m.hi) {
		return m, false, errAt(path, "numeric range: bottom must be less than top")
	}
	m.describe()
	return m, false, nil
}
