package jpeg

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// bigCoefficients is the size from which a progressive frame's
// coefficients are kept outside the Go heap.
const bigCoefficients = 16 << 20

// newCoefficients returns n zeroed coefficients and the function that
// gives their memory back. A large set is mapped on its own, asking for
// huge pages: each scan walks all of it, and the first walk would
// otherwise fault in tens of thousands of small pages one by one (the
// first scan of a 12 MP photo took longer than the rest together). It
// holds no pointers, so the collector need not see it, and it goes back
// to the system as soon as the last scan is done instead of waiting for a
// collection.
func newCoefficients(n int) ([]int16, func()) {
	size := 2 * n
	if size < bigCoefficients {
		return make([]int16, n), func() {}
	}
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]int16, n), func() {}
	}
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // a hint: small pages work too
	return unsafe.Slice((*int16)(unsafe.Pointer(&mem[0])), n), func() { _ = unix.Munmap(mem) }
}
