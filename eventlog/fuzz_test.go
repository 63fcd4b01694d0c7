package eventlog

import (
	"strings"
	"testing"
)

// FuzzToken: every order id or SKU becomes one valid NATS subject token,
// and different values never share a token (so a filter never mixes up two
// orders).
func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "o-1", "sku.with dots/and space", "~", "%41", "A", "*", ">", "ü"} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta := Token(a)
		if ta == "" || strings.ContainsAny(ta, ". *>\t\r\n") {
			t.Fatalf("Token(%q) = %q is not a subject token", a, ta)
		}
		if a != b && ta == Token(b) {
			t.Fatalf("Token(%q) == Token(%q) == %q", a, b, ta)
		}
	})
}

// FuzzCursor: a cursor the server made reads back as itself; anything
// else is refused without a panic.
func FuzzCursor(f *testing.F) {
	f.Add("", uint64(1))
	f.Add("ZjE", uint64(42))
	f.Add("Yjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk", uint64(1<<63))
	f.Fuzz(func(t *testing.T, s string, seq uint64) {
		if _, _, err := parseCursor(s); err != nil && !strings.Contains(err.Error(), "cursor") {
			t.Fatalf("parseCursor(%q): %v", s, err)
		}
		if seq == 0 {
			return
		}
		for _, dir := range []byte{'f', 'b'} {
			d, got, err := parseCursor(cursor(dir, seq))
			if err != nil || d != dir || got != seq {
				t.Fatalf("cursor(%c, %d) reads back as %c %d %v", dir, seq, d, got, err)
			}
		}
	})
}
