package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
)

// The waterfall draws each span under its parent, children by start time,
// and at most journeySpans of them.
func TestWaterfallLayout(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	spans := []wims.Span{ // by start time, as TraceReader answers
		{SpanID: "a", Name: "root", Start: at(0), End: at(100)},
		{SpanID: "b", ParentID: "a", Name: "first child", Start: at(10), End: at(20)},
		{SpanID: "c", ParentID: "zz", Name: "orphan", Start: at(15), End: at(30)}, // its parent is not kept
		{SpanID: "d", ParentID: "a", Name: "second child", Start: at(40), End: at(50)},
		{SpanID: "e", ParentID: "b", Name: "grandchild", Start: at(60), End: at(70)},
		{SpanID: "f", ParentID: "g", Name: "cycle 1", Start: at(80), End: at(90)},
		{SpanID: "g", ParentID: "f", Name: "cycle 2", Start: at(85), End: at(90)},
	}
	w := newWaterfall("t", spans)
	var got []string
	for _, b := range w.Bars {
		got = append(got, fmt.Sprint(b.Name, "@", b.Depth))
	}
	if want := "[root@0 first child@1 grandchild@2 second child@1 orphan@0 cycle 1@0 cycle 2@1]"; fmt.Sprint(got) != want {
		t.Errorf("bars %v, want %s", got, want)
	}
	if w.Bars[0].X != wfLeft || w.Bars[0].W != wfRight-wfLeft {
		t.Errorf("the root spans the axis: x %v w %v", w.Bars[0].X, w.Bars[0].W)
	}
	if w.Summary != "7 spans over 100.0 ms" {
		t.Errorf("summary %q", w.Summary)
	}

	many := []wims.Span{{SpanID: "root", Name: "root", Start: t0, End: at(1)}}
	for i := range journeySpans + 50 {
		many = append(many, wims.Span{SpanID: fmt.Sprint(i), ParentID: "root", Name: strings.Repeat("x", 60), Start: t0, End: t0})
	}
	w = newWaterfall("t", many)
	if len(w.Bars) != journeySpans || !strings.HasSuffix(w.Summary, ", 51 not drawn") {
		t.Errorf("%d bars, summary %q", len(w.Bars), w.Summary)
	}
	if b := w.Bars[1]; b.W != 1 || len([]rune(b.Name)) != 38 || !strings.HasSuffix(b.Name, "…") {
		t.Errorf("an instant span with a long name: %+v", b)
	}
}
