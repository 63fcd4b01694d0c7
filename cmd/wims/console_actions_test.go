package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// getPage fetches a console page with the logged-in client c.
func getPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postPage posts a form with c and returns the status and the page.
func postPage(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleActionsConnections: a connection created on the console keeps
// its secret write-only; a bad API destination shows the field error and
// creates nothing; a connection in use cannot be deleted; deletes ask first.
func TestConsoleActionsConnections(t *testing.T) {
	const admin = "admin-secret-0123456789"
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{admin + ":admin"} })
	bg := context.Background()
	c, token := consoleLogin(t, a.url, admin)
	base := a.url + "/ui/connections"

	code, page := postPage(t, c, base+"/save", url.Values{"csrf": {token}, "mode": {"create"}, "name": {"crm"}, "auth": {"API_KEY"}, "key-name": {"X-Api-Key"}})
	if code != http.StatusBadRequest || !strings.Contains(page, `id="conn-secret-error"`) {
		t.Fatalf("connection without its secret: %d\n%s", code, page)
	}
	if _, err := a.platform.DescribeConnection(bg, "crm"); err == nil {
		t.Fatal("a bad connection was created")
	}
	if code := postForm(t, c, base+"/save", url.Values{"csrf": {token}, "mode": {"create"}, "name": {"crm"}, "auth": {"API_KEY"}, "key-name": {"X-Api-Key"}, "secret": {"s3cret-value-42"}}); code != http.StatusSeeOther {
		t.Fatalf("create connection: %d", code)
	}
	conn, err := a.platform.DescribeConnection(bg, "crm")
	if err != nil || conn.AuthorizationType != "API_KEY" || conn.APIKeyName != "X-Api-Key" {
		t.Fatalf("connection: %+v %v", conn, err)
	}
	for _, u := range []string{base, base + "?connection=crm"} {
		if code, page := getPage(t, c, u); code != http.StatusOK || strings.Contains(page, "s3cret-value-42") || !strings.Contains(page, `data-connection="crm"`) {
			t.Errorf("GET %s: %d, secret shown or connection missing", u, code)
		}
	}
	// An update with an empty secret keeps the stored one.
	if code := postForm(t, c, base+"/save", url.Values{"csrf": {token}, "mode": {"edit"}, "name": {"crm"}, "auth": {"API_KEY"}, "key-name": {"X-Key"}, "description": {"CRM"}}); code != http.StatusSeeOther {
		t.Fatalf("update connection: %d", code)
	}
	if conn, err := a.platform.DescribeConnection(bg, "crm"); err != nil || conn.APIKeyName != "X-Key" || conn.Description != "CRM" {
		t.Errorf("after update: %+v %v", conn, err)
	}

	dest := url.Values{"csrf": {token}, "mode": {"create"}, "name": {"crm-hook"}, "connection": {"crm"}, "endpoint": {"ftp://nope"}, "method": {"POST"}}
	code, page = postPage(t, c, a.url+"/ui/api-destinations/save", dest)
	if code != http.StatusBadRequest || !strings.Contains(page, `id="dest-endpoint-error"`) {
		t.Fatalf("bad endpoint: %d\n%s", code, page)
	}
	if _, err := a.platform.DescribeAPIDestination(bg, "crm-hook"); err == nil {
		t.Fatal("a bad API destination was created")
	}
	dest.Set("endpoint", "http://127.0.0.1:9/hook")
	dest.Set("rate", "7")
	if code := postForm(t, c, a.url+"/ui/api-destinations/save", dest); code != http.StatusSeeOther {
		t.Fatalf("create API destination: %d", code)
	}
	if d, err := a.platform.DescribeAPIDestination(bg, "crm-hook"); err != nil || d.InvocationRateLimitPerSecond != 7 || d.ConnectionName != "crm" {
		t.Errorf("API destination: %+v %v", d, err)
	}

	del := func(kind, name string, confirm bool) (int, string) {
		f := url.Values{"csrf": {token}, "kind": {kind}, "name": {name}}
		if confirm {
			f.Set("confirm", "1")
		}
		return postPage(t, c, base+"/delete", f)
	}
	if code, page := del("connection", "crm", false); code != http.StatusOK || !strings.Contains(page, `id="confirm-form"`) {
		t.Errorf("delete asks first: %d", code)
	}
	if code, _ := del("connection", "crm", true); code != http.StatusConflict {
		t.Errorf("delete a connection in use: %d, want 409", code)
	}
	if code, _ := del("destination", "crm-hook", true); code != http.StatusSeeOther {
		t.Errorf("delete API destination: %d", code)
	}
	if code, _ := del("connection", "crm", true); code != http.StatusSeeOther {
		t.Errorf("delete connection: %d", code)
	}
	if _, err := a.platform.DescribeConnection(bg, "crm"); err == nil {
		t.Error("the connection is still there")
	}
}
