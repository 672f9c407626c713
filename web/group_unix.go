//go:build unix

package web

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// canGroup says whether a group can write to its members here.
const canGroup = true

// writeNow writes pieces to the socket behind fd with one non-blocking
// writev(2) and returns how many bytes it took: fewer than all when its
// buffer is full (or the write failed), which its stream then deals with
// under its own deadline.
func writeNow(fd syscall.RawConn, pieces [][]byte) int {
	n := 0
	err := fd.Control(func(s uintptr) {
		k, err := unix.Writev(int(s), pieces)
		if err == nil {
			n = k
		}
	})
	if err != nil {
		return 0
	}
	return n
}
