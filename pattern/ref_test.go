package pattern

import (
	"bytes"
	"encoding/json"
	"io"
	"math/big"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// An independent, deliberately simple and slow evaluator. It decodes with
// encoding/json, flattens the event into (path, value, array coordinates)
// leaves and evaluates the pattern by brute force. The fast matcher must agree
// with it on every table case and in FuzzMatch, which is how scanner and
// index bugs get caught.

type refNode struct {
	kind int // 0 null, 1 bool, 2 number, 3 string, 4 array, 5 object
	b    bool
	n    json.Number
	s    string
	arr  []*refNode
	keys []string
	vals []*refNode
}

// refDecode keeps duplicate keys (the fast scanner sees every occurrence).
func refDecode(d *json.Decoder) (*refNode, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			n := &refNode{kind: 4}
			for d.More() {
				e, err := refDecode(d)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, e)
			}
			_, err := d.Token()
			return n, err
		}
		n := &refNode{kind: 5}
		for d.More() {
			kt, err := d.Token()
			if err != nil {
				return nil, err
			}
			e, err := refDecode(d)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, kt.(string))
			n.vals = append(n.vals, e)
		}
		_, err := d.Token()
		return n, err
	case bool:
		return &refNode{kind: 1, b: v}, nil
	case json.Number:
		return &refNode{kind: 2, n: v}, nil
	case string:
		return &refNode{kind: 3, s: v}, nil
	}
	return &refNode{kind: 0}, nil
}

type refCoord struct{ arr, idx int }

type refLeaf struct {
	path   string
	v      *refNode
	coords []refCoord
}

func refFlatten(n *refNode, path string, root bool, coords []refCoord, arrays *int, out *[]refLeaf) {
	switch n.kind {
	case 5:
		for i, k := range n.keys {
			p := k
			if !root {
				p = path + "." + k
			}
			refFlatten(n.vals[i], p, false, coords, arrays, out)
		}
	case 4:
		id := *arrays
		*arrays++
		for i, e := range n.arr {
			c := append(append([]refCoord{}, coords...), refCoord{id, i})
			refFlatten(e, path, root, c, arrays, out)
		}
	default:
		*out = append(*out, refLeaf{path, n, coords})
	}
}

type refField struct {
	path string
	vals []any
}

// refValue converts a decoded leaf value (a match candidate) to the loose
// form refMatch works on. Match expressions have a single key, so a map is
// fine there.
func refValue(n *refNode) any {
	switch n.kind {
	case 1:
		return n.b
	case 2:
		return n.n
	case 3:
		return n.s
	case 4:
		out := make([]any, len(n.arr))
		for i, e := range n.arr {
			out[i] = refValue(e)
		}
		return out
	case 5:
		m := map[string]any{}
		for i, k := range n.keys {
			m[k] = refValue(n.vals[i])
		}
		return m
	}
	return nil
}

// refPut adds a field to a conjunction; a later copy of a path replaces an
// earlier one (event-ruler's per-path map, rule overriding on).
func refPut(c []refField, f refField) []refField {
	out := []refField{}
	for _, g := range c {
		if g.path != f.path {
			out = append(out, g)
		}
	}
	return append(out, f)
}

// refExpand turns a decoded pattern object, duplicate keys and all, into its
// $or-free conjunctions, processing keys in document order.
func refExpand(obj *refNode, prefix string, root bool) [][]refField {
	res := [][]refField{{}}
	for i, k := range obj.keys {
		v := obj.vals[i]
		var alts [][]refField
		if k == "$or" && v.kind == 4 {
			for _, b := range v.arr {
				alts = append(alts, refExpand(b, prefix, root)...)
			}
		} else {
			p := k
			if !root {
				p = prefix + "." + k
			}
			switch v.kind {
			case 5:
				alts = refExpand(v, p, false)
			case 4:
				alts = [][]refField{{{p, refValue(v).([]any)}}}
			}
		}
		var next [][]refField
		for _, a := range res {
			for _, b := range alts {
				c := a
				for _, f := range b {
					c = refPut(c, f)
				}
				next = append(next, c)
			}
		}
		res = next
	}
	return res
}

