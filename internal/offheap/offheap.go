// Package offheap holds large buffers of plain numbers (no pointers)
// outside the Go heap, mapped on their own with huge pages asked for and
// unmapped the moment they are freed, and keeps the garbage collector's
// soft memory limit net of them: the process's memory stays within the
// limit the server sets, whichever side of the heap a buffer lives on.
//
// A progressive JPEG's coefficients are such a buffer: tens of megabytes,
// walked once per scan, needed only until the last scan. On the heap its
// first walk faults in small pages one by one, and it stays resident
// until a collection finds it unused.
package offheap

import (
	"runtime/debug"
	"sync"
)

// Big is the size from which Int16s maps a buffer of its own; smaller
// ones come from the heap.
const Big = 16 << 20

var (
	mu     sync.Mutex
	limit  int64 = -1 // the collector's limit asked for with SetLimit; -1 before
	mapped int64      // bytes mapped here now
)

// SetLimit sets the collector's soft memory limit to n less what is
// mapped here, and keeps it so as buffers come and go.
func SetLimit(n int64) {
	mu.Lock()
	defer mu.Unlock()
	limit = n
	apply()
}

// Mapped is how many bytes of buffers are mapped now.
func Mapped() int64 {
	mu.Lock()
	defer mu.Unlock()
	return mapped
}

// track counts size bytes mapped (negative: unmapped).
func track(size int64) {
	mu.Lock()
	defer mu.Unlock()
	mapped += size
	apply()
}

// apply sets the limit; mu is held. It never goes below a quarter of what
// was asked: a heap squeezed to nothing would collect without end.
func apply() {
	if limit >= 0 {
		debug.SetMemoryLimit(max(limit-mapped, limit/4))
	}
}
