package offheap

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// A big buffer is zeroed and usable, and while it is mapped the
// collector's limit is that much lower; freeing it (twice does no harm)
// gives the limit back. A small one comes from the heap and changes
// nothing.
func TestBigBuffersCountAgainstTheLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	const asked = 1 << 30
	SetLimit(asked)
	if got := debug.SetMemoryLimit(-1); got != asked {
		t.Fatalf("limit %d; want %d", got, asked)
	}

	n := Big/2 + 1000 // just over Big bytes
	buf, free := Int16s(n)
	if len(buf) != n {
		t.Fatalf("len %d; want %d", len(buf), n)
	}
	for i := 0; i < n; i += 4096 {
		if buf[i] != 0 {
			t.Fatalf("buf[%d] = %d; want zeroed memory", i, buf[i])
		}
		buf[i] = int16(i)
	}
	if buf[n-1] != 0 {
		t.Fatalf("last = %d; want zeroed memory", buf[n-1])
	}
	buf[n-1] = -7
	onHeap := runtime.GOOS != "linux"
	want := int64(asked - 2*n)
	if onHeap {
		want = asked
	}
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Errorf("limit with %d bytes mapped: %d; want %d", 2*n, got, want)
	}
	if !onHeap && Mapped() != int64(2*n) {
		t.Errorf("Mapped() = %d; want %d", Mapped(), 2*n)
	}
	free()
	free()
	if got := debug.SetMemoryLimit(-1); got != asked || Mapped() != 0 {
		t.Errorf("after free: limit %d, mapped %d; want %d and 0", got, Mapped(), asked)
	}

	small, free := Int16s(100)
	small[99] = 1
	if Mapped() != 0 || debug.SetMemoryLimit(-1) != asked {
		t.Errorf("a small buffer changed the accounts: mapped %d", Mapped())
	}
	free()

	// The limit never drops below a quarter of what was asked, however
	// much is mapped.
	SetLimit(Big)
	big, free := Int16s(Big)
	if got := debug.SetMemoryLimit(-1); !onHeap && got != Big/4 {
		t.Errorf("limit with more mapped than asked: %d; want %d", got, Big/4)
	}
	big[0] = 1
	free()
}
