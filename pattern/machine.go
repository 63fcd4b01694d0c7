package pattern

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// A machine is the immutable, shared-work form of a set of rules. Match walks
// the event once (scan.go); for every leaf value at a path some rule uses it
// records the value and looks it up in that path's anchor index, which maps
// exact strings, numbers, prefixes, suffixes and folded strings straight to
// the sub-rules they can trigger. Only triggered sub-rules (plus the few whose
// conditions cannot be indexed, such as a lone numeric range) are then
// verified, so cost follows the event and the number of candidate rules, not
// the total number of rules.

type tnode struct {
	kids map[string]*tnode // next path segment ('.'-free)
	// For few children a linear scan beats hashing; finalize fills these.
	names []string
	nodes []*tnode
	path  int32      // path id when some field uses this exact path, else -1
	idx   *pathIndex // anchors at this path, nil when none
}

func (n *tnode) child(seg string) *tnode {
	if n.kids == nil {
		n.kids = map[string]*tnode{}
	}
	c := n.kids[seg]
	if c == nil {
		c = &tnode{path: -1}
		n.kids[seg] = c
	}
	return c
}

// lenMap holds anchor keys of one byte length, for prefix/suffix lookups
// by slicing the value.
type lenMap struct {
	n int
	m map[string][]int32
}

type pathIndex struct {
	str        map[string][]int32
	num        map[float64][]int32
	numText    map[string][]int32 // numbers that are not exactly a double, by literal
	lit        [5][]int32         // by value kind: true, false, null
	prefix     []lenMap
	suffix     []lenMap
	fold       map[string][]int32
	foldPrefix []lenMap
	foldSuffix []lenMap
	needFold   bool
	cidr       []cidrMap // by mask length, ascending
	substr     map[uint32][]int32
}

// cidrMap indexes CIDR anchors of one mask length by their masked prefix.
type cidrMap struct {
	bits int
	m    map[netip.Prefix][]int32
}

func addLen(ls []lenMap, key string, sub int32) []lenMap {
	for i := range ls {
		if ls[i].n == len(key) {
			ls[i].m[key] = appendUnique(ls[i].m[key], sub)
			return ls
		}
	}
	ls = append(ls, lenMap{n: len(key), m: map[string][]int32{key: {sub}}})
	slices.SortFunc(ls, func(a, b lenMap) int { return a.n - b.n })
	return ls
}

func appendUnique(s []int32, v int32) []int32 {
	if len(s) > 0 && s[len(s)-1] == v {
		return s
	}
	return append(s, v)
}

type fcond struct {
	path        int32
	alts        []matcher
	existsFalse bool
}

type subrule struct {
	rule int32
	fcs  []int32
}

type machine struct {
	root   *tnode
	npaths int
	fcs    []fcond
	subs   []subrule
	names  []string // sorted; rule id is the index
	always []int32  // sub-rules with no indexable condition
	pool   sync.Pool
}

type namedConjs struct {
	name  string
	conjs []conj
}

// anchor key of one matcher, for the cost model and the index.
// kSubstr is the anchor kind for a 4-byte substring of a wildcard literal.
const kSubstr mkind = 255

type akey struct {
	path int32
	kind mkind // mExactStr, mExactNum, mTrue/mFalse/mNull, mPrefix, mSuffix, mEqFold, mPrefixFold, mSuffixFold
	s    string
	f    float64
	p    netip.Prefix
}

// anchorKeys returns the index keys that together cover every value m can
// match, or ok=false when m cannot be indexed.
func anchorKeys(path int32, m *matcher, wk map[*matcher]akey) (k akey, ok bool) {
	k.path = path
	switch m.kind {
	case mExactStr, mEqFold:
		k.kind, k.s = m.kind, m.s
		return k, true
	case mExactNum:
		k.kind, k.f = m.kind, m.f
		return k, true
	case mExactNumText:
		k.kind, k.s = m.kind, m.s
		return k, true
	case mTrue, mFalse, mNull:
		k.kind = m.kind
		return k, true
	case mPrefix, mSuffix, mPrefixFold, mSuffixFold:
		k.kind, k.s = m.kind, m.s
		return k, m.s != "" // "" matches every string: useless as an anchor
	case mCIDR:
		k.kind, k.p = m.kind, m.cidr
		return k, true
	case mWildcard:
		k, ok = wk[m]
		return k, ok
	}
	return k, false
}

