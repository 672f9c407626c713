//go:build !amd64 || purego

package encode

// rowsInVectors: no vector kernel on this architecture; weighRows sums
// one sample at a time, and resizePlane resamples across first.
const rowsInVectors = false

func weighRows16(d *uint8, n int, src *uint8, stride int, w *int32, taps int) {
	panic("encode: no vector kernel")
}

func acrossRows4Vector(dst *uint8, w int, src *uint8, stride int, tx *taps) {
	panic("encode: no vector kernel")
}
