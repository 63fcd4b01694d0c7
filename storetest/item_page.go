package storetest

import (
	"fmt"
	"testing"

	"github.com/wims/wims"
)

// testItemPage covers the ItemPager: pages of a limit follow one another
// by SKU in ListItems' order, without gaps or repeats, and the last page
// is short (then empty).
func testItemPage(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Parallel()
	s := open(t)
	p, ok := s.(wims.ItemPager)
	if !ok {
		t.Fatalf("%T does not implement wims.ItemPager", s)
	}
	// Mixed case and digits: byte order puts "B" before "a".
	for i := range 7 {
		mustPutItem(t, s, fmt.Sprintf("PAGE-%02d", i), int64(i))
	}
	mustPutItem(t, s, "page-lower", 1)
	all, err := s.ListItems(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for range len(all) + 2 {
		page, err := p.ListItemsAfter(t.Context(), after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page after %q has %d items, limit 3", after, len(page))
		}
		for _, it := range page {
			got = append(got, it.SKU)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].SKU
	}
	var want []string
	for _, it := range all {
		want = append(want, it.SKU)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages of 3: %v, ListItems: %v", got, want)
	}
	if page, err := p.ListItemsAfter(t.Context(), want[len(want)-1], 3); err != nil || len(page) != 0 {
		t.Fatalf("after the last SKU: %v %v", page, err)
	}
	if page, err := p.ListItemsAfter(t.Context(), "", 0); err != nil || len(page) != 1 || page[0].SKU != want[0] {
		t.Fatalf("limit 0 (clamped to 1): %v %v", page, err)
	}
}
