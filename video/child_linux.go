package video

import "syscall"

// childAttr kills the child with this process: it never outlives it,
// whatever kills this one.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
