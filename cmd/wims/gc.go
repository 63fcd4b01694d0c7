package main

import (
	"log/slog"
	"runtime/debug"
)

// serveGCPercent is the garbage collector's target for `wims serve` when
// GOGC is not set: the heap may grow to five times what is live before a
// collection, not twice. Most of what wims allocates dies within one
// event's handling, so collecting less often costs memory, not work: in a
// burst of 4,000 orders the server's peak RSS rose from about 210 MB to
// 400 MB and its CPU per order fell 8 % (BENCHMARKS.md). GOGC, if set,
// wins, as does GOMEMLIMIT's ceiling, which the runtime enforces either
// way.
const serveGCPercent = 400

// tuneGC sets serveGCPercent unless gogc (GOGC's value) says otherwise,
// and returns the percent in force.
func tuneGC(gogc string, log *slog.Logger) int {
	if gogc != "" {
		p := debug.SetGCPercent(-1) // reads the percent as the runtime took it from GOGC
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(serveGCPercent)
	log.Debug("garbage collector target set", "gcPercent", serveGCPercent)
	return serveGCPercent
}
