package jpeg

import (
	"math/rand/v2"
	"testing"
)

// The reader gives back exactly the bits that were stuffed (each FF byte
// followed by 00), read in pieces of any size, across many windows, and
// stops at the marker after them: end is the marker, the bits after it
// are zeros, and over turns true a little after the end (the reader
// holds up to 8 bytes ahead), not before.
func TestBitReaderUnstuffs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{0, 1, 7, window - 1, window, window + 1, 5*window + 123} {
		// Bytes rich in FF, so that stuffed pairs fall on every edge.
		plain := make([]byte, size)
		for i := range plain {
			if rng.IntN(3) == 0 {
				plain[i] = 0xff
			} else {
				plain[i] = byte(rng.IntN(256))
			}
		}
		var data []byte
		data = append(data, 0x12, 0x34) // bytes before the scan's data
		for _, c := range plain {
			data = append(data, c)
			if c == 0xff {
				data = append(data, 0x00)
			}
		}
		marker := len(data)
		data = append(data, 0xff, 0xd9, 0xff, 0x00, 0xaa) // EOI, then bytes the reader must not see

		var b bitReader
		b.start(data, 2)
		if got := b.marker(); got != marker {
			t.Errorf("%d bytes: marker() = %d before reading; want %d", size, got, marker)
		}
		bit := 0 // bits read so far
		for bit < 8*size {
			n := 1 + rng.IntN(16)
			n = min(n, 8*size-bit)
			got := b.read(n)
			var want uint32
			for i := range n {
				k := bit + i
				want = want<<1 | uint32(plain[k/8]>>(7-k%8)&1)
			}
			if got != want {
				t.Fatalf("%d bytes: %d bits at bit %d = %#x; want %#x", size, n, bit, got, want)
			}
			bit += n
			if b.over() {
				t.Fatalf("%d bytes: over() at bit %d, before the end", size, bit)
			}
		}
		for range 4 {
			if v := b.read(16); v != 0 {
				t.Fatalf("%d bytes: past the end read %#x; want zeros", size, v)
			}
		}
		if b.over() {
			t.Errorf("%d bytes: over() 8 bytes past the end; want a little slack", size)
		}
		for range 16 {
			b.read(16)
		}
		if !b.over() {
			t.Errorf("%d bytes: over() still false 48 bytes past the end", size)
		}
		if b.end() != marker || b.marker() != marker {
			t.Errorf("%d bytes: end() = %d, marker() = %d; want %d", size, b.end(), b.marker(), marker)
		}
	}
}
