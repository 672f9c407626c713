package jpeg

import (
	"encoding/binary"
	"math"
)

// MaxScans is the most scans a JPEG may have. Each scan of a progressive
// JPEG walks every block of the image, so a small file with thousands of
// tiny scans costs minutes of CPU; encoders write around ten, and
// libjpeg-turbo's tools stop at 500.
const MaxScans = 300

// zigzag maps the order coefficients are coded in to their place in the
// block (row-major).
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// aanWeight is the dequantisation weight of frequency k along one axis.
func aanWeight(k int) float64 {
	if k == 0 {
		return 1 / math.Sqrt2
	}
	return math.Cos(float64(k) * math.Pi / 16)
}

func mulAAN(x int32, k int64) int32 { return int32((int64(x)*k + 1<<(aanBits-1)) >> aanBits) }

// Reduced transforms by folding. A pixel of a decode at 1/s (N = 8/s
// pixels a block side) is the average of the s×s full-size pixels it
// replaces. Along one axis that average of the k-th basis function is
// cos((2n+1)kπ/2N) · D(k), D(k) = (1/s) Σ_j cos((2j+1-s)kπ/16): the
// N-point basis at the block's centres, damped by D. Each of the eight
// N-point cosines equals ± one of the first N, or is zero (k = 4 at 1/2),
// so a block's 64 coefficients fold into N×N, weights and signs taken
// into the dequantisation, and an N-point inverse DCT of the folded block
// gives the averages. At 1/2 the 4-point transform is done with two
// multiplications (the others are folded too); at 1/4 and 1/8 with none.
// This is the same arithmetic libjpeg's reduced transforms approximate.

// foldBits is the fixed-point precision of folded coefficients.
const foldBits = 12

// fold says, for a decode at 1/2^shift, where each coefficient (in coding
// order, k) lands in the folded block and with what weight. Slot N·N
// gathers the coefficients that weigh nothing.
type fold struct {
	n      int
	slot   [64]uint8
	weight [64]float64
}

var folds = [4]*fold{nil, newFold(4), newFold(2), newFold(1)}

// tanPi8 is the one constant the 4-point transform multiplies by, in 16
// fractional bits.
var tanPi8 = int64(math.Round(math.Tan(math.Pi/8) * (1 << 16)))

func newFold(n int) *fold {
	s := 8 / n
	// How the N-point transform below scales each folded frequency: the
	// factor it leaves out of its basis.
	beta := map[int][]float64{
		4: {1, math.Cos(math.Pi / 8), math.Sqrt2 / 2, math.Cos(math.Pi / 8)},
		2: {1, math.Sqrt2 / 2},
		1: {1},
	}[n]
	var to [8]int         // the folded frequency of each frequency
	var weight [8]float64 // and its weight along one axis
	for k := range 8 {
		var d float64
		for j := range s {
			d += math.Cos(float64(2*j+1-s) * float64(k) * math.Pi / 16)
		}
		d /= float64(s)
		c := 1.0
		if k == 0 {
			c = 1 / math.Sqrt2
		}
		basis := func(k int) []float64 {
			b := make([]float64, n)
			for i := range b {
				b[i] = math.Cos(float64(2*i+1) * float64(k) * math.Pi / float64(2*n))
			}
			return b
		}
		own := basis(k)
		for kk := range n {
			for _, sign := range []float64{1, -1} {
				same := true
				for i, v := range basis(kk) {
					same = same && math.Abs(own[i]-sign*v) < 1e-9
				}
				if same && weight[k] == 0 {
					to[k], weight[k] = kk, 0.5*c*d*sign*beta[kk]
				}
			}
		}
	}
	f := &fold{n: n}
	for k, z := range zigzag {
		u, v := int(z)>>3, int(z)&7
		w := weight[u] * weight[v]
		if math.Abs(w) < 1e-12 {
			f.slot[k] = uint8(n * n)
			continue
		}
		f.slot[k] = uint8(n*to[u] + to[v])
		f.weight[k] = w
	}
	return f
}

// dequant fills d.wq[tq] and d.slot for a decode at d.shift: the
// quantisation table in coding order, for the full-size transform; with
// the fold's weights in foldBits fixed point, for a reduced one.
func (d *jpegDec) dequant(tq int) {
	q := &d.quant[tq]
	w := &d.wq[tq]
	f := folds[d.shift]
	for k, z := range zigzag {
		if f == nil {
			d.slot[k] = z
			w[k] = int32(fix(float64(q[z]) * aanWeight(int(z)>>3) * aanWeight(int(z)&7) / 4))
			continue
		}
		d.slot[k] = f.slot[k]
		w[k] = int32(math.Round(float64(q[z]) * f.weight[k] * (1 << foldBits)))
	}
}

// Segments calls fn with each marker segment before the first scan
// (ITU T.81, B.1.1.4): its marker and payload. It stops where fn returns
// false, at the first scan or at anything malformed.
func Segments(b []byte, fn func(marker byte, payload []byte) bool) {
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xff {
			return
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return
		}
		if !fn(marker, b[i+4:i+2+n]) {
			return
		}
		i += 2 + n
	}
}
