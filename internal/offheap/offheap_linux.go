package offheap

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Int16s returns n zeroed int16s and the function that gives their memory
// back; nothing may use them after it. From Big bytes they are mapped
// outside the heap.
func Int16s(n int) ([]int16, func()) {
	size := 2 * n
	if size < Big {
		return make([]int16, n), func() {}
	}
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]int16, n), func() {}
	}
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // a hint: small pages work too
	track(int64(size))
	var once sync.Once
	return unsafe.Slice((*int16)(unsafe.Pointer(&mem[0])), n), func() {
		once.Do(func() {
			_ = unix.Munmap(mem)
			track(-int64(size))
		})
	}
}
