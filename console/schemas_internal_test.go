package console

import (
	"slices"
	"testing"
)

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []string
		want []diffLine
	}{
		{"Same", []string{"x", "y"}, []string{"x", "y"}, []diffLine{{" ", "x"}, {" ", "y"}}},
		{"Added", []string{"{", "}"}, []string{"{", `"a": 1`, "}"}, []diffLine{{" ", "{"}, {"+", `"a": 1`}, {" ", "}"}}},
		{"Changed", []string{"a", "b", "c"}, []string{"a", "B", "c"}, []diffLine{{" ", "a"}, {"-", "b"}, {"+", "B"}, {" ", "c"}}},
		{"FromEmpty", nil, []string{"a"}, []diffLine{{"+", "a"}}},
		{"ToEmpty", []string{"a"}, nil, []diffLine{{"-", "a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := diffLines(tc.a, tc.b); !slices.Equal(got, tc.want) {
				t.Errorf("diffLines = %v, want %v", got, tc.want)
			}
		})
	}
}
