package schema

import (
	"bytes"
	"encoding/json"
)

// orderedObject is a JSON object that keeps its keys in the order given.
// Documents people read start with what identifies them ("openapi",
// "$schema", "title") rather than wherever sorting puts those keys; nested
// schema objects stay plain maps, whose sorted keys keep output
// deterministic.
type orderedObject []member

type member struct {
	key   string
	value any
}

// MarshalJSON writes the members in order. json.MarshalIndent re-indents
// the result, so callers still get indented output.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
