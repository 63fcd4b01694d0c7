package console_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/wims/wims"
)

var (
	skuRowRE  = regexp.MustCompile(`<tr data-sku="([^"]+)">`)
	sparkRE   = regexp.MustCompile(`aria-label="Stock of ([^,]+), up to the last 10 minutes"><polyline points="([^"]*)"`)
	nextRE    = regexp.MustCompile(`<a href="([^"]+)" rel="next">Next</a>`)
	afterOfRE = regexp.MustCompile(`name="after" value="([^"]+)"`)
)

// TestConsoleInventoryPages: 250 SKUs (and the seeded MacGuffin) come in
// keyset pages of 100 by SKU, each SKU once, with a Next link but on the
// last page; every row of a later page has its sparkline, and the page's
// stream follows that page's stock; an adjust on page 2 returns to page 2.
func TestConsoleInventoryPages(t *testing.T) {
	srv, db := newConsole(t)
	ctx := context.Background()
	for i := range 250 {
		if _, err := db.PutItem(ctx, wims.Item{SKU: fmt.Sprintf("PG-%03d", i), ProductName: "P", Model: "M", Quantity: int64(i), LowStockThreshold: 1}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.ListItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	var seen []string
	u := srv.URL + "/ui/inventory"
	var pages []string
	for range 5 {
		resp, page := get(t, c, u)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
		pages = append(pages, page)
		rows := skuRowRE.FindAllStringSubmatch(page, -1)
		if len(rows) > 100 {
			t.Fatalf("page %d has %d rows", len(pages), len(rows))
		}
		plots := map[string]string{}
		for _, m := range sparkRE.FindAllStringSubmatch(page, -1) {
			plots[m[1]] = m[2]
		}
		for _, m := range rows {
			seen = append(seen, m[1])
			if plots[m[1]] == "" {
				t.Errorf("page %d: %s has no sparkline", len(pages), m[1])
			}
		}
		m := nextRE.FindStringSubmatch(page)
		if m == nil {
			break
		}
		u = srv.URL + strings.ReplaceAll(m[1], "&amp;", "&")
	}
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3", len(pages))
	}
	var want []string
	for _, it := range all {
		want = append(want, it.SKU)
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("pages list %d SKUs %v…, want %d", len(seen), seen[:3], len(want))
	}
	second := pages[1]
	if !strings.Contains(second, `data-stream="/ui/stream?after=`) || !strings.Contains(second, `>First</a>`) {
		t.Error("page 2 has no stream of its own or no link to the first page")
	}
	if strings.Contains(pages[0], `>First</a>`) {
		t.Error("the first page links to itself")
	}
	after := afterOfRE.FindStringSubmatch(second)
	if after == nil {
		t.Fatal("page 2's forms do not carry the page")
	}
	if after[1] != want[99] {
		t.Fatalf("page 2 starts after %q, want %q", after[1], want[99])
	}
	// The stream of page 2 sends the plots of page 2's SKUs.
	resp, err := c.Get(srv.URL + "/ui/stream?stock=1&after=" + after[1])
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	var got strings.Builder
	for !strings.Contains(got.String(), "\n\n") {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if ev := got.String(); !strings.Contains(ev, `"`+want[100]+`":`) || strings.Contains(ev, `"`+want[0]+`":`) {
		t.Errorf("page 2's stream does not carry page 2's stock: %.300s", ev)
	}
	if resp, _ := get(t, c, srv.URL+"/ui/inventory?after="+strings.Repeat("x", 65)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a cursor longer than any SKU: %d, want 400", resp.StatusCode)
	}
	resp, _ = post(t, c, srv.URL+"/ui/inventory/"+want[150]+"/adjust", map[string][]string{
		"csrf": {csrfOf(t, second)}, "delta": {"1"}, "reason": {"restock"}, "after": {after[1]}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "after="+after[1]) {
		t.Errorf("adjust on page 2: %d → %q, want back to page 2", resp.StatusCode, loc)
	}
}
