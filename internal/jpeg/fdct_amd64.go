//go:build !purego

package jpeg

// dctInVectors: quantiseVector is SSE2, which every amd64 processor has.
const dctInVectors = true

// quantiseVector is quantiseScalar in SSE2, four lanes at a time: px
// transformed and quantised with recip, into out in row-major order.
//
//go:noescape
func quantiseVector(px *[64]float32, recip *[64]float32, out *[64]int32)
