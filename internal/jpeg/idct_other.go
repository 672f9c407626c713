//go:build !amd64 || purego

package jpeg

// idctInVectors: no vector inverse transforms on this architecture.
const idctInVectors = false

func idctFold4Vector(b *[65]int32, dst *byte, stride int) { panic("jpeg: no vector transform") }

func idctFullVector(b *[64]int32, dst *byte, stride int) { panic("jpeg: no vector transform") }
