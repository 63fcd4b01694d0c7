package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
)

// WriteText writes rep as an aligned, human-readable table.
func WriteText(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	if rep.Interrupted {
		p("interrupted", "partial report (%.3fs of load); end-to-end latency and inventory check skipped or cut short", rep.Seconds)
	}
	p("mode", "%s", rep.Mode)
	p("url", "%s", rep.URL)
	if rep.Concurrency > 0 {
		p("concurrency", "%d", rep.Concurrency)
	}
	if rep.TargetRate > 0 {
		p("target rate", "%g orders/s", rep.TargetRate)
	}
	p("orders sent", "%d in %.3fs (%.1f/s)", rep.Sent, rep.Seconds, rep.SentPerS)
	p("accepted", "%d (%.1f/s)", rep.Accepted, rep.AcceptedPerS)
	keys := make([]string, 0, len(rep.Statuses))
	for k := range rep.Statuses {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		x, errA := strconv.Atoi(a)
		y, errB := strconv.Atoi(b)
		if errA != nil || errB != nil {
			return len(b) - len(a) // "error" last
		}
		return x - y
	})
	for _, k := range keys {
		p("  status "+k, "%d", rep.Statuses[k])
	}
	a := rep.Accept
	p("accept latency", "p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms  (n=%d)", a.P50, a.P90, a.P99, a.Max, a.N)
	e := func(name string, x *EndToEnd) {
		if x == nil {
			return
		}
		if x.Reached == 0 {
			p(name, "no sampled order got there (sampled %d)", x.Sampled)
			return
		}
		src := ""
		if x.Source != "" {
			src = ", from " + x.Source
		}
		rate := ""
		if x.PerSecond > 0 {
			rate = fmt.Sprintf(", %.1f/s", x.PerSecond)
		}
		p(name, "p50 %.1fms  p99 %.1fms  max %.1fms  (%d of %d sampled%s%s)", x.P50, x.P99, x.Max, x.Reached, x.Sampled, src, rate)
	}
	e("accept → RESERVED", rep.Reserved)
	e("accept → PAID", rep.Paid)
	if d := rep.Drain; d != nil {
		reached := func(sec, ratio float64) string {
			if sec == 0 {
				return "not reached (timed out)"
			}
			return fmt.Sprintf("%.2fs = %.2f × the accept time", sec, ratio)
		}
		p("accepted in", "%.2fs", d.AcceptSeconds)
		p("all RESERVED after", "%s", reached(d.AllReservedSeconds, d.ReservedRatio))
		p("all PAID after", "%s", reached(d.AllPaidSeconds, d.PaidRatio))
	}
	if inv := rep.Inventory; inv != nil {
		p("inventory "+inv.SKU, "before %d, ordered %d, sold (2xx) %d", inv.Before, inv.Ordered, inv.Sold)
		p("  shown at once", "%d (%.1f%% of sold)", inv.AtOnce, inv.AtOncePct)
		p("  shown after 500ms", "%d (%.1f%% of sold)", inv.After500ms, inv.After500msPc)
	}
	return tw.Flush()
}
