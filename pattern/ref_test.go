package pattern

import (
	"bytes"
	"encoding/json"
	"io"
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

// refExpand turns a decoded pattern object into its $or-free conjunctions.
func refExpand(obj map[string]any, prefix string, root bool) [][]refField {
	res := [][]refField{{}}
	for k, v := range obj {
		var alts [][]refField
		if arr, ok := v.([]any); ok && k == "$or" {
			for _, b := range arr {
				alts = append(alts, refExpand(b.(map[string]any), prefix, root)...)
			}
		} else {
			p := k
			if !root {
				p = prefix + "." + k
			}
			switch x := v.(type) {
			case map[string]any:
				alts = refExpand(x, p, false)
			case []any:
				alts = [][]refField{{{p, x}}}
			}
		}
		var next [][]refField
		for _, a := range res {
			for _, b := range alts {
				next = append(next, append(append([]refField{}, a...), b...))
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
		return v.kind == 2 && refNum(v.n) == refNum(c)
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
				if v.kind != 2 {
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
		return v.kind == 2 && refNum(v.n) == refNum(a)
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
	var pobj map[string]any
	if err := pd.Decode(&pobj); err != nil {
		panic(err)
	}
	for _, c := range refExpand(pobj, "", true) {
		// candidate leaves per field; nil entry means satisfied by absence
		var choices [][]refLeaf
		ok := true
		for _, f := range c {
			var hits []refLeaf
			present := false
			existsFalse := false
			for _, cand := range f.vals {
				if m, isMap := cand.(map[string]any); isMap {
					if e, ok := m["exists"]; ok && e == false {
						existsFalse = true
					}
				}
			}
			for _, l := range leaves {
				if l.path != f.path {
					continue
				}
				present = true
				for _, cand := range f.vals {
					if refMatch(cand, l.v) {
						hits = append(hits, l)
						break
					}
				}
			}
			if len(hits) == 0 && !(existsFalse && !present) {
				ok = false
				break
			}
			choices = append(choices, hits)
		}
		if ok && refChoose(choices, nil) {
			return true, true
		}
	}
	return false, true
}

func refChoose(choices [][]refLeaf, chosen []refLeaf) bool {
	if len(choices) == 0 {
		return true
	}
	if len(choices[0]) == 0 {
		return refChoose(choices[1:], chosen)
	}
	for _, h := range choices[0] {
		good := true
		for _, c := range chosen {
			if !refCompatible(c.coords, h.coords) {
				good = false
				break
			}
		}
		if good && refChoose(choices[1:], append(chosen, h)) {
			return true
		}
	}
	return false
}
