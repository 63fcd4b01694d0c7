//go:build !unix

package nats

// freeBytes cannot tell the free space here: recovery is simply retried.
func freeBytes(string) (uint64, bool) { return 0, false }
