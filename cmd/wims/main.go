// Command wims is the Warehouse Inventory Management System: `wims serve`
// runs the whole system in one process; the other commands test rules, run
// the mock payments API and talk to a running server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
