package pattern

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// scratch is the per-match working memory, pooled per machine so that a
// match in steady state allocates nothing. Per-path, per-condition, per-
// sub-rule and per-rule state is "generation stamped": bumping gen
// invalidates everything at once instead of clearing arrays.
type scratch struct {
	gen uint32

	// event values at used paths
	vals     []valRec
	coords   []coord
	stack    []coord
	arrays   int32 // arrays seen so far, the id of the next one
	anyCoord bool  // some recorded value sits inside an array
	strbuf   []byte
	numbuf   []byte // shortest form of an event number, for the isExactDouble check
	keybuf   []byte
	foldbuf  []byte
	pathGen  []uint32
	pathHead []int32

	// candidate sub-rules
	subGen []uint32
	cands  []int32

	// lazily evaluated field conditions
	fcGen   []uint32
	fcOK    []bool
	fcStart []int32
	fcN     []int32
	hits    []int32

	// results
	ruleGen []uint32
	matched []int32
	choice  []int32
	absent  []int32 // exists:false conditions chosen to hold by absence
}

func newScratch(m *machine) *scratch {
	return &scratch{
		pathGen:  make([]uint32, m.npaths),
		pathHead: make([]int32, m.npaths),
		subGen:   make([]uint32, len(m.subs)),
		fcGen:    make([]uint32, len(m.fcs)),
		fcOK:     make([]bool, len(m.fcs)),
		fcStart:  make([]int32, len(m.fcs)),
		fcN:      make([]int32, len(m.fcs)),
		ruleGen:  make([]uint32, len(m.names)),
	}
}

func (sc *scratch) reset() {
	sc.gen++
	if sc.gen == 0 { // wrapped: stale stamps could look current
		clear(sc.pathGen)
		clear(sc.subGen)
		clear(sc.fcGen)
		clear(sc.ruleGen)
		sc.gen = 1
	}
	sc.vals = sc.vals[:0]
	sc.coords = sc.coords[:0]
	sc.stack = sc.stack[:0]
	sc.arrays = 0
	sc.anyCoord = false
	sc.strbuf = sc.strbuf[:0]
	sc.foldbuf = sc.foldbuf[:0]
	sc.cands = sc.cands[:0]
	sc.hits = sc.hits[:0]
	sc.matched = sc.matched[:0]
}

// number classifies an event number literal: its value and whether it is
// exactly a double (see isExactDouble). Short literals need no check.
func (sc *scratch) number(lit []byte) (float64, bool) {
	f, short := parseNumberShort(lit)
	if short {
		return f, true
	}
	var ok bool
	ok, sc.numbuf = isExactDouble(lit, f, sc.numbuf)
	return f, ok
}

// foldOf returns the case-folded text of a string value, computing it once.
func (sc *scratch) foldOf(v *valRec) []byte {
	if !v.folded {
		start := len(sc.foldbuf)
		sc.foldbuf = foldAppend(sc.foldbuf, v.str)
		v.fold = sc.foldbuf[start:len(sc.foldbuf):len(sc.foldbuf)]
		v.folded = true
	}
	return v.fold
}

// addrOf returns the IP address a string value parses as, parsing once.
func (sc *scratch) addrOf(v *valRec) (netip.Addr, bool) {
	if !v.ipDone {
		v.ip, v.ipOK = parseEventIP(v.str)
		v.ipDone = true
	}
	return v.ip, v.ipOK
}

func (sc *scratch) trigger(subs []int32) {
	for _, s := range subs {
		if sc.subGen[s] != sc.gen {
			sc.subGen[s] = sc.gen
			sc.cands = append(sc.cands, s)
		}
	}
}

func lookupLen(ls []lenMap, v []byte, suffix bool, sc *scratch) {
	for i := range ls {
		n := ls[i].n
		if n > len(v) {
			return // sorted by length
		}
		var k []byte
		if suffix {
			k = v[len(v)-n:]
		} else {
			k = v[:n]
		}
		if subs, ok := ls[i].m[string(k)]; ok {
			sc.trigger(subs)
		}
	}
}

