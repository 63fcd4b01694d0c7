package pattern

import (
	"bytes"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Leaf matchers: one per candidate in a pattern's value array. A field is
// satisfied when any of its matchers accepts any leaf value found at its path.

type mkind uint8

const (
	mExactStr mkind = iota
	mExactNum
	mTrue
	mFalse
	mNull
	mPrefix
	mSuffix
	mPrefixFold
	mSuffixFold
	mEqFold
	mWildcard
	mAnythingBut
	mNumeric
	mExists // exists:true; exists:false is a flag on the field
	mCIDR
	mExactNumText // a number literal that is not exactly a double: compared as text
)

// abKind says which values an anything-but excludes.
type abKind uint8

const (
	abStrings abKind = iota
	abNumbers
	abPrefix
	abSuffix
	abFold
	abWildcard
)

type matcher struct {
	kind  mkind
	s     string  // exact string or number text; prefix/suffix text (folded for the fold kinds)
	f     float64 // exact number
	w     *wildcard
	lo    float64 // numeric lower bound (-Inf when none)
	hi    float64 // numeric upper bound (+Inf when none)
	loInc bool
	hiInc bool
	cidr  netip.Prefix
	ab    *anythingBut
	key   string // canonical description, used to share identical conditions
}

type anythingBut struct {
	kind abKind
	strs []string // strings, prefixes, suffixes or folded strings
	nums []float64
	wcs  []*wildcard
}

// value kinds recorded by the event scanner
const (
	vStr uint8 = iota
	vNum
	vTrue
	vFalse
	vNull
	vNumText // a number that is not exactly a double; str holds its literal text
)

// valRec is one leaf value found in the event at a path some rule uses.
type valRec struct {
	kind   uint8
	folded bool // fold holds the case-folded string
	ipDone bool // ip/ipOK hold the parsed address
	ipOK   bool
	ip     netip.Addr
	str    []byte  // vStr: decoded bytes (aliases the event when unescaped)
	fold   []byte  // lazily computed folded form of str
	num    float64 // vNum
	cStart int32   // coordinates: arrays enclosing the value, outermost first
	cLen   int32
	next   int32 // next value at the same path, -1 ends the list
}

// matchVal reports whether m accepts the event value rv.
func (m *matcher) matchVal(rv *valRec, sc *scratch) bool {
	switch rv.kind {
	case vStr:
		return m.matchStr(rv, sc)
	case vNum:
		return m.matchNum(rv.num)
	case vNumText:
		return m.matchNumText(rv.str)
	}
	return m.matchLit(rv.kind)
}

// matchNumText handles event numbers that are not exactly a double. As in
// event-ruler they have no numeric form: only the same literal text, exists
// and anything-but (whose numbers are all exact, so never equal) accept them.
func (m *matcher) matchNumText(lit []byte) bool {
	switch m.kind {
	case mExactNumText:
		return string(lit) == m.s
	case mExists, mAnythingBut:
		return true
	}
	return false
}

// matchStr handles string event values; the folded form is computed at most
// once per value and only when a case-insensitive matcher asks for it.
func (m *matcher) matchStr(rv *valRec, sc *scratch) bool {
	v := rv.str
	switch m.kind {
	case mExactStr:
		return string(v) == m.s
	case mPrefix:
		return len(v) >= len(m.s) && string(v[:len(m.s)]) == m.s
	case mSuffix:
		return len(v) >= len(m.s) && string(v[len(v)-len(m.s):]) == m.s
	case mWildcard:
		return m.w.match(v)
	case mExists:
		return true
	case mCIDR:
		a, ok := sc.addrOf(rv)
		return ok && m.cidr.Contains(a)
	case mAnythingBut:
		ab := m.ab
		switch ab.kind {
		case abStrings:
			for _, s := range ab.strs {
				if string(v) == s {
					return false
				}
			}
		case abPrefix:
			for _, s := range ab.strs {
				if len(v) >= len(s) && string(v[:len(s)]) == s {
					return false
				}
			}
		case abSuffix:
			for _, s := range ab.strs {
				if len(v) >= len(s) && string(v[len(v)-len(s):]) == s {
					return false
				}
			}
		case abFold:
			f := sc.foldOf(rv)
			for _, s := range ab.strs {
				if string(f) == s {
					return false
				}
			}
		case abWildcard:
			for _, w := range ab.wcs {
				if w.match(v) {
					return false
				}
			}
		}
		return true
	case mEqFold:
		return string(sc.foldOf(rv)) == m.s
	case mPrefixFold:
		f := sc.foldOf(rv)
		return len(f) >= len(m.s) && string(f[:len(m.s)]) == m.s
	case mSuffixFold:
		f := sc.foldOf(rv)
		return len(f) >= len(m.s) && string(f[len(f)-len(m.s):]) == m.s
	}
	return false
}

func (m *matcher) matchNum(f float64) bool {
	switch m.kind {
	case mExactNum:
		return f == m.f
	case mNumeric:
		if f < m.lo || f > m.hi || (f == m.lo && !m.loInc) || (f == m.hi && !m.hiInc) {
			return false
		}
		return true
	case mExists:
		return true
	case mAnythingBut:
		if m.ab.kind == abNumbers {
			for _, n := range m.ab.nums {
				if n == f {
					return false
				}
			}
		}
		return true // string exclusions never exclude a number
	}
	return false
}

// matchLit handles true, false and null event values.
func (m *matcher) matchLit(kind uint8) bool {
	switch m.kind {
	case mTrue:
		return kind == vTrue
	case mFalse:
		return kind == vFalse
	case mNull:
		return kind == vNull
	case mExists, mAnythingBut:
		return true // anything-but matches null and booleans (AWS-validated)
	}
	return false
}

// describe builds m.key, a canonical text form of the matcher, so that equal
// conditions written differently (300 vs 3e2) are shared between rules.
func (m *matcher) describe() {
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	switch m.kind {
	case mExactStr:
		m.key = "s" + m.s
	case mExactNum:
		m.key = "n" + num(m.f)
	case mExactNumText:
		m.key = "t" + m.s
	case mTrue:
		m.key = "T"
	case mFalse:
		m.key = "F"
	case mNull:
		m.key = "N"
	case mPrefix:
		m.key = "p" + m.s
	case mSuffix:
		m.key = "x" + m.s
	case mPrefixFold:
		m.key = "P" + m.s
	case mSuffixFold:
		m.key = "X" + m.s
	case mEqFold:
		m.key = "e" + m.s
	case mWildcard:
		var sb strings.Builder
		sb.WriteString("w")
		for i, s := range m.w.segs {
			if i > 0 {
				sb.WriteString("\x00*")
			}
			sb.Write(bytes.ReplaceAll(s, []byte{0}, []byte{0, 0}))
		}
		m.key = sb.String()
	case mNumeric:
		m.key = "r" + num(m.lo) + "," + num(m.hi) + "," + strconv.FormatBool(m.loInc) + strconv.FormatBool(m.hiInc)
	case mExists:
		m.key = "E"
	case mCIDR:
		m.key = "c" + m.cidr.String()
	case mAnythingBut:
		parts := []string{}
		switch m.ab.kind {
		case abNumbers:
			for _, n := range m.ab.nums {
				parts = append(parts, num(n))
			}
		case abWildcard:
			for _, w := range m.ab.wcs {
				mm := matcher{kind: mWildcard, w: w}
				mm.describe()
				parts = append(parts, mm.key)
			}
		default:
			parts = append(parts, m.ab.strs...)
		}
		slices.Sort(parts)
		parts = slices.Compact(parts)
		m.key = "a" + strconv.Itoa(int(m.ab.kind)) + strings.Join(parts, "\x00\x01")
	}
}

var inf = math.Inf(1)
