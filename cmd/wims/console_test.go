package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConsoleServed: wims serve answers the console at / and /ui/, and
// the REST API next to it as before.
func TestConsoleServed(t *testing.T) {
	a := startTestApp(t, nil)
	for path, want := range map[string]string{"/": "text/html", "/ui/": "text/html", "/ui/orders": "text/html", "/inventory": "application/json", "/nope": "application/problem+json"} {
		resp, err := http.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, ct, want)
		}
		if isPage := want == "text/html"; isPage != (resp.Header.Get("Content-Security-Policy") != "") {
			t.Errorf("GET %s: CSP %q", path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}
