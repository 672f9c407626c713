//go:build !purego

package jpeg

// foldInVectors: idctFold4Vector is SSE2, which every amd64 processor has.
const foldInVectors = true

// idctFold4Vector is idctFold4Scalar in SSE2, the same sums and the same
// roundings, to the 4×4 pixels at dst, stride apart.
//
//go:noescape
func idctFold4Vector(b *[65]int32, dst *byte, stride int)
