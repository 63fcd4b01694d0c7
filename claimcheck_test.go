package wims_test

import (
	"encoding/json"
	"testing"

	"github.com/wims/wims"
)

func TestClaimCheckRoundTrip(t *testing.T) {
	detail := []byte(`{"big":"payload"}`)
	c := wims.NewClaimCheck("ev-1", detail)
	if c.Size != len(detail) || len(c.SHA256) != 64 || c.Href != "/events/ev-1/payload" {
		t.Fatalf("NewClaimCheck = %+v", c)
	}
	got, ok := wims.ParseClaimCheck(c.Detail())
	if !ok || got != c {
		t.Fatalf("ParseClaimCheck(%s) = %+v, %v; want %+v", c.Detail(), got, ok, c)
	}
	for _, d := range []string{
		`{}`, `{"claimCheck":1}`, `{"claimCheck":{}}`,
		`{"claimCheck":{"id":"a","size":1,"sha256":"00","href":"/events/a/payload"}}`, // short digest
		`{"claimCheck":{"id":"a","size":1,"sha256":"` + c.SHA256 + `","href":"/elsewhere"}}`,
		`{"claimCheck":{"id":"a","size":1,"sha256":"` + c.SHA256 + `","href":"/events/a/payload","x":1}}`,
		`{"claimCheck":{"id":"a","size":1,"sha256":"` + c.SHA256 + `","href":"/events/a/payload"},"more":1}`,
	} {
		if _, ok := wims.ParseClaimCheck([]byte(d)); ok {
			t.Errorf("ParseClaimCheck(%s) = true, want false: not a reference wims writes", d)
		}
	}
}

// FuzzParseClaimCheck: any input is either refused or parsed to a
// reference that renders back to one that parses the same.
func FuzzParseClaimCheck(f *testing.F) {
	f.Add([]byte(wims.NewClaimCheck("ev-1", []byte(`{}`)).Detail()))
	f.Add([]byte(`{"claimCheck":{"id":"a"}}`))
	f.Add([]byte(`{"claimCheck":null}`))
	f.Add([]byte(`not json "claimCheck"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := wims.ParseClaimCheck(b)
		if !ok {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("parsed invalid JSON %q", b)
		}
		again, ok := wims.ParseClaimCheck(c.Detail())
		if !ok || again != c {
			t.Fatalf("%+v renders to %s, which parses to %+v, %v", c, c.Detail(), again, ok)
		}
	})
}
