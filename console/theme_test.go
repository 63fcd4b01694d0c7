package console_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConsoleThemeCookie: the server renders the chosen theme on <html>
// (no first-paint flash) and ignores any other cookie value.
func TestConsoleThemeCookie(t *testing.T) {
	srv, _ := newConsole(t)
	for cookie, want := range map[string]string{
		"dark":                 `<html lang="en" data-theme="dark">`,
		"light":                `<html lang="en" data-theme="light">`,
		`"><script>x</script>`: `<html lang="en">`,
		"":                     `<html lang="en">`,
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/ui/", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "wims_theme", Value: cookie})
		}
		resp, err := client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("cookie %q: page lacks %s", cookie, want)
		}
	}
}