// record stores a leaf value found at n's path and fires the anchors it hits.
func (sc *scratch) record(m *machine, n *tnode, kind uint8, str []byte, num float64) {
	p := n.path
	next := int32(-1)
	if sc.pathGen[p] == sc.gen {
		next = sc.pathHead[p]
	}
	sc.pathGen[p] = sc.gen
	sc.pathHead[p] = int32(len(sc.vals))
	cs := int32(len(sc.coords))
	if len(sc.stack) > 0 {
		sc.coords = append(sc.coords, sc.stack...)
		sc.anyCoord = true
	}
	sc.vals = append(sc.vals, valRec{kind: kind, str: str, num: num, cStart: cs, cLen: int32(len(sc.stack)), next: next})
	x := n.idx
	if x == nil {
		return
	}
	switch kind {
	case vStr:
		if x.str != nil {
			if subs, ok := x.str[string(str)]; ok {
				sc.trigger(subs)
			}
		}
		lookupLen(x.prefix, str, false, sc)
		lookupLen(x.suffix, str, true, sc)
		if x.needFold {
			f := sc.foldOf(&sc.vals[len(sc.vals)-1])
			if x.fold != nil {
				if subs, ok := x.fold[string(f)]; ok {
					sc.trigger(subs)
				}
			}
			lookupLen(x.foldPrefix, f, false, sc)
			lookupLen(x.foldSuffix, f, true, sc)
		}
		if x.substr != nil {
			for i := 0; i+4 <= len(str); i++ {
				if subs, ok := x.substr[binary.LittleEndian.Uint32(str[i:])]; ok {
					sc.trigger(subs)
				}
			}
		}
		if x.cidr != nil {
			if a, ok := sc.addrOf(&sc.vals[len(sc.vals)-1]); ok {
				for i := range x.cidr {
					if subs, ok := x.cidr[i].m[maskAddr(a, x.cidr[i].bits)]; ok {
						sc.trigger(subs)
					}
				}
			}
		}
	case vNum:
		if x.num != nil {
			if subs, ok := x.num[num]; ok {
				sc.trigger(subs)
			}
		}
	case vNumText:
		if x.numText != nil {
			if subs, ok := x.numText[string(str)]; ok {
				sc.trigger(subs)
			}
		}
	default:
		sc.trigger(x.lit[kind])
	}
}

// evalFC evaluates a field condition against the values at its path,
// memoised for the current event. It returns whether the condition holds.
func (sc *scratch) evalFC(m *machine, id int32) bool {
	if sc.fcGen[id] == sc.gen {
		return sc.fcOK[id]
	}
	c := &m.fcs[id]
	start := int32(len(sc.hits))
	head := int32(-1)
	if sc.pathGen[c.path] == sc.gen {
		head = sc.pathHead[c.path]
	}
	for v := head; v >= 0; v = sc.vals[v].next {
		rv := &sc.vals[v]
		for i := range c.alts {
			if c.alts[i].matchVal(rv, sc) {
				sc.hits = append(sc.hits, v)
				break
			}
		}
	}
	n := int32(len(sc.hits)) - start
	// exists:false holds outright when the path has no value. When it has
	// some and they all sit in arrays, absence is still possible in one
	// array element and consistent() decides; a value outside any array is
	// present for every element.
	ok := n > 0 || (c.existsFalse && (head < 0 || sc.allInArrays(head)))
	sc.fcGen[id] = sc.gen
	sc.fcOK[id] = ok
	sc.fcStart[id] = start
	sc.fcN[id] = n
	return ok
}

// compatible reports whether two values can come from the same event
// "record": whenever both sit inside the same array, they must sit in the same
// element of it. Enclosing arrays form a stack, so shared arrays are a common
// prefix of the two coordinate lists.
func (sc *scratch) compatible(a, b int32) bool {
	va, vb := &sc.vals[a], &sc.vals[b]
	n := min(va.cLen, vb.cLen)
	ca := sc.coords[va.cStart : va.cStart+n]
	cb := sc.coords[vb.cStart : vb.cStart+n]
	for i := range ca {
		if ca[i].arr != cb[i].arr {
			return true
		}
		if ca[i].idx != cb[i].idx {
			return false
		}
	}
	return true
}

// allInArrays reports whether every value in the list starting at head sits
// inside some array.
func (sc *scratch) allInArrays(head int32) bool {
	for v := head; v >= 0; v = sc.vals[v].next {
		if sc.vals[v].cLen == 0 {
			return false
		}
	}
	return true
}

