//go:build !purego

package jpeg

// idctInVectors: idctFold4Vector and idctFullVector are SSE2, which every
// amd64 processor has.
const idctInVectors = true

// idctFold4Vector is idctFold4Scalar in SSE2, the same sums and the same
// roundings, to the 4×4 pixels at dst, stride apart.
//
//go:noescape
func idctFold4Vector(b *[65]int32, dst *byte, stride int)

// idctFullVector is idctFull in SSE2, four lanes at a time, the same
// sums, products (mulAAN's, to the bit) and roundings, to the 8×8 pixels
// at dst, stride apart.
//
//go:noescape
func idctFullVector(b *[64]int32, dst *byte, stride int)