func newMachine(rules []namedConjs) *machine {
	slices.SortFunc(rules, func(a, b namedConjs) int { return strings.Compare(a.name, b.name) })
	m := &machine{root: &tnode{path: -1}}
	pathIDs := map[string]int32{}
	pathNodes := []*tnode{}
	fcIDs := map[string]int32{}
	for ri, r := range rules {
		m.names = append(m.names, r.name)
		for _, c := range r.conjs {
			sub := subrule{rule: int32(ri)}
			for _, f := range c {
				id, ok := fcIDs[f.key]
				if !ok {
					pid, ok := pathIDs[f.path]
					if !ok {
						pid = int32(len(pathIDs))
						pathIDs[f.path] = pid
						n := m.root
						for _, seg := range strings.Split(f.path, ".") {
							n = n.child(seg)
						}
						n.path = pid
						pathNodes = append(pathNodes, n)
					}
					id = int32(len(m.fcs))
					fcIDs[f.key] = id
					m.fcs = append(m.fcs, fcond{path: pid, alts: f.alts, existsFalse: f.existsFalse})
				}
				if !slices.Contains(sub.fcs, id) {
					sub.fcs = append(sub.fcs, id)
				}
			}
			m.subs = append(m.subs, sub)
		}
	}
	m.npaths = len(pathIDs)
	m.root.finalize()
	wk := m.wildcardKeys()

	// Cost model: how many sub-rules mention each anchor key. A sub-rule is
	// anchored on its cheapest fully indexable condition, so that shared
	// values like table=orders don't trigger hundreds of candidates when a
	// more specific condition exists.
	freq := map[akey]int{}
	for _, s := range m.subs {
		for _, fc := range s.fcs {
			c := &m.fcs[fc]
			for i := range c.alts {
				if k, ok := anchorKeys(c.path, &c.alts[i], wk); ok {
					freq[k]++
				}
			}
		}
	}
	for si, s := range m.subs {
		best, bestCost := int32(-1), 1<<62
		for _, fc := range s.fcs {
			c := &m.fcs[fc]
			if c.existsFalse {
				continue
			}
			cost := 0
			for i := range c.alts {
				k, ok := anchorKeys(c.path, &c.alts[i], wk)
				if !ok {
					cost = -1
					break
				}
				w := 1
				if k.kind != mExactStr && k.kind != mExactNum && k.kind != mExactNumText && k.kind != mEqFold {
					w = 2
					if len(k.s) < 3 {
						w = 8
					}
				}
				cost += w * freq[k]
			}
			if cost >= 0 && cost < bestCost {
				best, bestCost = fc, cost
			}
		}
		if best < 0 {
			m.always = append(m.always, int32(si))
			continue
		}
		c := &m.fcs[best]
		n := pathNodes[c.path]
		if n.idx == nil {
			n.idx = &pathIndex{}
		}
		for i := range c.alts {
			k, _ := anchorKeys(c.path, &c.alts[i], wk)
			n.idx.add(k, int32(si))
		}
	}
	return m
}