func refNum(n json.Number) float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// refExact reports whether a number literal is exactly the double it parses
// to, comparing rationals (the fast matcher compares digit strings).
func refExact(n json.Number) bool {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil { // out of range
		return false
	}
	mant, _, _ := strings.Cut(strings.ToLower(string(n)), "e")
	if strings.Trim(mant, "-0.") == "" {
		return true // zero, whatever the exponent
	}
	if f == 0 {
		return false // underflow; also keeps big.Rat away from huge exponents
	}
	lit, ok := new(big.Rat).SetString(string(n))
	if !ok {
		panic("bad number " + string(n))
	}
	short, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return lit.Cmp(short) == 0
}

func refWildcard(p string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString(`(?s)^`)
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			sb.WriteString(`.*`)
		case '\\':
			i++
			sb.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			sb.WriteString(regexp.QuoteMeta(string(p[i])))
		}
	}
	sb.WriteString(`$`)
	return regexp.MustCompile(sb.String())
}

func refHasPrefixFold(s, p string) bool {
	for i := 0; i <= len(s); i++ {
		if (i == len(s) || utf8.RuneStart(s[i])) && strings.EqualFold(s[:i], p) {
			return true
		}
	}
	return false
}

func refHasSuffixFold(s, p string) bool {
	for i := 0; i <= len(s); i++ {
		if (i == len(s) || utf8.RuneStart(s[i])) && strings.EqualFold(s[i:], p) {
			return true
		}
	}
	return false
}

// refMatch evaluates one candidate of a leaf array against one event value.
// It returns (match, isExistsFalse).
func refMatch(cond any, v *refNode) bool {
	switch c := cond.(type) {
	case string:
		return v.kind == 3 && v.s == c
	case json.Number:
		if v.kind != 2 {
			return false
		}
		if refExact(c) {
			return refExact(v.n) && refNum(v.n) == refNum(c)
		}
		return string(v.n) == string(c) // no numeric form: text only
	case bool:
		return v.kind == 1 && v.b == c
	case nil:
		return v.kind == 0
	case map[string]any:
		for op, arg := range c {
			switch op {
			case "exists":
				return arg.(bool) // true matches any leaf; false never matches a present leaf
			case "prefix", "suffix":
				if v.kind != 3 {
					return false
				}
				if s, ok := arg.(string); ok {
					if op == "prefix" {
						return strings.HasPrefix(v.s, s)
					}
					return strings.HasSuffix(v.s, s)
				}
				s := arg.(map[string]any)["equals-ignore-case"].(string)
				if op == "prefix" {
					return refHasPrefixFold(v.s, s)
				}
				return refHasSuffixFold(v.s, s)
			case "equals-ignore-case":
				return v.kind == 3 && strings.EqualFold(v.s, arg.(string))
			case "wildcard":
				return v.kind == 3 && refWildcard(arg.(string)).MatchString(v.s)
			case "cidr":
				if v.kind != 3 {
					return false
				}
				p := netip.MustParsePrefix(arg.(string)).Masked()
				a, err := netip.ParseAddr(v.s)
				return err == nil && p.Contains(a)
			case "numeric":
				if v.kind != 2 || !refExact(v.n) {
					return false
				}
				f := refNum(v.n)
				ops := arg.([]any)
				for i := 0; i < len(ops); i += 2 {
					x := refNum(ops[i+1].(json.Number))
					switch ops[i].(string) {
					case "=":
						if f != x {
							return false
						}
					case "<":
						if !(f < x) {
							return false
						}
					case "<=":
						if !(f <= x) {
							return false
						}
					case ">":
						if !(f > x) {
							return false
						}
					case ">=":
						if !(f >= x) {
							return false
						}
					}
				}
				return true
			case "anything-but":
				return !refExcluded(arg, v)
			}
		}
	}
	return false
}

