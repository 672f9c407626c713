//go:build !linux

package video

import "syscall"

// childAttr: elsewhere the child is killed when its context ends.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