func (x *pathIndex) add(k akey, sub int32) {
	switch k.kind {
	case mExactStr:
		if x.str == nil {
			x.str = map[string][]int32{}
		}
		x.str[k.s] = appendUnique(x.str[k.s], sub)
	case mExactNum:
		if x.num == nil {
			x.num = map[float64][]int32{}
		}
		x.num[k.f] = appendUnique(x.num[k.f], sub)
	case mExactNumText:
		if x.numText == nil {
			x.numText = map[string][]int32{}
		}
		x.numText[k.s] = appendUnique(x.numText[k.s], sub)
	case mTrue:
		x.lit[vTrue] = appendUnique(x.lit[vTrue], sub)
	case mFalse:
		x.lit[vFalse] = appendUnique(x.lit[vFalse], sub)
	case mNull:
		x.lit[vNull] = appendUnique(x.lit[vNull], sub)
	case mPrefix:
		x.prefix = addLen(x.prefix, k.s, sub)
	case mSuffix:
		x.suffix = addLen(x.suffix, k.s, sub)
	case mEqFold:
		if x.fold == nil {
			x.fold = map[string][]int32{}
		}
		x.fold[k.s] = appendUnique(x.fold[k.s], sub)
		x.needFold = true
	case mPrefixFold:
		x.foldPrefix = addLen(x.foldPrefix, k.s, sub)
		x.needFold = true
	case mSuffixFold:
		x.foldSuffix = addLen(x.foldSuffix, k.s, sub)
		x.needFold = true
	case kSubstr:
		if x.substr == nil {
			x.substr = map[uint32][]int32{}
		}
		key := binary.LittleEndian.Uint32([]byte(k.s))
		x.substr[key] = appendUnique(x.substr[key], sub)
	case mCIDR:
		for i := range x.cidr {
			if x.cidr[i].bits == k.p.Bits() {
				x.cidr[i].m[k.p] = appendUnique(x.cidr[i].m[k.p], sub)
				return
			}
		}
		x.cidr = append(x.cidr, cidrMap{bits: k.p.Bits(), m: map[netip.Prefix][]int32{k.p: {sub}}})
		slices.SortFunc(x.cidr, func(a, b cidrMap) int { return a.bits - b.bits })
	}
}

// smallKids is the child count up to which lookups scan a slice instead of
// hashing the key.
const smallKids = 8

func (n *tnode) finalize() {
	if len(n.kids) <= smallKids {
		for k, c := range n.kids {
			n.names = append(n.names, k)
			n.nodes = append(n.nodes, c)
		}
	}
	for _, c := range n.kids {
		c.finalize()
	}
}

// wildcardKeys picks one anchor key per wildcard: its literal prefix, its
// literal suffix, or a 4-byte substring of one of its literal segments
// (first or last four bytes), whichever the fewest wildcards share. Values
// are then probed with every 4-byte window, so wildcards that all start with
// "arn:aws:x:" but differ later don't all become candidates.
func (m *machine) wildcardKeys() map[*matcher]akey {
	cands := map[*matcher][]akey{}
	freq := map[akey]int{}
	for fi := range m.fcs {
		c := &m.fcs[fi]
		for i := range c.alts {
			mt := &c.alts[i]
			if mt.kind != mWildcard {
				continue
			}
			segs := mt.w.segs
			var ks []akey
			if len(segs[0]) > 0 {
				ks = append(ks, akey{path: c.path, kind: mPrefix, s: string(segs[0])})
			}
			if last := segs[len(segs)-1]; len(last) > 0 {
				ks = append(ks, akey{path: c.path, kind: mSuffix, s: string(last)})
			}
			for _, sg := range segs {
				if len(sg) >= 4 {
					ks = append(ks, akey{path: c.path, kind: kSubstr, s: string(sg[:4])},
						akey{path: c.path, kind: kSubstr, s: string(sg[len(sg)-4:])})
				}
			}
			cands[mt] = ks
			for _, k := range ks {
				freq[k]++
			}
		}
	}
	out := map[*matcher]akey{}
	for mt, ks := range cands {
		best, bestCost := akey{}, -1
		for _, k := range ks {
			cost := 2 * freq[k]
			if k.kind == kSubstr {
				cost = 3 * freq[k]
			}
			if bestCost < 0 || cost < bestCost || (cost == bestCost && k.s < best.s) {
				best, bestCost = k, cost
			}
		}
		if bestCost >= 0 {
			out[mt] = best
		}
	}
	return out
}
