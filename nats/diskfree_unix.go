//go:build unix

package nats

import "golang.org/x/sys/unix"

// freeBytes is the space available to unprivileged writers on dir's file
// system; ok is false when it cannot be known.
func freeBytes(dir string) (uint64, bool) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}
