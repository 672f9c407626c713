//go:build !purego

package encode

// rowsInVectors: weighRows16 is SSE2, which every amd64 processor has.
const rowsInVectors = true

// weighRows16 is weighRows for n samples, n a positive multiple of 16,
// from taps rows stride apart whose weights w holds in pairs (pairUp).
//
//go:noescape
func weighRows16(d *uint8, n int, src *uint8, stride int, w *int32, taps int)
