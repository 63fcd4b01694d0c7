package console_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	wimshttp "github.com/wims/wims/http"
)

// TestConsoleDeadLetterActions: one dead letter's page shows its headers;
// a bulk redrive first shows what it would do and changes nothing, then
// redrives on confirmation; read may not act; a bad filter changes nothing.
func TestConsoleDeadLetterActions(t *testing.T) {
	srv, _, dlq, _ := newPlatformConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
	dlq.add(7, `{"orderId":"o-1","customerId":"cust-42"}`)
	dlq.add(8, `{"orderId":"o-2"}`)
	dlq.add(9, `{"orderId":"o-3"}`)

	reader := login(t, srv, "read-secret")
	resp, page := get(t, reader, srv.URL+"/ui/dead-letters/7")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Wims-Dlq-Reason") || !strings.Contains(page, "HTTP 500 &lt;boom&gt;") || strings.Contains(page, "cust-42") {
		t.Fatalf("read's dead letter page: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := post(t, reader, srv.URL+"/ui/dead-letters/bulk", url.Values{"csrf": {csrfOf(t, page)}, "op": {"purge"}, "all": {"1"}, "confirm": {"1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read purges: %d, want 403", resp.StatusCode)
	}

	admin := login(t, srv, "admin-secret")
	_, page = get(t, admin, srv.URL+"/ui/dead-letters")
	token := csrfOf(t, page)
	if resp, _ := post(t, admin, srv.URL+"/ui/dead-letters/bulk", url.Values{"op": {"redrive"}, "seq": {"7"}, "confirm": {"1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bulk without CSRF: %d, want 403", resp.StatusCode)
	}
	resp, dry := post(t, admin, srv.URL+"/ui/dead-letters/bulk", url.Values{"csrf": {token}, "op": {"redrive"}, "seq": {"7", "9"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(dry, "nothing has changed") || !strings.Contains(dry, "wims.platform.deliveries") || len(dlq.redriven) != 0 {
		t.Fatalf("bulk dry run: %d, redriven %v\n%s", resp.StatusCode, dlq.redriven, dry)
	}
	resp, _ = post(t, admin, srv.URL+"/ui/dead-letters/bulk", url.Values{"csrf": {token}, "op": {"redrive"}, "seq": {"7", "9"}, "confirm": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || !slices.Equal(dlq.redriven, []uint64{7, 9}) {
		t.Fatalf("bulk redrive: %d, redriven %v", resp.StatusCode, dlq.redriven)
	}
	if _, page = get(t, admin, srv.URL+resp.Header.Get("Location")); !strings.Contains(page, "Redrove 2 dead letters") {
		t.Errorf("after bulk redrive:\n%s", page)
	}
	resp, bad := post(t, admin, srv.URL+"/ui/dead-letters/bulk", url.Values{"csrf": {token}, "op": {"purge"}, "all": {"1"}, "confirm": {"1"}, "rule": {strings.Repeat("r", 300)}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(bad, "rule must be at most") || len(dlq.redriven) != 2 {
		t.Errorf("bad filter: %d, redriven %v\n%s", resp.StatusCode, dlq.redriven, bad)
	}
	resp, _ = post(t, admin, srv.URL+"/ui/dead-letters/bulk", url.Values{"csrf": {token}, "op": {"purge"}, "all": {"1"}, "confirm": {"1"}, "rule": {"crm-rule"}})
	if resp.StatusCode != http.StatusSeeOther || !slices.Equal(dlq.redriven, []uint64{7, 9, 8}) {
		t.Errorf("purge all matching: %d, gone %v", resp.StatusCode, dlq.redriven)
	}
}
