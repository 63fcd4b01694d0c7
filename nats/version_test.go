package nats

import "testing"

func TestVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"2.10.0", true}, {"2.15.2", true}, {"3.0.0", true}, {"2.11.0-beta.1", true},
		{"2.9.10", false}, {"1.20.0", false}, {"", false}, {"x.y", false}, {"2", false},
	} {
		if got := versionAtLeast(c.v, 2, 10); got != c.want {
			t.Errorf("versionAtLeast(%q, 2, 10) = %v, want %v", c.v, got, c.want)
		}
	}
}