func refExcluded(arg any, v *refNode) bool {
	switch a := arg.(type) {
	case string:
		return v.kind == 3 && v.s == a
	case json.Number:
		return v.kind == 2 && refExact(v.n) && refNum(v.n) == refNum(a)
	case []any:
		for _, e := range a {
			if refExcluded(e, v) {
				return true
			}
		}
		return false
	case map[string]any:
		if v.kind != 3 {
			return false
		}
		for op, x := range a {
			var list []string
			if s, ok := x.(string); ok {
				list = []string{s}
			} else {
				for _, e := range x.([]any) {
					list = append(list, e.(string))
				}
			}
			for _, s := range list {
				switch op {
				case "prefix":
					if strings.HasPrefix(v.s, s) {
						return true
					}
				case "suffix":
					if strings.HasSuffix(v.s, s) {
						return true
					}
				case "equals-ignore-case":
					if strings.EqualFold(v.s, s) {
						return true
					}
				case "wildcard":
					if refWildcard(s).MatchString(v.s) {
						return true
					}
				}
			}
		}
	}
	return false
}

func refCompatible(a, b []refCoord) bool {
	for _, x := range a {
		for _, y := range b {
			if x.arr == y.arr && x.idx != y.idx {
				return false
			}
		}
	}
	return true
}

// refEval returns (matches, error-if-event-invalid). The pattern must be
// valid.
func refEval(pattern, event []byte) (bool, bool) {
	if !json.Valid(event) {
		return false, false
	}
	d := json.NewDecoder(bytes.NewReader(event))
	d.UseNumber()
	root, err := refDecode(d)
	if err != nil || root.kind != 5 {
		return false, false
	}
	if _, err := d.Token(); err != io.EOF {
		return false, false
	}
	var leaves []refLeaf
	arrays := 0
	refFlatten(root, "", true, nil, &arrays, &leaves)

	pd := json.NewDecoder(bytes.NewReader(pattern))
	pd.UseNumber()
	pobj, err := refDecode(pd)
	if err != nil {
		panic(err)
	}
	for _, c := range refExpand(pobj, "", true) {
		var opts []refOptions
		ok := true
		for _, f := range c {
			o := refOptions{}
			for _, cand := range f.vals {
				if m, isMap := cand.(map[string]any); isMap {
					if e, ok := m["exists"]; ok && e == false {
						o.absentOK = true
					}
				}
			}
			for _, l := range leaves {
				if l.path != f.path {
					continue
				}
				o.present = append(o.present, l)
				for _, cand := range f.vals {
					if refMatch(cand, l.v) {
						o.hits = append(o.hits, l)
						break
					}
				}
			}
			if len(o.hits) == 0 && !o.absentOK {
				ok = false
				break
			}
			opts = append(opts, o)
		}
		if ok && refChoose(opts, nil, nil) {
			return true, true
		}
	}
	return false, true
}

// refOptions are the ways one field can hold: one of its hits, or (for
// exists:false) absence, meaning no leaf at its path lies in the same array
// elements as the leaves chosen for the other fields.
type refOptions struct {
	hits     []refLeaf
	absentOK bool
	present  []refLeaf // every leaf at the path
}

func refChoose(opts []refOptions, chosen []refLeaf, absent [][]refLeaf) bool {
	if len(opts) == 0 {
		for _, ls := range absent {
			for _, l := range ls {
				if refCompatibleAll(chosen, l) {
					return false
				}
			}
		}
		return true
	}
	for _, h := range opts[0].hits {
		if refCompatibleAll(chosen, h) && refChoose(opts[1:], append(append([]refLeaf{}, chosen...), h), absent) {
			return true
		}
	}
	return opts[0].absentOK && refChoose(opts[1:], chosen, append(append([][]refLeaf{}, absent...), opts[0].present))
}

func refCompatibleAll(chosen []refLeaf, l refLeaf) bool {
	for _, c := range chosen {
		if !refCompatible(c.coords, l.coords) {
			return false
		}
	}
	return true
}
