package wims

import (
	"encoding/json"
	"testing"
)

// FuzzImageStatus: for every JSON object, imageStatus reads the status
// that decoding the image's exact "status" member (the last one) reads.
func FuzzImageStatus(f *testing.F) {
	for _, s := range []string{`{"orderId":"o","status":"PAID"}`, `{"status":"A","status":"B"}`, `{"Status":"X"}`,
		`{"status":7}`, `{"status":"R\u00c9S"}`, `{}`, `[]`, `null`, `{"history":[{"status":"PENDING"}],"status":"RESERVED"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, image []byte) {
		var m map[string]json.RawMessage
		if json.Unmarshal(image, &m) != nil || m == nil {
			return
		}
		var want string
		_ = json.Unmarshal(m["status"], &want)
		got, err := imageStatus(image)
		if err != nil || string(got) != want {
			t.Fatalf("imageStatus(%q) = %q, %v; decoding reads %q", image, got, err, want)
		}
	})
}
