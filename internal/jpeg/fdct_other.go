//go:build !amd64 || purego

package jpeg

// dctInVectors: no vector transform on this architecture.
const dctInVectors = false

func quantiseVector(px *[64]float32, recip *[64]float32, out *[64]int32) {
	panic("jpeg: no vector transform")
}