// present reports whether the path of field condition id has values.
func (sc *scratch) present(m *machine, id int32) bool {
	return sc.pathGen[m.fcs[id].path] == sc.gen
}

// consistent searches for one hit per field such that all chosen values are
// pairwise compatible (event-ruler's array-consistent matching). A field may
// instead be satisfied by absence (exists:false): with no value at its path
// that imposes nothing; otherwise no value at its path may be compatible with
// the chosen ones, checked once all are chosen. That is the ruler's absence
// test (NameState.getNameTransitions ignores fields whose ArrayMembership
// conflicts with the match so far), made independent of key order: the
// ruler only counts the fields it matched before the absent key in sorted
// order, so {"a":{"b":[{"exists":false}],"c":["x"]}} would see a "b" from
// another element; here each array element is its own object, as
// documented. Backtracking is fine in practice: it only runs for candidates
// whose fields all hold, and only when the event has arrays on used paths.
func (sc *scratch) consistent(m *machine, fcs []int32, k int) bool {
	if k == len(fcs) {
		for _, id := range sc.absent {
			for v := sc.pathHead[m.fcs[id].path]; v >= 0; v = sc.vals[v].next {
				if sc.compatibleAll(v) {
					return false
				}
			}
		}
		return true
	}
	id := fcs[k]
	n := sc.fcN[id]
	absentOK := m.fcs[id].existsFalse
	if absentOK && !sc.present(m, id) {
		return sc.consistent(m, fcs, k+1)
	}
	base := len(sc.choice)
	for _, h := range sc.hits[sc.fcStart[id] : sc.fcStart[id]+n] {
		if !sc.compatibleAll(h) {
			continue
		}
		sc.choice = append(sc.choice[:base], h)
		if sc.consistent(m, fcs, k+1) {
			sc.choice = sc.choice[:base]
			return true
		}
		sc.choice = sc.choice[:base]
	}
	if absentOK {
		na := len(sc.absent)
		sc.absent = append(sc.absent, id)
		ok := sc.consistent(m, fcs, k+1)
		sc.absent = sc.absent[:na]
		return ok
	}
	return false
}

// compatibleAll reports whether value v is compatible with every chosen one.
func (sc *scratch) compatibleAll(v int32) bool {
	for _, c := range sc.choice {
		if !sc.compatible(c, v) {
			return false
		}
	}
	return true
}

func (sc *scratch) checkSub(m *machine, s int32) {
	sub := &m.subs[s]
	if sc.ruleGen[sub.rule] == sc.gen {
		return // rule already matched through another $or branch
	}
	search := false
	for _, fc := range sub.fcs {
		if !sc.evalFC(m, fc) {
			return
		}
		// A present exists:false path can only be absent in some element.
		search = search || (m.fcs[fc].existsFalse && sc.present(m, fc))
	}
	if search || (sc.anyCoord && len(sub.fcs) > 1) {
		sc.choice = sc.choice[:0]
		sc.absent = sc.absent[:0]
		if !sc.consistent(m, sub.fcs, 0) {
			return
		}
	}
	sc.ruleGen[sub.rule] = sc.gen
	sc.matched = append(sc.matched, sub.rule)
}

// run matches one event; the matched rule ids are left in sc.matched, sorted.
func (m *machine) run(sc *scratch, event []byte) error {
	sc.reset()
	s := scanner{m: m, sc: sc, b: event}
	if err := s.run(); err != nil {
		return err
	}
	for _, c := range sc.cands {
		sc.checkSub(m, c)
	}
	for _, c := range m.always {
		sc.checkSub(m, c)
	}
	slices.Sort(sc.matched)
	return nil
}

func (m *machine) getScratch() *scratch {
	if v := m.pool.Get(); v != nil {
		return v.(*scratch)
	}
	return newScratch(m)
}

// appendMatches appends the names of matching rules to dst.
func (m *machine) appendMatches(dst []string, event []byte) ([]string, error) {
	sc := m.getScratch()
	err := m.run(sc, event)
	if err == nil {
		for _, r := range sc.matched {
			dst = append(dst, m.names[r])
		}
	}
	m.pool.Put(sc)
	return dst, err
}
