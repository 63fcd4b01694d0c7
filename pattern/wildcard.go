package pattern

import (
	"bytes"
	"strconv"
)

// Wildcard patterns: '*' matches zero or more bytes, "\*" is a literal star
// and "\\" a literal backslash. The pattern is split at its stars into literal
// segments; matching anchors the first and last segment and then finds the
// middle ones left to right (greedy leftmost is optimal for '*'-only globs),
// so a match costs O(len(value)·segments) at worst and never backtracks
// exponentially.

// maxWildcards is the complexity cap. event-ruler measures how many wildcard
// states a worst-case value can keep alive (MachineComplexityEvaluator) and
// AWS rejects "*:*:*:*:*:event-bus/*" (six stars). We use the simpler,
// predictable rule: at most five '*' per wildcard pattern.
const maxWildcards = 5

const tooComplex = "rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"

type wildcard struct {
	segs [][]byte // literal segments; len(segs) == stars+1
}

// parseWildcard validates and compiles a wildcard pattern. Positions in error
// messages count the opening quote, as event-ruler's do.
func parseWildcard(s string) (*wildcard, string) {
	w := &wildcard{}
	cur := []byte{}
	stars := 0
	prevStar := false // previous token was an unescaped '*'
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '*' {
			if prevStar {
				return nil, "wildcard: consecutive wildcard characters at pos " + strconv.Itoa(i+1)
			}
			prevStar = true
			stars++
			w.segs = append(w.segs, cur)
			cur = []byte{}
			continue
		}
		prevStar = false
		if c == '\\' {
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, "wildcard: invalid escape character at pos " + strconv.Itoa(i+1)
			}
			cur = append(cur, s[i+1])
			i++
			continue
		}
		cur = append(cur, c)
	}
	w.segs = append(w.segs, cur)
	if stars > maxWildcards {
		return nil, "wildcard: " + tooComplex
	}
	return w, ""
}

// literal returns the unescaped text when the pattern has no star.
func (w *wildcard) literal() (string, bool) {
	if len(w.segs) == 1 {
		return string(w.segs[0]), true
	}
	return "", false
}

func (w *wildcard) match(v []byte) bool {
	segs := w.segs
	if len(segs) == 1 {
		return bytes.Equal(v, segs[0])
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(v) < len(first)+len(last) || !bytes.HasPrefix(v, first) || !bytes.HasSuffix(v, last) {
		return false
	}
	v = v[len(first) : len(v)-len(last)]
	for _, s := range segs[1 : len(segs)-1] {
		k := bytes.Index(v, s)
		if k < 0 {
			return false
		}
		v = v[k+len(s):]
	}
	return true
}
