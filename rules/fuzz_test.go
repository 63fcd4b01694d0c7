package rules_test

import (
	"testing"

	"github.com/wims/wims/rules"
)

// FuzzParse: any config document is either rejected with an error or yields
// rules that compile; never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"rules":[{"name":"a","pattern":{"source":["x"]},"targets":[{"type":"event-log"}]}]}`))
	f.Add([]byte(`{"rules":[{"name":"w","pattern":{"a":[{"prefix":""}]},"targets":[{"type":"webhook","url":"http://h/x"}]}]}`))
	f.Add([]byte(`{"rules":[]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		cfg, err := rules.Parse(doc)
		if err != nil {
			return
		}
		if _, err := rules.Compile(rules.Merge(rules.Defaults(), cfg)); err != nil {
			t.Fatalf("Parse accepted a config that does not compile with the defaults: %v", err)
		}
	})
}
