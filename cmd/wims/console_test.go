package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
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

// TestConsoleStreamEndsOnShutdown: an open console tab (its event stream)
// does not hold up shutdown for the whole grace period.
func TestConsoleStreamEndsOnShutdown(t *testing.T) {
	a := startTestApp(t, func(c *Config) { c.ShutdownGrace = 20 * time.Second })
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(a.url + "/ui/") // the session
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(a.url + "/ui/stream")
	if err != nil {
		t.Fatal(err)
	}
	closeWithStreamOpen(t, a, resp, "a console stream")
}

// closeWithStreamOpen reads the start of an open stream, then closes wims,
// which must not wait out its grace period for the stream.
func closeWithStreamOpen(t *testing.T, a *testApp, resp *http.Response, what string) {
	t.Helper()
	defer resp.Body.Close()
	if _, err := resp.Body.Read(make([]byte, 1024)); err != nil {
		t.Fatalf("stream: %v", err)
	}
	start := time.Now()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v with %s open", d, what)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Logf("stream ended with %v", err)
	}
}

// TestEventStreamEndsOnShutdown: a client following GET /events/stream
// does not hold up shutdown for the whole grace period either.
func TestEventStreamEndsOnShutdown(t *testing.T) {
	a := startTestApp(t, func(c *Config) { c.ShutdownGrace = 20 * time.Second })
	resp, err := http.Get(a.url + "/events/stream")
	if err != nil {
		t.Fatal(err)
	}
	closeWithStreamOpen(t, a, resp, "an event stream")
}
