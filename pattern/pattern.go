package pattern

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	src   string
	conjs []conj
	m     *machine // a one-rule machine, so Match shares the Matcher's code path
}

// Compile parses and validates an event pattern. Invalid patterns are
// reported as *Error.
func Compile(src []byte) (*Pattern, error) {
	conjs, err := compilePattern(src)
	if err != nil {
		return nil, err
	}
	p := &Pattern{src: string(src), conjs: conjs}
	p.m = newMachine([]namedConjs{{name: "", conjs: conjs}})
	return p, nil
}

// MustCompile is like Compile but panics on an invalid pattern. It is meant
// for patterns that are constants in the program.
func MustCompile(src string) *Pattern {
	p, err := Compile([]byte(src))
	if err != nil {
		panic("pattern: MustCompile(" + src + "): " + err.Error())
	}
	return p
}

// Match reports whether the event matches the pattern. It returns an
// *EventError when the event is not a well-formed JSON object.
func (p *Pattern) Match(event []byte) (bool, error) {
	sc := p.m.getScratch()
	err := p.m.run(sc, event)
	ok := err == nil && len(sc.matched) > 0
	p.m.pool.Put(sc)
	return ok, err
}

// String returns the pattern's source text.
func (p *Pattern) String() string { return p.src }

// ValidateEvent checks that event is a well-formed JSON object no deeper
// than MaxEventDepth, the same check Match applies. It returns an
// *EventError otherwise.
func ValidateEvent(event []byte) error {
	s := scanner{m: emptyMachine, sc: newScratch(emptyMachine), b: event}
	if err := s.run(); err != nil {
		return err
	}
	return nil
}

var emptyMachine = newMachine(nil)
