//go:build !linux

package offheap

// Int16s returns n zeroed int16s and the function that gives their memory
// back (here the collector does: they are on the heap).
func Int16s(n int) ([]int16, func()) { return make([]int16, n), func() {} }
