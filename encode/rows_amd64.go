//go:build !purego

package encode

import "unsafe"

// rowsInVectors: weighRows16 is SSE2, which every amd64 processor has.
const rowsInVectors = true

// weighRows16 is weighRows for n samples, n a positive multiple of 16,
// from taps rows stride apart whose weights w holds in pairs (pairUp).
//
//go:noescape
func weighRows16(d *uint8, n int, src *uint8, stride int, w *int32, taps int)

// acrossRows4Vector is acrossRows4Scalar for taps with their weights in
// eighths: four rows of w outputs from four rows of src, stride apart,
// eight weights at a time.
//
//go:noescape
func acrossRows4Vector(dst *uint8, w int, src *uint8, stride int, tx *taps)

// Where rows_amd64.s finds a tap's fields.
const (
	_, _ = uint(unsafe.Offsetof(taps{}.at8) - 56), uint(56 - unsafe.Offsetof(taps{}.at8))
	_, _ = uint(unsafe.Offsetof(taps{}.w8) - 64), uint(64 - unsafe.Offsetof(taps{}.w8))
	_, _ = uint(unsafe.Sizeof(taps{}) - 88), uint(88 - unsafe.Sizeof(taps{}))
)
