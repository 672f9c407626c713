//go:build !unix

package web

import "syscall"

// canGroup says whether a group can write to its members here: not
// without writev(2), so each stream writes its own.
const canGroup = false

func writeNow(syscall.RawConn, [][]byte) int { return 0 }
