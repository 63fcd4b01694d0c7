package main

import (
	"net/http"

	"github.com/wims/wims/console"
	wimshttp "github.com/wims/wims/http"
)

// newConsole returns the web console over the API's store, behind the
// API's keys.
func (a *App) newConsole(opt wimshttp.Options) *console.Handler {
	var patterns func([]byte) ([]byte, error)
	if a.crypt != nil { // v1 has no events to encrypt
		patterns = a.crypt.RewritePattern
	}
	return console.New(console.Options{
		Store: opt.Store, APIKeys: opt.APIKeys, Logger: a.log.With("component", "console"),
		Events: opt.Events, DeadLetters: opt.DeadLetters, Platform: opt.Platform, Schemas: opt.Schemas, Traces: opt.Traces,
		Stats:    consoleStats(opt.Registry, a.cfg.PaymentsRate),
		Patterns: patterns,
	})
}

// closeStreamsOnShutdown ends the console's event streams as soon as the
// HTTP server starts shutting down, so an open browser tab does not hold
// up the shutdown for the whole grace period.
func (a *App) closeStreamsOnShutdown(con *console.Handler) {
	a.httpSrv.RegisterOnShutdown(con.CloseStreams)
}

// withConsole serves the console (GET /, and everything under /ui) before
// next, which would answer its own 404 for /. It wraps the whole handler,
// so the wire APIs' POST / still reaches them through next.
func withConsole(con http.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if console.IsConsoleRequest(r) {
			con.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
